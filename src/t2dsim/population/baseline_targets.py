"""Baseline targets: a protocol's requested distributions of baseline HbA1c, FPG, BMI, diabetes duration,
insulin dose and fasting C-peptide, held by the enrolled cohort whatever the preset.

Two steps, both deterministic (keyed by seed and patient id):

1. **Placement** (glycaemia of patients on background insulin). A candidate on background insulin gets its own
   target HbA1c (or FPG), a keyed draw from the requested distribution, and its background insulin is re-titrated
   to hold it (:mod:`t2dsim.population.placement`: the quasi-steady insulin need, 4 × 120 days + 30 days of the
   progression model, HbA1c then at its steady state — patients stable on their dose for months, as
   trial entry requires). Patients without background insulin keep their glycaemia. Their HbA1c follows fasting
   glucose with φ = 1 (the background stands for mixed therapy; see :func:`place_glycaemia`).
2. **Matching** (every requested covariate). Among the eligible candidates, ``n`` target points are made: each
   covariate's ``n`` quantiles (k + ½)/n of the requested distribution, assigned to the points in the rank order
   of ``n`` reference candidates (a keyed random subset), so the points have exactly the requested marginals and
   the candidates' own dependence between covariates. Each point, most extreme first, takes the nearest unused
   candidate (distance in units of the requested SDs). The pool is ``baseline_pool_factor`` × n eligible
   candidates; the achieved means and SDs are reported beside the requested ones (:func:`target_table`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from t2dsim.core.rng import keyed_uniform
from t2dsim.physiology.quasi_steady import MIN_TARGET_MGDL, glucose_for_a1c
from t2dsim.population.placement import titrate_background_insulin

__all__ = ["TARGETABLE", "match_targets", "place_glycaemia", "quantiles", "target_moments", "target_table"]

#: Baseline covariates a protocol may request a distribution of (with any preset): name → baseline-table column.
TARGETABLE = (
    "hba1c_percent",
    "fpg_mgdl",
    "bmi_kg_m2",
    "diabetes_duration_years",
    "insulin_u_per_day",
    "insulin_u_per_kg_day",
    "fasting_cpeptide_pmol_l",
)
#: Acceptance of an achieved baseline (issue 14): mean within 0.1 requested SD, SD within 10 %.
MEAN_TOLERANCE_SD = 0.1
SD_TOLERANCE_FRACTION = 0.10


def _frozen(d: Any):
    """The scipy distribution of a protocol distribution spec (normal / lognormal / uniform, truncated)."""
    from scipy import stats  # only protocols with baseline targets need it (about 0.5 s to import)

    if d.dist == "normal":
        lo = -np.inf if d.low is None else (d.low - d.mean) / d.sd
        hi = np.inf if d.high is None else (d.high - d.mean) / d.sd
        return stats.truncnorm(lo, hi, loc=d.mean, scale=d.sd)
    if d.dist == "lognormal":
        base = stats.norm(np.log(d.median), d.sigma_log)
        lo = 0.0 if d.low is None else float(base.cdf(np.log(d.low)))
        hi = 1.0 if d.high is None else float(base.cdf(np.log(d.high)))
        return _Truncated(lambda q: np.exp(base.ppf(q)), lo, hi)
    if d.dist == "uniform":
        return stats.uniform(d.low, d.high - d.low)
    raise ValueError(f"dist {d.dist!r} cannot be a baseline target; allowed: normal, lognormal, uniform")


class _Truncated:
    def __init__(self, ppf, lo: float, hi: float) -> None:
        self._ppf, self._lo, self._hi = ppf, lo, hi

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return self._ppf(self._lo + np.asarray(q) * (self._hi - self._lo))


def quantiles(d: Any, q: np.ndarray) -> np.ndarray:
    """Inverse CDF of the requested (possibly truncated) distribution at levels ``q`` in (0, 1)."""
    return np.asarray(_frozen(d).ppf(np.clip(q, 1e-9, 1 - 1e-9)), dtype=float)


def target_moments(d: Any) -> tuple[float, float]:
    """Mean and SD of the requested distribution (after truncation), from 20 001 quantiles."""
    x = quantiles(d, (np.arange(20001) + 0.5) / 20001)
    return float(x.mean()), float(x.std())


def place_glycaemia(cohort: Any, targets: dict[str, Any], seed: int) -> Any:
    """Re-titrate the background insulin of candidates on it so each holds its own keyed draw of the requested
    HbA1c (or, without an HbA1c target, FPG). Returns the cohort (a new state and background effect)."""
    name = "hba1c_percent" if "hba1c_percent" in targets else "fpg_mgdl" if "fpg_mgdl" in targets else None
    eff = cohort.background_effects
    on = eff.exog_insulin_uuml > 0
    if name is None or not on.any():
        return cohort
    if "insulin_mean_fraction" in cohort.params.values:
        # The background effect stands for mixed glucose-lowering therapy (oral agents ± insulin), so HbA1c follows
        # fasting glucose through the Wei 2014 line (measured in treated T2D) with φ = 1; the progression model's
        # basal-insulin correction (φ 0.6, Riddle 2003) is for added basal insulin and would put HbA1c below
        # ≈ 7.5 % out of reach (the titration would need FPG < 70 mg/dL). Same rule as the stem-cell cases use.
        cohort.params = cohort.params.replace(
            insulin_mean_fraction=np.where(on, 1.0, cohort.params["insulin_mean_fraction"])
        )
    c = cohort.select(np.flatnonzero(on))
    want = quantiles(targets[name], keyed_uniform(seed, c.patient_id, f"baseline:{name}"))

    def target(state, neutral):
        if name == "hba1c_percent":
            return glucose_for_a1c(c.params, state, c.age_years, c.bmi_kg_m2, neutral, want)
        return np.maximum(want, MIN_TARGET_MGDL)

    state, iexo = titrate_background_insulin(c.params, c.state, c.age_years, c.bmi_kg_m2, target)
    x = cohort.state.to_matrix().copy()
    x[on] = state.to_matrix()
    full = cohort.background_effects
    full.exog_insulin_uuml = full.exog_insulin_uuml.copy()
    full.exog_insulin_uuml[on] = iexo
    cohort.state = type(cohort.state).from_matrix(x)
    cohort.effects = full
    return cohort


def match_targets(base: pd.DataFrame, targets: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """Positions (rows of ``base``, the eligible candidates) of the ``n`` enrolled so the requested covariates
    follow ``targets`` (see the module text). Sorted by patient id."""
    names = list(targets)
    if len(base) < n:
        raise ValueError(f"baseline targets: {len(base)} eligible candidates for {n} places")
    mom = {k: target_moments(targets[k]) for k in names}
    x = np.column_stack([(base[k].to_numpy(float) - mom[k][0]) / mom[k][1] for k in names])
    ids = base["patient_id"].to_numpy()
    ref = np.argsort(keyed_uniform(seed, ids, "baseline:reference"), kind="stable")[:n]
    q = (np.arange(n) + 0.5) / n
    z = np.empty((n, len(names)))
    for j, k in enumerate(names):
        rank = np.argsort(np.argsort(x[ref, j], kind="stable"), kind="stable")
        z[:, j] = (quantiles(targets[k], q[rank]) - mom[k][0]) / mom[k][1]
    free = np.ones(len(base), dtype=bool)
    out = np.empty(n, dtype=np.int64)
    for k in np.argsort(-np.abs(z).sum(axis=1), kind="stable"):  # most extreme first: the tails are scarce
        d = np.where(free, ((x - z[k]) ** 2).sum(axis=1), np.inf)
        j = int(np.argmin(d))
        out[k], free[j] = j, False
    return np.sort(out)


def target_table(patients: pd.DataFrame, targets: dict[str, Any]) -> pd.DataFrame:
    """Requested vs achieved baseline (all randomised patients): one row per requested covariate with the
    requested distribution's mean and SD, the achieved mean and SD, and whether they are within the acceptance
    (mean within 0.1 SD, SD within 10 %)."""
    rows = []
    for k, d in targets.items():
        m, s = target_moments(d)
        x = patients[k].to_numpy(float) if k in patients else np.array([np.nan])
        am, asd = float(np.nanmean(x)), float(np.nanstd(x, ddof=1)) if x.size > 1 else float("nan")
        rows.append(
            {
                "covariate": k,
                "requested mean": m,
                "requested SD": s,
                "achieved mean": am,
                "achieved SD": asd,
                "mean difference (SD units)": (am - m) / s,
                "SD ratio": asd / s,
                "within tolerance": bool(
                    abs(am - m) <= MEAN_TOLERANCE_SD * s and abs(asd / s - 1) <= SD_TOLERANCE_FRACTION
                ),
            }
        )
    return pd.DataFrame(rows)

