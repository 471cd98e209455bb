"""Self-contained HTML trial report (Plotly bundled inline, no network)."""

from t2dsim.report.html import build_report_html, figure_div, write_report

__all__ = ["build_report_html", "figure_div", "write_report"]
