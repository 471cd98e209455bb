"""The report's Plotly figures as plain figure specs (``{"data": [...], "layout": {...}}``).

Why plain specs rather than ``plotly.graph_objects``: building a figure object validates every property
against Plotly's schema (the schema alone is a 0.1 s JSON load per process), about half of the report's build
time and ≈ 0.3 s of a warm default trial (issue 18, `benchmarks/warm_default_trial.py`). The specs here are
the JSON that ``go.Figure(...).to_plotly_json()`` gives for the same figure; plotly.js draws them the same
way (``page.figure_div`` writes them with ``plotly.io.to_html(..., validate=False)``).

:func:`subplot_grid` lays out a grid of subplots as ``plotly.subplots.make_subplots`` does (same axis
names, domains and title annotations; ``tests/test_report_figures.py`` compares the two).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from t2dsim.report.page import FigureSpec

__all__ = ["FigureSpec", "as_array", "axis_refs", "figure", "subplot_grid", "vline"]


def figure(**layout: Any) -> FigureSpec:
    """An empty figure spec with the given layout properties (``title``, ``barmode``, ...); a string
    ``title`` and ``xaxis_title``/``yaxis_title`` are expanded as Plotly's magic underscores do."""
    lay: dict[str, Any] = {}
    for key, value in layout.items():
        if key in ("xaxis_title", "yaxis_title"):
            lay.setdefault(key.split("_")[0], {})["title"] = {"text": value}
        elif key == "title" and isinstance(value, str):
            lay["title"] = {"text": value}
        else:
            lay[key] = value
    return {"data": [], "layout": lay}


def _axis_suffix(row: int, col: int, cols: int) -> str:
    k = (row - 1) * cols + col
    return "" if k == 1 else str(k)


def axis_refs(row: int, col: int, cols: int) -> dict[str, str]:
    """``xaxis``/``yaxis`` references of a trace in subplot (row, col), 1-based, as make_subplots numbers them
    (row-major from the top-left cell)."""
    s = _axis_suffix(row, col, cols)
    return {"xaxis": f"x{s}", "yaxis": f"y{s}"}


def subplot_grid(
    rows: int,
    cols: int,
    titles: Sequence[str] = (),
    vertical_spacing: float | None = None,
    horizontal_spacing: float | None = None,
) -> dict[str, Any]:
    """Layout properties of a ``rows`` × ``cols`` grid: axes with their domains (fractions of the plot area)
    and one title annotation per entry of ``titles`` (row-major). Defaults as make_subplots: spacing
    0.3/rows vertically and 0.2/cols horizontally."""
    if rows < 1 or cols < 1:
        raise ValueError(f"a subplot grid needs rows >= 1 and cols >= 1 (got {rows} x {cols})")
    v = 0.3 / rows if vertical_spacing is None else vertical_spacing
    h = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
    widths = [(1.0 - h * (cols - 1)) / cols] * cols
    heights = [(1.0 - v * (rows - 1)) / rows] * rows
    lay: dict[str, Any] = {}
    annotations = []
    for r in range(rows):
        rb = rows - 1 - r  # rows are stacked from the bottom, in make_subplots' order of operations
        y0 = min(max(sum(heights[:rb]) + rb * v, 0.0), 1.0)
        y1 = min(max(sum(heights[:rb]) + rb * v + heights[-1 - r], 0.0), 1.0)
        for c in range(cols):
            x0 = sum(widths[:c]) + c * h
            x1 = x0 + widths[c]
            s = _axis_suffix(r + 1, c + 1, cols)
            lay[f"xaxis{s}"] = {"anchor": f"y{s}", "domain": [x0, x1]}
            lay[f"yaxis{s}"] = {"anchor": f"x{s}", "domain": [y0, y1]}
            i = r * cols + c
            if i < len(titles):
                annotations.append(
                    {
                        "font": {"size": 16},
                        "showarrow": False,
                        "text": titles[i],
                        "x": (x0 + x1) / 2.0,
                        "xanchor": "center",
                        "xref": "paper",
                        "y": y1,
                        "yanchor": "bottom",
                        "yref": "paper",
                    }
                )
    if annotations:
        lay["annotations"] = annotations
    return lay


def vline(x: float, row: int, col: int, cols: int, dash: str = "dot") -> dict[str, Any]:
    """A vertical line at ``x`` across subplot (row, col), as ``Figure.add_vline(x, row=, col=)`` draws it."""
    s = _axis_suffix(row, col, cols)
    return {
        "line": {"dash": dash},
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": f"x{s}",
        "y0": 0,
        "y1": 1,
        "yref": f"y{s} domain",
    }


def as_array(values: Any) -> np.ndarray:
    """A NumPy array of a pandas Series, list or array (what Plotly serialises compactly)."""
    return np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
