"""Trial statistics on the results long table.

Input everywhere is the long table with columns ``arm, patient_id, visit_month, measure, value``
(``run_id`` optional), whatever engine produced it. Missing visits are simply absent rows (or NaN
values).

* :func:`endpoint_frame`: per-patient baseline, follow-up value and change for one measure/visit.
* :func:`ancova`: ANCOVA of change from baseline, ``change ~ arm + baseline`` (ordinary least squares,
  treatment coding against a reference arm); adjusted differences with t-based 95% CIs and p-values,
  and least-squares (adjusted) means per arm at the overall mean baseline.
* :func:`analyse_endpoints`: the endpoint table of a protocol.
* :func:`responder_table`: responder shares with Wilson score CIs, differences against the reference
  arm with Newcombe's hybrid score CI (Newcombe 1998, method 10) and Fisher's exact p-value.
* :func:`trajectory_summary`: mean, SD and t-based 95% CI per arm, measure and visit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from t2dsim.core.exact_tests import fisher_exact_two_sided
from t2dsim.core.intervals import wilson_ci

__all__ = [
    "AncovaResult",
    "analyse_endpoints",
    "ancova",
    "endpoint_frame",
    "newcombe_diff_ci",
    "responder_table",
    "trajectory_summary",
    "wilson_ci",
]

LONG_COLUMNS = ("arm", "patient_id", "visit_month", "measure", "value")
#: A long table, or a function giving one measure's long rows (e.g. read from a chunked run's parts, so
#: the whole table is never in memory); the endpoint and responder analyses read one measure at a time.
Rows = pd.DataFrame | Callable[[str], pd.DataFrame]


def rows_of(results: Rows, measure: str) -> pd.DataFrame:
    """The long rows holding ``measure`` (the whole table when ``results`` is a table: callers filter)."""
    return results(measure) if callable(results) else results


def _check_long(results: pd.DataFrame) -> None:
    missing = [c for c in LONG_COLUMNS if c not in results.columns]
    if missing:
        raise ValueError(f"results table lacks column(s) {missing}; required: {list(LONG_COLUMNS)}")


def endpoint_frame(
    results: pd.DataFrame,
    measure: str,
    visit_month: float,
    baseline_month: float = 0.0,
    missing: Literal["complete_case", "locf"] = "complete_case",
) -> pd.DataFrame:
    """Per-patient baseline, value at ``visit_month`` and change, for one measure.

    Args:
        results: long table (see module docstring).
        measure: measure name.
        visit_month: follow-up visit (months).
        baseline_month: baseline visit (months), default 0.
        missing: ``complete_case`` keeps patients observed at both visits; ``locf`` carries the last
            observed value at or before ``visit_month`` (baseline included) forward.

    Returns:
        DataFrame with columns ``arm, patient_id, baseline, value, change`` (one row per patient
        with a baseline value and, after the missing-data rule, a follow-up value), sorted by arm
        then patient.
    """
    _check_long(results)
    d = results.loc[(results["measure"] == measure) & results["value"].notna(), list(LONG_COLUMNS)]
    if d.empty:
        raise ValueError(f"no values for measure {measure!r} in the results table")
    base = d.loc[np.isclose(d["visit_month"], baseline_month), ["arm", "patient_id", "value"]]
    base = base.rename(columns={"value": "baseline"})
    if missing == "complete_case":
        fu = d.loc[np.isclose(d["visit_month"], visit_month), ["arm", "patient_id", "value"]]
    elif missing == "locf":
        upto = d.loc[d["visit_month"] <= visit_month + 1e-9].sort_values(["arm", "patient_id", "visit_month"])
        fu = upto.groupby(["arm", "patient_id"], as_index=False, sort=False).last()[["arm", "patient_id", "value"]]
    else:
        raise ValueError(f"missing = {missing!r}; allowed: 'complete_case', 'locf'")
    out = base.merge(fu, on=["arm", "patient_id"], how="inner")
    out["change"] = out["value"] - out["baseline"]
    return out.sort_values(["arm", "patient_id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class AncovaResult:
    """Result of :func:`ancova`.

    Attributes:
        effects: one row per non-reference arm: ``arm, reference, n, n_reference, estimate`` (adjusted
            difference in mean change, arm minus reference, in the measure's unit), ``se, ci_low,
            ci_high, t, p_value, df``.
        lsmeans: one row per arm: ``arm, n, mean_change`` (raw), ``adj_mean_change, se, ci_low, ci_high``
            (least-squares mean at the overall mean baseline).
        baseline_slope: coefficient of baseline (change per unit baseline); NaN when the baseline was
            constant and left out.
        baseline_slope_se: its standard error (NaN likewise).
        residual_sd: root mean squared error.
        df_resid: residual degrees of freedom.
        alpha: two-sided level of the CIs.
    """

    effects: pd.DataFrame
    lsmeans: pd.DataFrame
    baseline_slope: float
    baseline_slope_se: float
    residual_sd: float
    df_resid: int
    alpha: float


def ancova(
    frame: pd.DataFrame,
    reference_arm: str,
    alpha: float = 0.05,
    arms: Sequence[str] | None = None,
) -> AncovaResult:
    """ANCOVA of change from baseline with baseline as covariate (OLS, treatment coding).

    Model: ``change_i = b0 + sum_a d_a [arm_i = a] + b1 * baseline_i + e_i``, ``e_i ~ N(0, s^2)``,
    with ``a`` over the non-reference arms. Equivalent to the statsmodels formula
    ``change ~ C(arm, Treatment(reference)) + baseline``. A baseline that is the same for every analysed
    patient (e.g. CGM time below range measured before anyone takes insulin: 0 %) carries no information and
    would make the design singular: the covariate is then left out (``change ~ C(arm, Treatment(reference))``)
    and ``baseline_slope`` is NaN.

    Args:
        frame: output of :func:`endpoint_frame` (columns ``arm, baseline, change``).
        reference_arm: control arm.
        alpha: two-sided level (0.05 gives 95% CIs).
        arms: arm order for the output (default: reference first, then sorted).

    Raises:
        ValueError: reference arm absent, too few patients, or a singular design.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha = {alpha} outside the allowed range (0, 1)")
    f = frame.loc[frame["change"].notna() & frame["baseline"].notna()]
    present = list(pd.unique(f["arm"]))
    if reference_arm not in present:
        raise ValueError(f"reference arm {reference_arm!r} has no analysable patients; arms present: {present}")
    if arms is None:
        arms = [reference_arm] + sorted(a for a in present if a != reference_arm)
    else:
        arms = [a for a in arms if a in present]
        arms = [reference_arm] + [a for a in arms if a != reference_arm]
    others = arms[1:]
    arm_col = f["arm"].to_numpy()
    y = f["change"].to_numpy(dtype=np.float64)
    b = f["baseline"].to_numpy(dtype=np.float64)
    n = y.size
    adjusted = bool(np.ptp(b) > 0)  # a constant baseline is collinear with the intercept: no covariate
    p = 1 + len(others) + int(adjusted)
    if n <= p:
        raise ValueError(f"ANCOVA needs more patients ({n}) than parameters ({p})")
    X = np.empty((n, p))
    X[:, 0] = 1.0
    for j, a in enumerate(others):
        X[:, 1 + j] = arm_col == a
    if adjusted:
        X[:, -1] = b
    # QR solve (numerically stable); singular design -> clear error
    q, r = np.linalg.qr(X)
    if np.min(np.abs(np.diag(r))) < 1e-10 * np.max(np.abs(np.diag(r))):
        raise ValueError("ANCOVA design is singular (e.g. constant baseline or an empty arm)")
    beta = np.linalg.solve(r, q.T @ y)
    resid = y - X @ beta
    df = n - p
    s2 = float(resid @ resid) / df
    rinv = np.linalg.solve(r, np.eye(p))
    cov = s2 * (rinv @ rinv.T)
    tcrit = special.stdtrit(df, 1 - alpha / 2)  # Student t quantile (what scipy.stats.t.ppf computes)
    counts = {a: int(np.sum(arm_col == a)) for a in arms}

    rows = []
    for j, a in enumerate(others):
        est = beta[1 + j]
        se = float(np.sqrt(cov[1 + j, 1 + j]))
        t = est / se
        rows.append(
            {
                "arm": a,
                "reference": reference_arm,
                "n": counts[a],
                "n_reference": counts[reference_arm],
                "estimate": float(est),
                "se": se,
                "ci_low": float(est - tcrit * se),
                "ci_high": float(est + tcrit * se),
                "t": float(t),
                "p_value": float(2 * special.stdtr(df, -abs(t))),  # two-sided: 2 × t survival function
                "df": df,
            }
        )
    effects = pd.DataFrame(
        rows,
        columns=[
            "arm",
            "reference",
            "n",
            "n_reference",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "t",
            "p_value",
            "df",
        ],
    )

    mean_b = float(b.mean())
    ls_rows = []
    for j, a in enumerate(arms):
        x = np.zeros(p)
        x[0] = 1.0
        if j > 0:
            x[j] = 1.0
        if adjusted:
            x[-1] = mean_b
        m = float(x @ beta)
        se = float(np.sqrt(x @ cov @ x))
        ls_rows.append(
            {
                "arm": a,
                "n": counts[a],
                "mean_change": float(y[arm_col == a].mean()),
                "adj_mean_change": m,
                "se": se,
                "ci_low": m - tcrit * se,
                "ci_high": m + tcrit * se,
            }
        )
    return AncovaResult(
        effects=effects,
        lsmeans=pd.DataFrame(ls_rows),
        baseline_slope=float(beta[-1]) if adjusted else float("nan"),
        baseline_slope_se=float(np.sqrt(cov[-1, -1])) if adjusted else float("nan"),
        residual_sd=float(np.sqrt(s2)),
        df_resid=int(df),
        alpha=alpha,
    )


def _endpoint_tuple(e: Any) -> tuple[str, float, str]:
    if isinstance(e, tuple):
        measure, visit = e[0], float(e[1])
        label = e[2] if len(e) > 2 else f"{measure}@{visit:g}m"
        return measure, visit, label
    return e.measure, float(e.visit_month), getattr(e, "label", f"{e.measure}@{e.visit_month:g}m")


def analyse_endpoints(
    results: Rows,
    endpoints: Iterable[Any],
    reference_arm: str,
    alpha: float = 0.05,
    missing: Literal["complete_case", "locf"] = "complete_case",
    arms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """ANCOVA for each endpoint; one row per (endpoint, non-reference arm).

    Args:
        results: long table, or measure → its long rows (:data:`Rows`).
        endpoints: ``EndpointSpec`` objects (``measure``, ``visit_month``, ``label``) or tuples
            ``(measure, visit_month[, label])``; the first is taken as primary.
        reference_arm: control arm.
        alpha: two-sided level.
        missing: missing-data rule for :func:`endpoint_frame`.
        arms: arm order.

    Returns:
        DataFrame with ``endpoint, role, measure, visit_month`` and the columns of
        :attr:`AncovaResult.effects`, plus ``ref_adj_mean_change`` and ``arm_adj_mean_change``.
    """
    out = []
    for i, e in enumerate(endpoints):
        measure, visit, label = _endpoint_tuple(e)
        fr = endpoint_frame(rows_of(results, measure), measure, visit, missing=missing)
        res = ancova(fr, reference_arm, alpha=alpha, arms=arms)
        eff = res.effects.copy()
        ls = res.lsmeans.set_index("arm")["adj_mean_change"]
        eff["arm_adj_mean_change"] = eff["arm"].map(ls)
        eff["ref_adj_mean_change"] = ls[reference_arm]
        eff.insert(0, "visit_month", visit)
        eff.insert(0, "measure", measure)
        eff.insert(0, "role", "primary" if i == 0 else "secondary")
        eff.insert(0, "endpoint", label)
        out.append(eff)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


# ----------------------------------------------------------------------------------------------
# Proportions
# ----------------------------------------------------------------------------------------------


def newcombe_diff_ci(k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``p1 - p2`` (Newcombe, Stat Med 1998;17:873, method 10)."""
    if n1 == 0 or n2 == 0:
        return (float("nan"), float("nan"))
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_ci(k1, n1, alpha)
    l2, u2 = wilson_ci(k2, n2, alpha)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (float(lo), float(hi))


def _responds(rule: str, value: np.ndarray, baseline: np.ndarray, threshold: float) -> np.ndarray:
    if rule == "value_below":
        return value < threshold
    if rule == "value_at_most":
        return value <= threshold
    if rule == "value_above":
        return value > threshold
    if rule == "change_at_most":
        return (value - baseline) <= threshold
    if rule == "percent_reduction_at_least":
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100.0 * (baseline - value) / baseline
        return np.where(baseline > 0, pct >= threshold, False)
    raise ValueError(
        f"responder rule {rule!r} unknown; allowed: value_below, value_at_most, value_above, "
        "percent_reduction_at_least, change_at_most"
    )


def responder_table(
    results: Rows,
    responders: Iterable[Any],
    reference_arm: str,
    alpha: float = 0.05,
    missing: Literal["non_responder", "complete_case"] = "non_responder",
    arms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Responder shares per arm with Wilson CIs, and differences vs the reference arm.

    Args:
        results: long table, or measure → its long rows (:data:`Rows`).
        responders: ``ResponderSpec`` objects or dicts with ``name, measure, visit_month, rule,
            threshold``.
        reference_arm: control arm.
        alpha: two-sided level.
        missing: ``non_responder`` (patients with a baseline but no value at the visit count as
            non-responders; the usual conservative rule) or ``complete_case``.
        arms: arm order.

    Returns:
        DataFrame: ``responder, arm, n, k, share, ci_low, ci_high, diff_vs_reference, diff_ci_low,
        diff_ci_high, p_value`` (difference columns NaN on the reference arm; p from Fisher's exact
        test of the 2x2 table arm vs reference).
    """
    rows = []
    for r in responders:
        get = r.get if isinstance(r, dict) else (lambda k, _r=r: getattr(_r, k))
        name, measure, visit = get("name"), get("measure"), float(get("visit_month"))
        d = rows_of(results, measure)
        fr = endpoint_frame(d, measure, visit, missing="complete_case")
        fr = fr.assign(resp=_responds(get("rule"), fr["value"].to_numpy(), fr["baseline"].to_numpy(), get("threshold")))
        if missing == "non_responder":
            base = d.loc[
                (d["measure"] == measure) & np.isclose(d["visit_month"], 0.0) & d["value"].notna(),
                ["arm", "patient_id"],
            ]
            fr = base.merge(fr[["arm", "patient_id", "resp"]], on=["arm", "patient_id"], how="left")
            fr["resp"] = fr["resp"].fillna(False).astype(bool)
        elif missing != "complete_case":
            raise ValueError(f"missing = {missing!r}; allowed: 'non_responder', 'complete_case'")
        present = list(pd.unique(fr["arm"]))
        order = arms if arms is not None else [reference_arm] + sorted(a for a in present if a != reference_arm)
        counts = {a: (int(fr.loc[fr["arm"] == a, "resp"].sum()), int((fr["arm"] == a).sum())) for a in order}
        k0, n0 = counts.get(reference_arm, (0, 0))
        for a in order:
            k, n = counts[a]
            lo, hi = wilson_ci(k, n, alpha)
            row = {
                "responder": name,
                "arm": a,
                "n": n,
                "k": k,
                "share": k / n if n else float("nan"),
                "ci_low": lo,
                "ci_high": hi,
                "diff_vs_reference": float("nan"),
                "diff_ci_low": float("nan"),
                "diff_ci_high": float("nan"),
                "p_value": float("nan"),
            }
            if a != reference_arm and n and n0:
                dlo, dhi = newcombe_diff_ci(k, n, k0, n0, alpha)
                row.update(
                    diff_vs_reference=k / n - k0 / n0,
                    diff_ci_low=dlo,
                    diff_ci_high=dhi,
                    p_value=_fisher_exact_p([[k, n - k], [k0, n0 - k0]]),
                )
            rows.append(row)
    return pd.DataFrame(rows)


def _fisher_exact_p(table: list[list[int]]) -> float:
    """Two-sided Fisher exact p-value of a 2×2 table (:func:`t2dsim.core.exact_tests.fisher_exact_two_sided`,
    checked against scipy.stats, whose import alone costs about half a second of a trial)."""
    return fisher_exact_two_sided(table)


def trajectory_summary(
    results: pd.DataFrame, measures: Sequence[str] | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Mean, SD, n and t-based CI of the mean per arm, measure and visit (observed values).

    Returns:
        DataFrame ``arm, measure, visit_month, n, mean, sd, se, ci_low, ci_high``.
    """
    _check_long(results)
    d = results.loc[results["value"].notna()]
    if measures is not None:
        d = d.loc[d["measure"].isin(list(measures))]
    g = d.groupby(["arm", "measure", "visit_month"], sort=True)["value"]
    s = g.agg(n="count", mean="mean", sd="std").reset_index()
    s["se"] = s["sd"] / np.sqrt(s["n"])
    tcrit = np.where(s["n"] > 1, special.stdtrit(np.maximum(s["n"].to_numpy() - 1, 1), 1 - alpha / 2), np.nan)
    s["ci_low"] = s["mean"] - tcrit * s["se"]
    s["ci_high"] = s["mean"] + tcrit * s["se"]
    return s
