"""Fitting of the T2D cell-therapy parameters: maximum a posteriori by least squares with weakly
informative log-normal priors, and a Laplace (Gaussian) approximation of the posterior in log space
for the ensemble. emcee/pyabc are not dependencies; the Laplace ensemble is the documented
substitute (docs/stem_cells.md discusses its limits).

Residuals: (model − observed)/SE_observed for every scored target of the cases fitted, computed on
virtual cohorts with smoothed responder indicators (logistic of small width) so the objective is
differentiable; plus (log θ − log prior median)/prior log-SD for every parameter.

Between-trial heterogeneity: :func:`trial_offset` fits one trial's own log-multiplier δ of its product's
efficacy parameter (other parameters at a fit's MAP) and :func:`dersimonian_laird_tau` pools the offsets
into a between-trial SD τ, used to widen predictions for a new (left-out) trial.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from t2dsim.calibration.cases import CasePlan, run_case
from t2dsim.calibration.evidence import Target
from t2dsim.calibration.priors import log_prior_arrays
from t2dsim.calibration.scoring import random_effects_pool
from t2dsim.therapies.stemcells.params import BMMNCParams, MSCParams, PlaceboParams

__all__ = [
    "bounds_log",
    "THETA",
    "theta_names",
    "params_from_theta",
    "fit_cases",
    "laplace_draws",
    "prior_log",
    "EFFICACY_OF_CASE",
    "efficacy_index",
    "trial_offset",
    "dersimonian_laird_tau",
]

#: Fitted parameters (group, field). Their priors (median, log-SD, source, reason for the width) are read from
#: ``data/calibration/priors.toml`` (set THETA), the one source of the fit's priors, committed before any refit.
THETA: tuple[tuple[str, str], ...] = (
    ("placebo", "si_max"),
    ("placebo", "onset_days"),
    ("placebo", "fade_days"),
    ("msc", "emax_si"),
    ("msc", "half_life_days"),
    ("msc", "ed50_cells_per_kg"),
    ("bmmnc", "emax_sec"),
    ("bmmnc", "half_life_days"),
    ("bmmnc", "response_sd"),
)


def theta_names() -> list[str]:
    return [f"{g}.{k}" for g, k in THETA]


def prior_log() -> tuple[np.ndarray, np.ndarray]:
    """Prior means and SDs of log θ, from ``data/calibration/priors.toml`` (set THETA)."""
    return log_prior_arrays("THETA", theta_names())


def bounds_log() -> tuple[np.ndarray, np.ndarray]:
    """Search box for log θ: prior median ± 3 prior log-SD."""
    mu, sd = prior_log()
    return mu - 3 * sd, mu + 3 * sd


def params_from_theta(log_theta: Sequence[float], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parameter objects {msc, bmmnc, placebo} with the fitted fields set from log θ."""
    P: dict[str, Any] = dict(base) if base else {"msc": MSCParams(), "bmmnc": BMMNCParams(), "placebo": PlaceboParams()}
    for (g, k), v in zip(THETA, log_theta, strict=True):
        P[g] = replace(P[g], **{k: float(np.exp(v))})
    return P


def _finite_prediction(value: float, case: str, endpoint: str, log_theta: Sequence[float]) -> float:
    """A case's prediction, refused when not finite: scoring it as a zero residual would make a failing
    parameter region look like a perfect fit."""
    if not np.isfinite(value):
        theta = ", ".join(f"{v:.3g}" for v in np.exp(np.asarray(log_theta, dtype=float)))
        raise ValueError(
            f"calibration: case {case!r}, endpoint {endpoint!r} gave a non-finite prediction ({value}) at "
            f"parameters ({theta}); fix the case runner or narrow the prior bounds (calibration/fit.py bounds_log)"
        )
    return float(value)


def _residuals(log_theta: np.ndarray, plans: dict[str, CasePlan], targets: Sequence[Target]) -> np.ndarray:
    P = params_from_theta(log_theta)
    res = []
    by_case: dict[str, list[Target]] = {}
    for t in targets:
        by_case.setdefault(t.case, []).append(t)
    for case, ts in by_case.items():
        stats = run_case(case, P, plans[case], soft=True)
        for t in ts:
            res.append((_finite_prediction(stats[t.endpoint].value(), case, t.endpoint, log_theta) - t.observed) / t.se)
    mu, sd = prior_log()
    res.extend((np.asarray(log_theta) - mu) / sd)
    return np.asarray(res, dtype=float)


