"""Fitting of the T2D cell-therapy parameters: maximum a posteriori by least squares with weakly
informative log-normal priors, and a Laplace (Gaussian) approximation of the posterior in log space
for the ensemble. emcee/pyabc are not dependencies; the Laplace ensemble is the documented
substitute (docs/stem_cells.md discusses its limits).

Residuals: (model − observed)/SE_observed for every scored target of the cases fitted, computed on
virtual cohorts with smoothed responder indicators (logistic of small width) so the objective is
differentiable; plus (log θ − log prior median)/prior log-SD for every parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from t2dsim.calibration.evidence import Target
from t2dsim.calibration.trials import TrialPop, run_case
from t2dsim.therapies.stemcells.params import BMMNCParams, MSCParams, PlaceboParams

__all__ = ["bounds_log", "THETA", "theta_names", "params_from_theta", "fit_cases", "laplace_draws", "prior_log"]

#: Fitted parameters: (group, field, prior median, prior log-SD, source of the prior).
THETA: tuple[tuple[str, str, float, float, str], ...] = (
    ("placebo", "si_max", 0.15, 0.7, "D: control-arm improvements, evidence note §2.3"),
    ("placebo", "onset_days", 30.0, 0.7, "D: control arms improve within months (§2.3)"),
    ("placebo", "fade_days", 180.0, 0.7, "D: fading by 48 wk (§10)"),
    ("msc", "emax_si", 0.25, 0.7, "H: broad"),
    ("msc", "half_life_days", 42.0, 0.35, "D: 4-8 wk (Skyler wk 8 → wk 12), evidence note §10"),
    ("msc", "ed50_cells_per_kg", 1.0e6, 0.7, "D: only 2e6/kg significant in Skyler 2015"),
    ("bmmnc", "emax_sec", 0.6, 0.7, "D: C-peptide AUC +34-44 % (Wu 2014)"),
    ("bmmnc", "half_life_days", 900.0, 0.7, "D: responders 7/10 → 6/10 between 6 and 15 months"),
    ("bmmnc", "response_sd", 0.8, 0.5, "H: broad"),
)


def theta_names() -> list[str]:
    return [f"{g}.{k}" for g, k, *_ in THETA]


def prior_log() -> tuple[np.ndarray, np.ndarray]:
    """Prior means and SDs of log θ."""
    return np.log([t[2] for t in THETA]), np.array([t[3] for t in THETA])


def bounds_log() -> tuple[np.ndarray, np.ndarray]:
    """Search box for log θ: prior median ± 3 prior log-SD."""
    mu, sd = prior_log()
    return mu - 3 * sd, mu + 3 * sd


def params_from_theta(log_theta: Sequence[float], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parameter objects {msc, bmmnc, placebo} with the fitted fields set from log θ."""
    P: dict[str, Any] = dict(base) if base else {"msc": MSCParams(), "bmmnc": BMMNCParams(),
                                                 "placebo": PlaceboParams()}
    for (g, k, *_), v in zip(THETA, log_theta, strict=True):
        P[g] = replace(P[g], **{k: float(np.exp(v))})
    return P


def _residuals(log_theta: np.ndarray, pops: dict[str, TrialPop], targets: Sequence[Target]) -> np.ndarray:
    P = params_from_theta(log_theta)
    res = []
    by_case: dict[str, list[Target]] = {}
    for t in targets:
        by_case.setdefault(t.case, []).append(t)
    for case, ts in by_case.items():
        stats = run_case(case, P, pops[case], soft=True)
        for t in ts:
            v = stats[t.endpoint].value()
            res.append(0.0 if not np.isfinite(v) else (v - t.observed) / t.se)
    mu, sd = prior_log()
    res.extend((np.asarray(log_theta) - mu) / sd)
    return np.asarray(res, dtype=float)


def fit_cases(pops: dict[str, TrialPop], targets: Sequence[Target], x0: np.ndarray | None = None,
              max_nfev: int = 200) -> dict[str, Any]:
    """MAP fit to ``targets`` (scored ones only); returns log θ, Laplace covariance and diagnostics."""
    use = [t for t in targets if t.scored]
    lo, hi = bounds_log()
    mu, _ = prior_log()
    start = np.clip(mu.copy() if x0 is None else np.asarray(x0, dtype=float), lo + 1e-6, hi - 1e-6)
    r = least_squares(_residuals, start, args=(pops, use), method="trf", diff_step=0.02, max_nfev=max_nfev,
                      bounds=(lo, hi))
    jac = r.jac
    cov = np.linalg.pinv(jac.T @ jac)
    return {
        "log_theta": r.x.tolist(),
        "cov": cov.tolist(),
        "cost": float(r.cost),
        "n_targets": len(use),
        "nfev": int(r.nfev),
        "cases": sorted({t.case for t in use}),
    }


def laplace_draws(log_theta: Sequence[float], cov: Sequence[Sequence[float]], n: int, seed: int,
                  bounds: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``n`` draws of log θ from the Laplace approximation N(log θ̂, cov) (row 0 is θ̂ itself), clipped
    to ``bounds`` (the search box) if given."""
    rng = np.random.default_rng([seed, 5])
    m = np.asarray(log_theta, dtype=float)
    c = np.asarray(cov, dtype=float)
    c = 0.5 * (c + c.T) + 1e-12 * np.eye(m.size)
    draws = rng.multivariate_normal(m, c, size=n)
    if bounds is not None:
        draws = np.clip(draws, bounds[0], bounds[1])
    draws[0] = m
    return draws
