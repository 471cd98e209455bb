"""The report's plain figure specs (report.figures) against plotly.graph_objects, the reference they replace
for speed: the same layout JSON as make_subplots / update_layout / add_vline for the same figure."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from t2dsim.report.figures import axis_refs, figure, subplot_grid, vline
from t2dsim.report.page import figure_div


def _layout(fig: go.Figure) -> dict:
    lay = fig.to_plotly_json()["layout"]
    lay.pop("template", None)
    return lay


@pytest.mark.parametrize(
    ("rows", "cols", "n_titles", "vspace"),
    [(1, 1, 1, None), (3, 1, 3, 0.5 / 3), (3, 2, 5, 0.12), (4, 3, 12, 0.05), (2, 2, 0, None), (7, 1, 7, 0.5 / 7)],
)
def test_subplot_grid_equals_make_subplots(rows, cols, n_titles, vspace):
    titles = [f"panel {i}" for i in range(n_titles)]
    ref = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, vertical_spacing=vspace)
    assert subplot_grid(rows, cols, titles, vertical_spacing=vspace) == _layout(ref)


def test_traces_land_on_the_axes_make_subplots_gives_them():
    ref = make_subplots(rows=3, cols=2)
    for r in (1, 2, 3):
        for c in (1, 2):
            ref.add_trace(go.Scatter(x=[0], y=[r * 10 + c]), row=r, col=c)
            got = axis_refs(r, c, 2)
            trace = ref.to_plotly_json()["data"][-1]
            assert got == {"xaxis": trace.get("xaxis", "x"), "yaxis": trace.get("yaxis", "y")}


def test_vline_equals_add_vline():
    ref = make_subplots(rows=2, cols=1)
    ref.add_trace(go.Scatter(x=[1], y=["a"]), row=2, col=1)
    ref.add_vline(x=0, line_dash="dot", row=2, col=1)
    assert [vline(0, 2, 1, 1)] == ref.to_plotly_json()["layout"]["shapes"]


def test_figure_layout_equals_update_layout():
    ref = go.Figure()
    ref.update_layout(barmode="stack", title="Patient flow", yaxis_title="patients", xaxis_title="month")
    spec = figure(barmode="stack", title="Patient flow", yaxis_title="patients", xaxis_title="month")
    assert spec == {"data": [], "layout": _layout(ref)}


def test_figure_div_renders_a_spec_as_the_same_figure_object_would():
    spec = figure(title="t", yaxis_title="y")
    spec["data"].append({"name": "a", "x": [1, 2], "y": [3, 4], "type": "bar"})
    ref = go.Figure(go.Bar(name="a", x=[1, 2], y=[3, 4]))
    ref.update_layout(title="t", yaxis_title="y", template="plotly_white")
    got, want = figure_div(spec, "f1", template="plotly_white"), figure_div(ref, "f1")
    assert _plot_args(got) == _plot_args(want)  # data, layout (with the template) and config, key order aside
    assert got.split("Plotly.newPlot")[0] == want.split("Plotly.newPlot")[0]


def _plot_args(div: str) -> list:
    """The JSON arguments of the div's ``Plotly.newPlot(id, data, layout, config)`` call."""
    body = div.split("Plotly.newPlot(", 1)[1]
    dec = json.JSONDecoder()
    out, i = [], 0
    while len(out) < 4:
        while body[i] in " ,\n\t":
            i += 1
        obj, i = dec.raw_decode(body, i)
        out.append(obj)
    return out


def test_bad_grid_is_refused():
    with pytest.raises(ValueError, match="rows >= 1"):
        subplot_grid(0, 1)