def fit_cases(
    plans: dict[str, CasePlan], targets: Sequence[Target], x0: np.ndarray | None = None, max_nfev: int = 200
) -> dict[str, Any]:
    """MAP fit to ``targets`` (scored ones only) on the cases' cached trial ``plans``; returns log θ, Laplace
    covariance and diagnostics."""
    use = [t for t in targets if t.scored]
    lo, hi = bounds_log()
    mu, _ = prior_log()
    start = np.clip(mu.copy() if x0 is None else np.asarray(x0, dtype=float), lo + 1e-6, hi - 1e-6)
    r = least_squares(
        _residuals, start, args=(plans, use), method="trf", diff_step=0.02, max_nfev=max_nfev, bounds=(lo, hi)
    )
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


def laplace_draws(
    log_theta: Sequence[float],
    cov: Sequence[Sequence[float]],
    n: int,
    seed: int,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------------
# Between-trial heterogeneity (random trial effect on the therapy's efficacy)
# --------------------------------------------------------------------------------------------------

#: Which efficacy parameter a trial's cell product acts through (group, field of THETA): BM-MNC trials
#: through β-cell secretion, MSC trials through insulin sensitivity (docs/stem_cells.md §1).
EFFICACY_OF_CASE: dict[str, tuple[str, str]] = {
    "bhansali2014_rct": ("bmmnc", "emax_sec"),
    "bhansali2009": ("bmmnc", "emax_sec"),
    "bhansali2017": ("bmmnc", "emax_sec"),
    "wu2014": ("bmmnc", "emax_sec"),
    "skyler2015": ("msc", "emax_si"),
    "lian2022": ("msc", "emax_si"),
    "hu2016": ("msc", "emax_si"),
}


def efficacy_index(case: str) -> int:
    """Position in log θ of the efficacy parameter of ``case``."""
    g, k = EFFICACY_OF_CASE[case]
    return theta_names().index(f"{g}.{k}")


def trial_offset(
    log_theta: Sequence[float], plan: CasePlan, targets: Sequence[Target], case: str, max_nfev: int = 30
) -> tuple[float, float]:
    """Trial-specific log multiplier δ of the efficacy parameter of ``case`` (other parameters held at
    ``log_theta``), fitted to that trial's scored targets alone, and its standard error from the Jacobian."""
    ts = [t for t in targets if t.case == case and t.scored]
    i = efficacy_index(case)
    base = np.asarray(log_theta, dtype=float)

    def res(v: np.ndarray) -> np.ndarray:
        x = base.copy()
        x[i] += v[0] - 1.0  # shifted by 1: least_squares' relative finite-difference step vanishes at 0
        stats = run_case(case, params_from_theta(x), plan, soft=True)
        out = [(_finite_prediction(stats[t.endpoint].value(), case, t.endpoint, x) - t.observed) / t.se for t in ts]
        return np.asarray(out, dtype=float)

    r = least_squares(res, np.ones(1), method="trf", diff_step=0.05, max_nfev=max_nfev, bounds=(-2.0, 4.0))
    info = float(r.jac[:, 0] @ r.jac[:, 0])
    se = float(1.0 / np.sqrt(info)) if info > 1e-12 else float("inf")
    return float(r.x[0] - 1.0), se


def dersimonian_laird_tau(delta: Sequence[float], se: Sequence[float], groups: Sequence[str]) -> float:
    """Between-trial SD τ of trial effects ``delta`` (with within-trial SEs ``se``) by the DerSimonian-Laird
    moment estimator (DerSimonian & Laird, Control Clin Trials 7:177, 1986), generalised to one mean per
    group (mechanism): Q = Σ_g Q_g, τ² = max(0, (Q − df)/Σ_g c_g), df = k − #groups, with each group's Cochran Q_g
    and c_g = Σw − Σw²/Σw from :func:`t2dsim.calibration.scoring.random_effects_pool` (one implementation)."""
    d, s = np.asarray(delta, dtype=float), np.asarray(se, dtype=float)
    g = np.asarray(groups)
    ok = np.isfinite(d) & np.isfinite(s) & (s > 0)
    d, s, g = d[ok], s[ok], g[ok]
    q, c, df = 0.0, 0.0, 0
    for grp in np.unique(g):
        m = g == grp
        pool = random_effects_pool(d[m], s[m])
        q += pool.q
        c += pool.c
        df += pool.k - 1
    if df <= 0 or c <= 0:
        return 0.0
    return float(np.sqrt(max(0.0, (q - df) / c)))
