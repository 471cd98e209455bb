"""Page building blocks of the report: escaped tables, readable numbers, labels, colours, figure divs."""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative

from t2dsim.trial.analysis import format_p
from t2dsim.trial.measurement import MEASURES

SectionContent = str | go.Figure | Sequence["str | go.Figure"]
FigureSpec = dict[str, Any]  # {"data": [...], "layout": {...}}: see t2dsim.report.figures


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


HOUSE_TEMPLATE = "plotly_white"  # the report's figure style (a Plotly template name)


def figure_div(fig: go.Figure | FigureSpec, div_id: str, height_px: int = 420, template: str | None = None) -> str:
    """HTML ``<div>`` for a Plotly figure (a ``go.Figure`` or a plain spec of :mod:`t2dsim.report.figures`),
    relying on the page's inline plotly.js (no CDN).

    ``template``: a Plotly template name written into the figure's JSON here (the figure's own template,
    if any, is replaced). Setting it on the figure instead (``update_layout(template=...)``) makes Plotly
    validate the whole template again for every figure, about 12 ms each.
    """
    kw: dict[str, Any] = {
        "full_html": False,
        "include_plotlyjs": False,
        "div_id": div_id,
        "default_height": f"{height_px}px",
        "config": {"displaylogo": False, "responsive": True},
    }
    if isinstance(fig, go.Figure):
        if template is None:
            return fig.to_html(**kw)
        spec = fig.to_plotly_json()
    else:
        spec = fig
    layout = dict(spec.get("layout", {}))
    if template is not None:
        layout["template"] = _template_json(template)
    return pio.to_html({"data": spec.get("data", []), "layout": layout}, validate=False, **kw)


@functools.cache
def _template_json(name: str) -> dict[str, Any]:
    """The JSON of a Plotly template (built once per process; Plotly's template registry is read-only here)."""
    return pio.templates[name].to_plotly_json()


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _table(df: pd.DataFrame, float_fmt: str = "{:.3g}") -> str:
    """An escaped HTML table (pandas ``to_html`` with our class)."""
    if df.empty:
        return '<p class="note">(no data)</p>'
    fmt = {c: (lambda v, f=float_fmt: "" if pd.isna(v) else f.format(v)) for c in df.select_dtypes("float").columns}
    return df.to_html(index=False, escape=True, classes="t2d", border=0, formatters=fmt, na_rep="")


def _readable(v: Any) -> Any:
    """A float rounded for reading (4 significant digits); anything else unchanged."""
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    return v


def measure_label(m: str) -> str:
    """Display label of a measure: its name and unit (``HbA1c (%)``)."""
    info = MEASURES.get(m)
    return f"{info.label} ({info.unit})" if info else m


def _fmt_p(p: float) -> str:
    return format_p(p)


def _arm_colours(arms: Sequence[str]) -> dict[str, str]:
    pal = qualitative.D3
    return {a: pal[i % len(pal)] for i, a in enumerate(arms)}


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


class _Page:
    """Collects sections and unique figure ids."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, str, str]] = []  # (anchor, title, html)
        self._n = 0

    def fig(self, fig: go.Figure | FigureSpec, height_px: int = 420, template: str | None = HOUSE_TEMPLATE) -> str:
        """A numbered figure ``<div>``; the report's own figures get the house template, figures a caller
        passes in (``extra_sections``) keep their own (``template=None``)."""
        self._n += 1
        return f'<div class="plot">{figure_div(fig, f"fig{self._n}", height_px, template)}</div>'

    def add(self, anchor: str, title: str, body: str) -> None:
        self.sections.append((anchor, title, body))

    def content(self, c: SectionContent) -> str:
        if isinstance(c, go.Figure):
            return self.fig(c, template=None)
        if isinstance(c, str):
            return c
        return "\n".join(self.content(x) for x in c)


# ----------------------------------------------------------------------------------------------
