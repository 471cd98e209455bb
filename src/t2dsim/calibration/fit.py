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
from t2dsim.calibration.evidence_roles import evidence_roles
from t2dsim.calibration.map_fit import MAX_NFEV, map_fit
from t2dsim.calibration.priors import log_prior_arrays, priors_of_set
from t2dsim.calibration.scoring import random_effects_pool
from t2dsim.therapies.stemcells.params import BMMNCParams, MSCParams, PlaceboParams

__all__ = [
    "bounds_log",
    "DURABILITY",
    "THETA",
    "theta_names",
    "params_from_theta",
    "fit_cases",
    "CaseEvaluator",
    "bias_names",
    "bias_prior",
    "bias_of_target",
    "prior_all",
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


#: Durability coordinates of THETA: the second start of every T2D fit puts them above their prior medians (a lasting
#: effect; calibration.map_fit amendment 4), because the posterior is bimodal along them (short vs lasting MSC and
#: placebo effects; docs/evidence_synthesis.md).
DURABILITY = ("placebo.fade_days", "msc.half_life_days", "bmmnc.half_life_days")


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


#: Which bias term of an uncontrolled row applies to an endpoint (by the endpoint name's prefix). A scored target of
#: a row with bias terms whose endpoint matches none of them is refused (see :func:`bias_of_target`).
_BIAS_KIND: tuple[tuple[str, str], ...] = (
    ("hba1c", "bias.uncontrolled_hba1c_pct"),
    ("fpg", "bias.uncontrolled_fpg_mmol"),
    ("insulin_pct", "bias.uncontrolled_insulin_pct"),
    ("cpeptide", "bias.uncontrolled_beta_function_pct"),
    ("homa_b", "bias.uncontrolled_beta_function_pct"),
    ("responder", "bias.uncontrolled_responder_share"),
    ("insulin_free", "bias.uncontrolled_responder_share"),
    ("dose_halved", "bias.uncontrolled_responder_share"),
)


def bias_names() -> list[str]:
    """The bias terms of uncontrolled studies (priors.toml set NEW, names ``bias.*``), in file order."""
    return [n for n in priors_of_set("NEW") if n.startswith("bias.")]


def bias_prior() -> tuple[np.ndarray, np.ndarray]:
    """Means and SDs of the bias terms (normal priors, on their own scale)."""
    by = priors_of_set("NEW")
    return np.array([by[n].centre for n in bias_names()]), np.array([by[n].spread for n in bias_names()])


def bias_of_target(t: Target) -> str | None:
    """The bias term added to ``t``'s predicted pre-post change (None: a controlled or randomised contrast). The
    row's bias terms come from data/calibration/evidence_roles.csv (column bias_term)."""
    names = evidence_roles()[t.source_id].bias_names
    if not names:
        return None
    for prefix, b in _BIAS_KIND:
        if t.endpoint.startswith(prefix):
            if b not in names:
                raise ValueError(
                    f"target {t.case}/{t.endpoint}: its row {t.source_id!r} lists bias terms {list(names)} but not "
                    f"{b!r}; add it to the row's bias_term in data/calibration/evidence_roles.csv"
                )
            return b
    raise ValueError(
        f"target {t.case}/{t.endpoint} of uncontrolled row {t.source_id!r}: no bias term matches the endpoint; "
        "add its prefix to calibration.fit._BIAS_KIND"
    )


def prior_all() -> tuple[np.ndarray, np.ndarray]:
    """Prior means and SDs of the full fitted vector x = (log θ, bias terms)."""
    mu, sd = prior_log()
    bm, bs = bias_prior()
    return np.concatenate([mu, bm]), np.concatenate([sd, bs])


def _group_index() -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, (g, _) in enumerate(THETA):
        out.setdefault(g, []).append(i)
    return out


class CaseEvaluator:
    """Predictions of the T2D cases for a fitted vector x = (log θ, bias). A case's run depends only on the placebo
    parameters and its own product's (``EFFICACY_OF_CASE``), so runs are cached on those coordinates: a
    finite-difference step in an MSC parameter re-runs only the MSC cases, one in a bias term re-runs nothing."""

    def __init__(self, plans: dict[str, CasePlan], targets: Sequence[Target], soft: bool = True) -> None:
        self.plans, self.soft = plans, soft
        self.targets = list(targets)
        self.by_case: dict[str, list[Target]] = {}
        for t in self.targets:
            self.by_case.setdefault(t.case, []).append(t)
        names = bias_names()
        p = len(THETA)
        self.bias_idx = [None if (b := bias_of_target(t)) is None else p + names.index(b) for t in self.targets]
        gi = _group_index()
        self.keys = {c: gi["placebo"] + gi[EFFICACY_OF_CASE[c][0]] for c in self.by_case}
        self._cache: dict[tuple, dict[str, float]] = {}

    def case_values(self, case: str, log_theta: np.ndarray) -> dict[str, float]:
        """Endpoint values of ``case`` (no bias) at ``log_theta``, cached."""
        key = (case, tuple(float(log_theta[i]) for i in self.keys[case]))
        if key not in self._cache:
            stats = run_case(case, params_from_theta(log_theta), self.plans[case], soft=self.soft)
            self._cache[key] = {
                t.endpoint: _finite_prediction(stats[t.endpoint].value(), case, t.endpoint, log_theta)
                for t in self.by_case[case]
            }
        return self._cache[key]

    def predictions(self, x: np.ndarray) -> np.ndarray:
        """Predicted value of every target (bias added where the row has one), in target order."""
        x = np.asarray(x, dtype=float)
        lt = x[: len(THETA)]
        vals = {c: self.case_values(c, lt) for c in self.by_case}
        out = np.array([vals[t.case][t.endpoint] for t in self.targets])
        for k, bi in enumerate(self.bias_idx):
            if bi is not None:
                out[k] += x[bi]
        return out

    def residuals(self, x: np.ndarray) -> np.ndarray:
        obs = np.array([t.observed for t in self.targets])
        se = np.array([t.se for t in self.targets])
        return (self.predictions(x) - obs) / se


def fit_cases(
    plans: dict[str, CasePlan],
    targets: Sequence[Target],
    label: str = "T2D fit",
    max_nfev: int = MAX_NFEV,
    two_starts: bool = True,
    report_disagreement: bool = False,
) -> dict[str, Any]:
    """MAP fit of (log θ, bias terms) to the scored ``targets`` on the cases' cached trial ``plans``, from the prior
    (two starts, :func:`calibration.map_fit.map_fit`); returns log θ and the θ block of the Laplace covariance (as
    before), the bias terms, the covariance of the full vector and the diagnostics."""
    use = [t for t in targets if t.scored]
    ev = CaseEvaluator(plans, use)
    mu, sd = prior_all()
    dur = np.array([n in DURABILITY for n in theta_names() + bias_names()])
    r = map_fit(ev.residuals, mu, sd, label, max_nfev=max_nfev, two_starts=two_starts,
                report_disagreement=report_disagreement, durability=dur)  # fmt: skip
    p = len(THETA)
    x, cov = np.asarray(r["x"]), np.asarray(r["cov"])
    return {
        "log_theta": x[:p].tolist(),
        "cov": cov[:p, :p].tolist(),
        "bias": dict(zip(bias_names(), x[p:].tolist(), strict=True)),
        "x": r["x"],
        "cov_all": r["cov"],
        "x_names": theta_names() + bias_names(),
        "cost": r["cost"],
        "n_targets": len(use),
        "nfev": r["nfev"],
        "njev": r["njev"],
        "starts": r["starts"],
        "agreement": r["agreement"],
        "mass_shares": r["mass_shares"],
        "identified_by": r["identified_by"],
        "identified": r["identified"],
        "failure": r["failure"],
        "tolerance": r["tolerance"],
        "bounds_all": r["bounds"],
        "cases": sorted({t.case for t in use}),
    }


def laplace_draws(
    log_theta: Sequence[float],
    cov: Sequence[Sequence[float]],
    n: int,
    seed: int,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    stream: int = 5,
) -> np.ndarray:
    """``n`` draws of log θ from the Laplace approximation N(log θ̂, cov) (row 0 is θ̂ itself), clipped
    to ``bounds`` (the search box) if given; ``stream`` keeps the draws of separate fits independent for one seed."""
    rng = np.random.default_rng([seed, stream])
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
    # pooled checks (never fitted; predicted by the fold without their member trials)
    "pooled_msc_w52": ("msc", "emax_si"),
    "pooled_bmmnc_w52": ("bmmnc", "emax_sec"),
}


def efficacy_index(case: str) -> int:
    """Position in log θ of the efficacy parameter of ``case``."""
    g, k = EFFICACY_OF_CASE[case]
    return theta_names().index(f"{g}.{k}")


def trial_offset(
    x: Sequence[float], plan: CasePlan, targets: Sequence[Target], case: str, max_nfev: int = 12
) -> tuple[float, float]:
    """Trial-specific log multiplier δ of the efficacy parameter of ``case`` (the other coordinates of the fitted
    vector ``x`` = (log θ, bias) held), fitted to that trial's scored targets alone, and its standard error from the
    Jacobian."""
    ts = [t for t in targets if t.case == case and t.scored]
    i = efficacy_index(case)
    base = np.asarray(x, dtype=float)
    ev = CaseEvaluator({case: plan}, ts)

    def res(v: np.ndarray) -> np.ndarray:
        y = base.copy()
        y[i] += v[0] - 1.0  # shifted by 1: least_squares' relative finite-difference step vanishes at 0
        return ev.residuals(y)

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
