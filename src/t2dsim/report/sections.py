"""Report sections, each rendering part of a :class:`~t2dsim.trial.analysis.TrialAnalysis` (no statistics here)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.core.registry import therapy_kinds
from t2dsim.physiology.glycation import HBA1C_DERIVATION, HBA1C_DERIVATION_MEAL_DAYS, HBA1C_LIMITS
from t2dsim.report.figures import FigureSpec, as_array, axis_refs, figure, subplot_grid, vline
from t2dsim.report.page import (
    _esc,
    _fmt_p,
    _Page,
    _rgba,
    _table,
    measure_label,
)
from t2dsim.trial.analysis import TrialAnalysis, format_p, format_value
from t2dsim.trial.measurement import MEASURES

# sections
# ----------------------------------------------------------------------------------------------


def _flow_section(page: _Page, analysis: TrialAnalysis, screening: Mapping[str, Any] | None) -> None:
    flow = analysis.flow
    prim = analysis.settings["primary"]
    body = ""
    if screening:
        items = "".join(f"<li>{_esc(k)}: {_esc(v)}</li>" for k, v in screening.items())
        body += f"<h3>Screening</h3><ul>{items}</ul>"
    body += _table(flow, "{:.3g}")
    body += (
        f'<p class="note">Analysed = baseline and month-{prim["visit_month"]:g} value of {_esc(prim["measure"])} '
        f"present (missing-data rule: {_esc(analysis.settings['missing'])}).</p>"
    )
    fig = figure(barmode="stack", title="Patient flow", yaxis_title="patients")
    for name, col, colour in (("completed", "completed", "#2ca02c"), ("dropped out", "dropped out", "#d62728")):
        x, y = as_array(flow["arm"]), as_array(flow[col])
        fig["data"].append({"marker": {"color": colour}, "name": name, "x": x, "y": y, "type": "bar"})
    body += page.fig(fig, 320)
    page.add("flow", "Patient flow", body)


def _baseline_section(page: _Page, analysis: TrialAnalysis) -> None:
    page.add("baseline", "Baseline characteristics by arm", _table(analysis.baseline))
    tab = analysis.baseline_targets
    if tab is None or tab.empty:
        return
    tol = analysis.settings.get("baseline_tolerance", {"mean_sd": 0.1, "sd_fraction": 0.1})
    shown = tab.assign(**{"within tolerance": tab["within tolerance"].map({True: "yes", False: "NO"})})
    note = (
        f'<p class="note">The protocol requested these baseline distributions; the cohort was matched to them from '
        f"its eligible candidates (all randomised patients, true values). Tolerance: mean within "
        f"{tol['mean_sd']:g} requested SD, SD within {100 * tol['sd_fraction']:g} %.</p>"
    )
    page.add("baseline-targets", "Requested vs achieved baseline", _table(shown, "{:.3g}") + note)


def _band_traces(
    fig: FigureSpec,
    s: pd.DataFrame,
    arm: str,
    colour: str,
    row: int | None = None,
    col: int | None = None,
    legend: bool = True,
    cols: int = 1,
) -> None:
    axes = axis_refs(row, col or 1, cols) if row is not None else {}
    x = s["visit_month"].to_numpy()
    lo, hi = s["ci_low"].to_numpy(), s["ci_high"].to_numpy()
    fig["data"].append(
        {
            "fill": "toself",
            "fillcolor": _rgba(colour, 0.18),
            "hoverinfo": "skip",
            "legendgroup": arm,
            "line": {"width": 0},
            "mode": "lines",
            "showlegend": False,
            "x": np.concatenate([x, x[::-1]]),
            "y": np.concatenate([hi, lo[::-1]]),
            "type": "scatter",
            **axes,
        }
    )
    fig["data"].append(
        {
            "customdata": np.column_stack([s["n"].to_numpy(), lo, hi]),
            "hovertemplate": "month %{x}: mean %{y:.3g} "
            "(95% CI %{customdata[1]:.3g} to %{customdata[2]:.3g}), n=%{customdata[0]}<extra>"
            + html.escape(arm)
            + "</extra>",
            "legendgroup": arm,
            "line": {"color": colour},
            "mode": "lines+markers",
            "name": arm,
            "showlegend": legend,
            "x": x,
            "y": s["mean"].to_numpy(),
            "type": "scatter",
            **axes,
        }
    )


def _trajectory_section(
    page: _Page,
    analysis: TrialAnalysis,
    arms: list[str],
    colours: dict[str, str],
    measures: list[str],
    glycation: str = "fasting_line",
) -> None:
    summ = analysis.trajectories
    parts = []
    for m in measures:
        d = summ.loc[summ["measure"] == m]
        if d.empty:
            continue
        fig = figure(title=f"{measure_label(m)}: mean and 95% CI", xaxis_title="month", yaxis_title=measure_label(m))
        for a in arms:
            s = d.loc[d["arm"] == a].sort_values("visit_month")
            if not s.empty:
                _band_traces(fig, s, a, colours[a])
        parts.append(page.fig(fig, 380))
    body = '<div class="grid2">' + "".join(parts) + "</div>"
    body += (
        '<p class="note">Observed values at each visit (patients still in the trial); t-based 95% CI of the mean.</p>'
    )
    if "hba1c_percent" in measures:
        body += hba1c_note(glycation)
    page.add("trajectories", "Mean trajectories", body)


def hba1c_note(glycation: str = "fasting_line") -> str:
    """How the model derives HbA1c under the protocol's ``glycation`` setting and its known limits
    (physiology.glycation), as a report note."""
    limits = "".join(f"<li>{_esc(x)}</li>" for x in HBA1C_LIMITS)
    text = HBA1C_DERIVATION_MEAL_DAYS if glycation == "meal_days" else HBA1C_DERIVATION
    return (
        f'<div class="note hba1c-derivation"><b>How HbA1c is derived</b> (glycation = {_esc(glycation)}). '
        f"{_esc(text)}<br><b>Known limits.</b><ul>{limits}</ul></div>"
    )


def _endpoint_section(page: _Page, analysis: TrialAnalysis) -> None:
    ref = analysis.settings["reference_arm"]
    if "endpoints" in analysis.problems:
        msg = analysis.problems["endpoints"]
        page.add("endpoints", "Endpoints", f'<p class="note">Endpoint analysis not possible: {_esc(msg)}</p>')
        return
    tab = analysis.endpoints
    if tab.empty:  # a single-arm protocol (e.g. a single-arm validation case) has no comparison to show
        page.add("endpoints", "Endpoints", '<p class="note">No comparison between arms: the protocol has one arm.</p>')
        return
    level = 100 * (1 - analysis.settings["alpha"])
    ci_label, pi_label = analysis.interval_labels()
    show = pd.DataFrame(
        {
            "endpoint": tab["endpoint"],
            "role": tab["role"],
            "comparison": tab["arm"] + " vs " + tab["reference"],
            "n (arm / ref)": tab["n"].astype(str) + " / " + tab["n_reference"].astype(str),
            "adj. mean change, arm": tab["arm_adj_mean_change"],
            "adj. mean change, ref": tab["ref_adj_mean_change"],
            "difference": [format_value(x) for x in tab["estimate"]],
            ci_label: [
                f"{format_value(lo)} to {format_value(hi)}"
                for lo, hi in zip(tab["ci_low"], tab["ci_high"], strict=True)
            ],
            "p-value": [format_p(p) for p in tab["p_value"]],
        }
    )
    if analysis.n_draws:
        show[pi_label] = [
            f"{format_value(lo)} to {format_value(hi)}" for lo, hi in zip(tab["pi_low"], tab["pi_high"], strict=True)
        ]
    body = _table(show)
    if analysis.n_draws:
        body += (
            f'<p class="note"><b>Two intervals.</b> The <b>{_esc(ci_label)}</b> is the ANCOVA interval of the '
            "central run (calibrated central parameters): how much the difference would move with other patients. "
            f"The <b>{_esc(pi_label)}</b> is the 2.5&ndash;97.5 % range of the same difference over posterior draws "
            "of the stem-cell parameters on these same patients: how much it moves with what the calibration leaves "
            f"uncertain. They answer different questions and are not combined. {_esc(analysis.posterior_note())}</p>"
        )
    if tab["endpoint"].astype(str).str.contains("HbA1c").any():
        body += (
            '<p class="note">HbA1c is the model\'s glycation state, not a measured CGM quantity: see '
            '<a href="#trajectories">how HbA1c is derived and its known limits</a> (e.g. GMI and laboratory HbA1c '
            "differ by &ge; 0.5 %-points in about 28 % of people, Bergenstal et al. 2018).</p>"
        )
    body += (
        '<p class="note">ANCOVA of change from baseline with baseline as covariate (change ~ arm + baseline), '
        f"treatment coding against <b>{_esc(ref)}</b>; adjusted means at the overall mean baseline; "
        f"two-sided {level:g}% CIs and p-values, not adjusted for multiplicity. An endpoint whose baseline is the "
        "same for every patient (e.g. CGM time below range before anyone takes insulin) is compared without the "
        "baseline term (change ~ arm).</p>"
    )
    endpoints = list(pd.unique(tab["endpoint"]))
    fig = figure(
        title=f"Treatment effects: difference in change from baseline ({level:g}% CI"
        + (", posterior PI as the shaded band)" if analysis.n_draws else ")"),
        legend={"orientation": "h", "y": -0.15},
        **subplot_grid(len(endpoints), 1, endpoints, vertical_spacing=0.5 / max(len(endpoints), 1)),
    )
    shapes = []
    for i, e in enumerate(endpoints):
        d = tab.loc[tab["endpoint"] == e]
        est = d["estimate"].to_numpy()
        labels = as_array(d["arm"] + " vs " + d["reference"])
        axes = axis_refs(i + 1, 1, 1)
        if analysis.n_draws:
            fig["data"].append(
                {
                    "error_x": {
                        "array": d["pi_high"].to_numpy() - est,
                        "arrayminus": est - d["pi_low"].to_numpy(),
                        "color": "rgba(217,130,43,0.55)",
                        "symmetric": False,
                        "thickness": 6,
                        "type": "data",
                        "width": 0,
                    },
                    "hovertemplate": "%{y}: PI %{x:.3g}<extra></extra>",
                    "marker": {"color": "rgba(217,130,43,0.55)", "size": 8, "symbol": "square"},
                    "mode": "markers",
                    "name": pi_label,
                    "showlegend": i == 0,
                    "x": est,
                    "y": labels,
                    "type": "scatter",
                    **axes,
                }
            )
        fig["data"].append(
            {
                "error_x": {
                    "array": d["ci_high"].to_numpy() - est,
                    "arrayminus": est - d["ci_low"].to_numpy(),
                    "symmetric": False,
                    "type": "data",
                },
                "hovertemplate": "%{y}: %{x:.3g}<extra></extra>",
                "marker": {"color": "#22324a", "size": 9},
                "mode": "markers",
                "name": ci_label,
                "showlegend": i == 0,
                "x": est,
                "y": labels,
                "type": "scatter",
                **axes,
            }
        )
        shapes.append(vline(0, i + 1, 1, 1))
    fig["layout"]["shapes"] = shapes
    body += page.fig(fig, 110 + 150 * len(endpoints))
    page.add("endpoints", "Endpoints", body)


def _responder_section(page: _Page, analysis: TrialAnalysis, arms: list[str], colours: dict[str, str]) -> None:
    if "responders" in analysis.problems:
        msg = analysis.problems["responders"]
        page.add("responders", "Responders", f'<p class="note">Responder analysis not possible: {_esc(msg)}</p>')
        return
    if analysis.responders.empty:
        page.add("responders", "Responders", '<p class="note">No responder definitions in the protocol.</p>')
        return
    tab = analysis.responders
    show = pd.DataFrame(
        {
            "responder": tab["responder"],
            "arm": tab["arm"],
            "k / n": tab["k"].astype(str) + " / " + tab["n"].astype(str),
            "share": [f"{100 * s:.1f}%" for s in tab["share"]],
            "95% CI (Wilson)": [
                f"{100 * lo:.1f} to {100 * hi:.1f}%" for lo, hi in zip(tab["ci_low"], tab["ci_high"], strict=True)
            ],
            "difference vs ref": ["" if pd.isna(d) else f"{100 * d:+.1f} pts" for d in tab["diff_vs_reference"]],
            "95% CI (Newcombe)": [
                "" if pd.isna(lo) else f"{100 * lo:.1f} to {100 * hi:.1f}"
                for lo, hi in zip(tab["diff_ci_low"], tab["diff_ci_high"], strict=True)
            ],
            "p (Fisher)": [_fmt_p(p) for p in tab["p_value"]],
        }
    )
    fig = figure(barmode="group", title="Responder shares (95% Wilson CI)", yaxis_title="% of patients")
    for a in arms:
        d = tab.loc[tab["arm"] == a]
        share, lo, hi = (d[c].to_numpy() for c in ("share", "ci_low", "ci_high"))
        fig["data"].append(
            {
                "error_y": {
                    "array": 100 * (hi - share),
                    "arrayminus": 100 * (share - lo),
                    "symmetric": False,
                    "type": "data",
                },
                "marker": {"color": colours[a]},
                "name": a,
                "x": as_array(d["responder"]),
                "y": 100 * share,
                "type": "bar",
            }
        )
    body = _table(show) + page.fig(fig, 380)
    body += '<p class="note">Patients without a value at the responder visit count as non-responders.</p>'
    page.add("responders", "Responders", body)


def _individual_section(
    page: _Page, results: pd.DataFrame, arms: list[str], colours: dict[str, str], measure: str, per_arm: int, seed: int
) -> None:
    d = results.loc[(results["measure"] == measure) & results["value"].notna()]
    fig = figure(
        title=f"{measure_label(measure)}: random sample of up to {per_arm} patients per arm",
        xaxis_title="month",
        yaxis_title=measure_label(measure),
    )
    rng = np.random.default_rng(seed)
    for a in arms:
        ids = np.sort(pd.unique(d.loc[d["arm"] == a, "patient_id"]))
        pick = np.sort(rng.choice(ids, size=min(per_arm, ids.size), replace=False)) if ids.size else ids
        first = True
        for pid in pick:
            s = d.loc[(d["arm"] == a) & (d["patient_id"] == pid)].sort_values("visit_month")
            fig["data"].append(
                {
                    "hovertemplate": f"patient {pid}: " + "%{y:.3g} at month %{x}<extra>" + html.escape(a) + "</extra>",
                    "legendgroup": a,
                    "line": {"color": colours[a], "width": 1},
                    "marker": {"size": 4},
                    "mode": "lines+markers",
                    "name": a,
                    "opacity": 0.7,
                    "showlegend": first,
                    "x": s["visit_month"].to_numpy(),
                    "y": s["value"].to_numpy(),
                    "type": "scatter",
                }
            )
            first = False
    page.add("individuals", "Individual trajectories", page.fig(fig, 420) + '<p class="note">Lines end at dropout.</p>')


def _mechanism_section(page: _Page, analysis: TrialAnalysis, arms: list[str], colours: dict[str, str]) -> None:
    summ = analysis.trajectories
    mech = [m for m, i in MEASURES.items() if i.kind == "mechanism" and (summ["measure"] == m).any()]
    if not mech:
        page.add(
            "mechanism",
            "Mechanism view",
            '<p class="note">The engine reported no latent-state measures for this run.</p>',
        )
        return
    ncol = 2
    nrow = (len(mech) + 1) // ncol
    grid = subplot_grid(nrow, ncol, [measure_label(m) for m in mech], vertical_spacing=0.12)
    for key, axis in grid.items():
        if key.startswith("xaxis"):
            axis["title"] = {"text": "month"}
    fig = figure(title="Mechanism: latent model states (mean and 95% CI)", **grid)
    for i, m in enumerate(mech):
        r, c = i // ncol + 1, i % ncol + 1
        for a in arms:
            s = summ.loc[(summ["measure"] == m) & (summ["arm"] == a)].sort_values("visit_month")
            if not s.empty:
                _band_traces(fig, s, a, colours[a], row=r, col=c, legend=(i == 0), cols=ncol)
    body = page.fig(fig, 320 * nrow)
    body += (
        '<p class="note">Model states that cannot be measured in a real trial: native beta-cell mass and function, '
        "insulin sensitivity, inflammation and graft beta-cell mass. They show why the clinical measures move.</p>"
    )
    page.add("mechanism", "Mechanism view", body)


def _risk_html(x: Any) -> str:
    """A risk given as text or as an object with ``name``, ``description`` and optional ``rate``,
    ``rate_low``, ``rate_high``, ``period``, ``severity``, ``source`` (e.g. ``therapies.base.Risk``)."""
    if isinstance(x, str):
        return _esc(x)
    name = getattr(x, "name", None) or str(x)
    out = f"<b>{_esc(name)}</b>"
    desc = getattr(x, "description", "")
    if desc:
        out += f": {_esc(desc)}"
    rate = getattr(x, "rate", None)
    if rate is not None:
        lo, hi = getattr(x, "rate_low", None), getattr(x, "rate_high", None)
        ci = f" (95% CI {100 * lo:.2g} to {100 * hi:.2g}%)" if lo is not None and hi is not None else ""
        period = getattr(x, "period", "")
        out += f" &mdash; {100 * rate:.2g}%{ci}" + (f" per {_esc(period)}" if period else "")
    sev = getattr(x, "severity", "")
    if sev:
        out += f" [{_esc(sev)}]"
    src = getattr(x, "source", "")
    if src:
        out += f' <span class="note">({_esc(src)})</span>'
    return out


def _risks_section(page: _Page, protocol: Any, risks: Mapping[str, Sequence[Any]] | None) -> None:
    reg = therapy_kinds()
    body = ""
    for arm in protocol.arms:
        items = []
        for t in arm.treatment:
            lst = list((risks or {}).get(t.kind, getattr(reg.get(t.kind), "risks", ()) or ()))
            txt = (
                "<ul>" + "".join(f"<li>{_risk_html(x)}</li>" for x in lst) + "</ul>"
                if lst
                else " <i>no risks listed</i>"
            )
            items.append(f"<li><b>{_esc(t.kind)}</b>{txt}</li>")
        body += f"<h3>{_esc(arm.name)}</h3><ul class='risks'>{''.join(items) or '<li>no treatment</li>'}</ul>"
    body += (
        '<p class="note">Known or theoretical risks of each therapy, listed for context. Not exhaustive, not simulated '
        "unless stated elsewhere, and not a safety assessment.</p>"
    )
    page.add("risks", "Risks by therapy", body)
