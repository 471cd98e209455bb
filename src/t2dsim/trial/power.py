"""Monte Carlo power of the primary endpoint.

:func:`power_curve` repeats "simulate a trial with n patients per arm, analyse the primary endpoint
by ANCOVA" ``reps`` times for each ``n`` and reports the share of trials with a two-sided p-value
below ``alpha`` (per non-reference arm), with a Wilson 95% Monte Carlo interval, as a table and a
Plotly figure. It only needs a function returning a results long table, so it works with the full
simulator or with any stand-in.

Seeds: replicate ``r`` at size ``n`` uses ``SeedSequence([seed, n, r])``, so adding sizes or
replicates never changes the trials already drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from t2dsim.core.intervals import wilson_ci
from t2dsim.trial.statistics import ancova, endpoint_frame

__all__ = ["PowerResult", "power_curve", "power_curve_for_protocol", "replicate_seed"]

SimulateFn = Callable[[int, int], "pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]"]


@dataclass(frozen=True)
class PowerResult:
    """Power table and figure.

    Attributes:
        table: one row per (n_per_arm, arm): ``n_per_arm, arm, reference, reps, n_significant, power,
            ci_low, ci_high`` (Wilson interval for the Monte Carlo error), ``mean_estimate``
            (mean ANCOVA effect), ``n_failed`` (replicates whose analysis failed, counted as not significant).
        figure: Plotly figure of power against n per arm with the MC intervals.
    """

    table: pd.DataFrame
    figure: go.Figure


def replicate_seed(seed: int, n: int, rep: int) -> int:
    """The seed of replicate ``rep`` at ``n`` patients per arm (a 63-bit int)."""
    return int(np.random.SeedSequence([seed, n, rep]).generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))


def power_curve(
    simulate_fn: SimulateFn,
    n_values: Sequence[int],
    reps: int,
    seed: int,
    *,
    endpoint: tuple[str, float] | Any = ("hba1c_percent", 12.0),
    reference_arm: str = "placebo",
    alpha: float = 0.05,
    missing: Literal["complete_case", "locf"] = "complete_case",
    target_power: float = 0.8,
    progress: Callable[[int, int], None] | None = None,
) -> PowerResult:
    """Monte Carlo power curve of the primary endpoint.

    Args:
        simulate_fn: ``simulate_fn(n_per_arm, seed)`` -> results long table (or ``(results, patients)``).
        n_values: patients per arm to evaluate (positive ints).
        reps: simulated trials per size (>= 1).
        seed: master seed.
        endpoint: ``(measure, visit_month)`` or an ``EndpointSpec``.
        reference_arm: control arm.
        alpha: two-sided significance level.
        missing: missing-data rule of the analysis.
        target_power: drawn as a reference line on the figure.
        progress: optional callback ``progress(done, total)`` after each simulated trial.
    """
    if reps < 1:
        raise ValueError(f"reps = {reps}: allowed range >= 1")
    ns = [int(n) for n in n_values]
    if not ns or min(ns) < 1:
        raise ValueError(f"n_values = {list(n_values)}: need positive integers")
    measure, visit = (
        (endpoint[0], float(endpoint[1]))
        if isinstance(endpoint, tuple)
        else (
            endpoint.measure,
            float(endpoint.visit_month),
        )
    )
    total, done = len(ns) * reps, 0
    rows = []
    for n in ns:
        sig: dict[str, int] = {}
        est: dict[str, list[float]] = {}
        failed: dict[str, int] = {}
        arms_seen: list[str] = []
        for r in range(reps):
            out = simulate_fn(n, replicate_seed(seed, n, r))
            results = out[0] if isinstance(out, tuple) else out
            try:
                eff = ancova(endpoint_frame(results, measure, visit, missing=missing), reference_arm, alpha).effects
            except ValueError:
                eff = None
            arms = [a for a in pd.unique(results["arm"]) if a != reference_arm]
            for a in arms:
                if a not in arms_seen:
                    arms_seen.append(a)
                sig.setdefault(a, 0)
                failed.setdefault(a, 0)
                est.setdefault(a, [])
            if eff is None:
                for a in arms:
                    failed[a] += 1
            else:
                for row in eff.itertuples():
                    sig[row.arm] += bool(row.p_value < alpha)
                    est[row.arm].append(row.estimate)
                for a in set(arms) - set(eff["arm"]):
                    failed[a] += 1
            done += 1
            if progress is not None:
                progress(done, total)
        for a in arms_seen:
            lo, hi = wilson_ci(sig[a], reps)
            rows.append(
                {
                    "n_per_arm": n,
                    "arm": a,
                    "reference": reference_arm,
                    "reps": reps,
                    "n_significant": sig[a],
                    "power": sig[a] / reps,
                    "ci_low": lo,
                    "ci_high": hi,
                    "mean_estimate": float(np.mean(est[a])) if est[a] else float("nan"),
                    "n_failed": failed[a],
                }
            )
    table = pd.DataFrame(rows)
    return PowerResult(table=table, figure=power_figure(table, measure, visit, alpha, target_power))


def power_figure(table: pd.DataFrame, measure: str, visit: float, alpha: float, target_power: float = 0.8) -> go.Figure:
    """Plotly figure of a power table (power vs n per arm, Wilson MC intervals)."""
    fig = go.Figure()
    for arm, d in table.groupby("arm", sort=False):
        fig.add_trace(
            go.Scatter(
                x=d["n_per_arm"],
                y=d["power"],
                mode="lines+markers",
                name=f"{arm} vs {d['reference'].iloc[0]}",
                error_y=dict(
                    type="data", symmetric=False, array=d["ci_high"] - d["power"], arrayminus=d["power"] - d["ci_low"]
                ),
            )
        )
    fig.add_hline(y=target_power, line_dash="dot", annotation_text=f"{target_power:.0%}")
    fig.update_layout(
        title=f"Power: change in {measure} at month {visit:g}, ANCOVA, two-sided alpha = {alpha:g}",
        xaxis_title="patients per arm",
        yaxis_title="power",
        yaxis_range=[0, 1.02],
        template="plotly_white",
    )
    return fig


def power_curve_for_protocol(
    protocol: Any,
    simulate_fn: SimulateFn,
    n_values: Sequence[int],
    reps: int,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PowerResult:
    """:func:`power_curve` with endpoint, reference arm, alpha and missing-data rule from a Protocol.

    ``seed`` defaults to the protocol's randomisation seed.
    """
    return power_curve(
        simulate_fn,
        n_values,
        reps,
        protocol.randomisation.seed if seed is None else seed,
        endpoint=protocol.endpoints.primary,
        reference_arm=protocol.reference_arm,
        alpha=protocol.analysis.alpha,
        missing=protocol.analysis.missing,
        progress=progress,
    )
