"""Page building blocks of the report: escaped tables, readable numbers, labels, colours, figure divs."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from t2dsim.trial.analysis import format_p
from t2dsim.trial.measurement import MEASURES

SectionContent = str | go.Figure | Sequence["str | go.Figure"]


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


def figure_div(fig: go.Figure, div_id: str, height_px: int = 420) -> str:
    """HTML ``<div>`` for a Plotly figure, relying on the page's inline plotly.js (no CDN)."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_height=f"{height_px}px",
        config={"displaylogo": False, "responsive": True},
    )


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

    def fig(self, fig: go.Figure, height_px: int = 420) -> str:
        self._n += 1
        return f'<div class="plot">{figure_div(fig, f"fig{self._n}", height_px)}</div>'

    def add(self, anchor: str, title: str, body: str) -> None:
        self.sections.append((anchor, title, body))

    def content(self, c: SectionContent) -> str:
        if isinstance(c, go.Figure):
            return self.fig(c)
        if isinstance(c, str):
            return c
        return "\n".join(self.content(x) for x in c)


# ----------------------------------------------------------------------------------------------
