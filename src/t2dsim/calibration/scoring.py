"""Proper scores of predictions of published trial summaries, and the two comparators of issue 16.

An observed summary (a mean change, a difference vs control, a share) is reported as a value with a 95 % CI; its
standard error is the CI width / (2 × 1.96). The observed value is modelled as the true effect plus observation
noise N(0, SE²), so a predictive distribution of the true effect is scored through its convolution with that
noise:

* normal predictive N(m, s²) → N(m, s² + SE²);
* ensemble of draws x_1..x_n (posterior draws of the model) → the equal-weight mixture of N(x_i, SE²).

Scores (all pure functions, NumPy/SciPy only; Gneiting T, Raftery AE, J Am Stat Assoc 2007;102:359-378):

* :func:`log_score`: log predictive density of the observed value (higher is better);
* :func:`crps`: continuous ranked probability score (lower is better). Normal: closed form
  CRPS = s·[z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − m)/s (Gneiting & Raftery 2007, §4.2). Mixture of normals:
  CRPS = E|X − y| − ½E|X − X'| (ibid., §4.2) with E|N(μ, σ²)| = μ(2Φ(μ/σ) − 1) + 2σφ(μ/σ) (Grimit EP et al.,
  Q J R Meteorol Soc 2006;132:2925-2942);
* :func:`prediction_interval` / :func:`score`: central 95 % PI and whether the observed value lies in it.

Comparators, scored on the same folds:

* (a) no stem-cell effect, :func:`no_effect_predictive`: 0 for a between-arm difference, else the model's
  control-arm (placebo) prediction;
* (b) one constant effect per cell class, :func:`class_constant_loto`: for each trial, the random-effects pool
  (DerSimonian R, Laird N, Control Clin Trials 1986;7:177-188) of the OTHER trials of its class and endpoint;
  predictive of a new trial N(μ̂, SE(μ̂)² + τ̂²) (Higgins JPT, Thompson SG, Spiegelhalter DJ, J R Stat Soc A
  2009;172:137-159). A class with no other trial gives ``None``: only comparator (a) applies there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp, ndtr, ndtri

__all__ = [
    "Z95",
    "Observed",
    "NormalPredictive",
    "EnsemblePredictive",
    "Score",
    "TrialEffect",
    "PooledEffect",
    "se_from_ci",
    "log_score",
    "crps",
    "crps_normal",
    "prediction_interval",
    "score",
    "no_effect_predictive",
    "random_effects_pool",
    "class_constant_loto",
    "paired_difference",
]

Z95 = 1.959963984540054  # standard-normal 97.5 % quantile
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_MAX_DRAWS = 5000  # the mixture CRPS holds an n × n matrix


def se_from_ci(low: float, high: float, level: float = 0.95) -> float:
    """Standard error of a summary from its symmetric normal CI (width / (2 z))."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise ValueError(f"CI: need finite low < high, got low={low}, high={high}")
    if not 0 < level < 1:
        raise ValueError(f"CI level must lie in (0, 1), got {level}")
    return float((high - low) / (2.0 * ndtri(0.5 + level / 2.0)))


@dataclass(frozen=True)
class Observed:
    """A published summary: ``value`` with its ``low``-``high`` CI at ``level``."""

    value: float
    low: float
    high: float
    level: float = 0.95

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"Observed.value must be finite, got {self.value}")
        se_from_ci(self.low, self.high, self.level)  # validates the interval

    @property
    def se(self) -> float:
        return se_from_ci(self.low, self.high, self.level)

    @classmethod
    def of(cls, target: Any) -> Observed:
        """From a calibration target (``evidence.Target`` or ``beta_replacement.BetaTarget``: fields ``observed``,
        ``ci_low``, ``ci_high``, a 95 % interval)."""
        return cls(float(target.observed), float(target.ci_low), float(target.ci_high))


@dataclass(frozen=True)
class NormalPredictive:
    """Predictive distribution N(mean, sd²) of the true effect (sd = 0: a point prediction)."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.mean):
            raise ValueError(f"NormalPredictive.mean must be finite, got {self.mean}")
        if not (math.isfinite(self.sd) and self.sd >= 0):
            raise ValueError(f"NormalPredictive.sd must be finite and >= 0, got {self.sd}")


@dataclass(frozen=True)
class EnsemblePredictive:
    """Predictive distribution of the true effect given by equally weighted draws (e.g. posterior draws)."""

    draws: tuple[float, ...]

    def __init__(self, draws: Sequence[float] | np.ndarray) -> None:
        a = np.asarray(draws, dtype=float).ravel()
        if a.size == 0 or a.size > _MAX_DRAWS:
            raise ValueError(f"EnsemblePredictive.draws: need 1 to {_MAX_DRAWS} draws, got {a.size}")
        if not np.all(np.isfinite(a)):
            raise ValueError("EnsemblePredictive.draws: non-finite draw; refuse rather than drop it")
        object.__setattr__(self, "draws", tuple(a.tolist()))

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.draws, dtype=float)


Predictive = NormalPredictive | EnsemblePredictive


def _norm_logpdf(x: np.ndarray | float, m: np.ndarray | float, s: float) -> np.ndarray:
    return -0.5 * ((np.asarray(x) - m) / s) ** 2 - math.log(s) - _LOG_SQRT_2PI


def log_score(obs: Observed, pred: Predictive) -> float:
    """Log predictive density of ``obs.value`` under ``pred`` convolved with the observation noise N(0, SE²)."""
    se = obs.se
    if isinstance(pred, NormalPredictive):
        return float(_norm_logpdf(obs.value, pred.mean, math.hypot(pred.sd, se)))
    x = pred.array
    return float(logsumexp(_norm_logpdf(obs.value, x, se)) - math.log(x.size))


def crps_normal(y: float, mean: float, sd: float) -> float:
    """CRPS of N(mean, sd²) at y (closed form; sd = 0 gives |y − mean|)."""
    if sd < 0 or not math.isfinite(sd):
        raise ValueError(f"crps_normal: sd must be finite and >= 0, got {sd}")
    if sd == 0:
        return abs(y - mean)
    z = (y - mean) / sd
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return float(sd * (z * (2 * ndtr(z) - 1) + 2 * pdf - 1 / math.sqrt(math.pi)))


def _abs_mean(mu: np.ndarray, sigma: float) -> np.ndarray:
    """E|N(mu, sigma²)| (sigma = 0: |mu|)."""
    if sigma == 0:
        return np.abs(mu)
    z = mu / sigma
    return mu * (2 * ndtr(z) - 1) + 2 * sigma * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def crps(obs: Observed, pred: Predictive) -> float:
    """CRPS of ``pred`` convolved with the observation noise, at the observed value."""
    se = obs.se
    if isinstance(pred, NormalPredictive):
        return crps_normal(obs.value, pred.mean, math.hypot(pred.sd, se))
    x = pred.array
    term1 = float(np.mean(_abs_mean(obs.value - x, se)))
    term2 = float(np.mean(_abs_mean(x[:, None] - x[None, :], math.sqrt(2.0) * se)))
    return term1 - 0.5 * term2


def prediction_interval(pred: Predictive, obs_se: float = 0.0, level: float = 0.95) -> tuple[float, float]:
    """Central ``level`` interval of ``pred`` convolved with N(0, obs_se²) (obs_se = 0: of ``pred`` itself; an
    ensemble without noise uses its empirical quantiles)."""
    if not 0 < level < 1:
        raise ValueError(f"prediction_interval: level must lie in (0, 1), got {level}")
    if obs_se < 0 or not math.isfinite(obs_se):
        raise ValueError(f"prediction_interval: obs_se must be finite and >= 0, got {obs_se}")
    lo_p, hi_p = 0.5 - level / 2, 0.5 + level / 2
    if isinstance(pred, NormalPredictive):
        s = math.hypot(pred.sd, obs_se)
        z = float(ndtri(hi_p))
        return pred.mean - z * s, pred.mean + z * s
    x = pred.array
    if obs_se == 0:
        q = np.quantile(x, [lo_p, hi_p])
        return float(q[0]), float(q[1])

    def cdf(v: float, p: float) -> float:
        return float(np.mean(ndtr((v - x) / obs_se))) - p

    a, b = float(x.min() - 10 * obs_se), float(x.max() + 10 * obs_se)
    return brentq(cdf, a, b, args=(lo_p,), xtol=1e-10), brentq(cdf, a, b, args=(hi_p,), xtol=1e-10)


@dataclass(frozen=True)
class Score:
    """Scores of one prediction of one observed summary."""

    log_score: float
    crps: float
    pi_low: float
    pi_high: float
    in_pi: bool


def score(obs: Observed, pred: Predictive, level: float = 0.95) -> Score:
    """Log score, CRPS and PI coverage of one observed summary. The PI is that of the observed estimate (the
    prediction convolved with the observation noise), so a small trial with a wide CI is not counted as a miss
    merely because of its own sampling error."""
    lo, hi = prediction_interval(pred, obs.se, level)
    return Score(log_score(obs, pred), crps(obs, pred), lo, hi, bool(lo <= obs.value <= hi))


def no_effect_predictive(control: Predictive | None = None) -> Predictive:
    """Comparator (a), no stem-cell effect: a between-arm difference is exactly 0 (``control`` None); an arm-level
    endpoint (e.g. a pre-post change of a treated arm) is predicted by the model's control-arm prediction."""
    return NormalPredictive(0.0, 0.0) if control is None else control


@dataclass(frozen=True)
class TrialEffect:
    """One trial's observed effect on one endpoint, with its cell class (for comparator (b))."""

    trial: str
    cell_class: str
    endpoint: str
    value: float
    se: float


@dataclass(frozen=True)
class PooledEffect:
    """Random-effects pool: mean μ̂ with SE, between-trial variance τ̂² (DerSimonian-Laird), Cochran's Q, k, and
    the DL denominator c = Σw − Σw²/Σw (for a pool of several groups' Q and c, ``fit.dersimonian_laird_tau``)."""

    mean: float
    se: float
    tau2: float
    q: float
    k: int
    c: float = 0.0

    def predictive(self) -> NormalPredictive:
        """Predictive of a new trial's true effect: N(μ̂, SE² + τ̂²)."""
        return NormalPredictive(self.mean, math.sqrt(self.se**2 + self.tau2))


def random_effects_pool(values: Sequence[float], ses: Sequence[float]) -> PooledEffect:
    """DerSimonian-Laird random-effects pool of ``values`` with within-trial standard errors ``ses``:
    w = 1/SE², Q = Σw(y − ȳ_w)², τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)), then weights 1/(SE² + τ²).
    One trial gives τ² = 0 (not estimable) and its own value and SE."""
    y, s = np.asarray(values, dtype=float), np.asarray(ses, dtype=float)
    if y.size == 0 or y.shape != s.shape:
        raise ValueError(f"random_effects_pool: need equal-length non-empty values and ses, got {y.size}, {s.size}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError("random_effects_pool: values must be finite and ses finite and > 0")
    w = 1.0 / s**2
    mean_fe = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mean_fe) ** 2))
    k = int(y.size)
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 else 0.0
    ws = 1.0 / (s**2 + tau2)
    return PooledEffect(float(np.sum(ws * y) / np.sum(ws)), float(1.0 / math.sqrt(np.sum(ws))), tau2, q, k, c)


def class_constant_loto(effects: Sequence[TrialEffect]) -> dict[tuple[str, str], NormalPredictive | None]:
    """Comparator (b) evaluated leave-one-trial-out: for each (trial, endpoint), the predictive of the random-effects
    pool of the other trials with the same cell class and endpoint; ``None`` where there is no other trial."""
    keys = [(e.trial, e.endpoint) for e in effects]
    if len(set(keys)) != len(keys):
        raise ValueError("class_constant_loto: a (trial, endpoint) pair appears twice; pool within a trial first")
    out: dict[tuple[str, str], NormalPredictive | None] = {}
    for e in effects:
        others = [
            o for o in effects if o.cell_class == e.cell_class and o.endpoint == e.endpoint and o.trial != e.trial
        ]
        out[(e.trial, e.endpoint)] = (
            random_effects_pool([o.value for o in others], [o.se for o in others]).predictive() if others else None
        )
    return out


def paired_difference(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the paired differences a − b (e.g. the model's log scores minus a comparator's
    over the same held-out endpoints)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size < 2 or not np.all(np.isfinite(d)):
        raise ValueError(f"paired_difference: need >= 2 finite paired scores, got {d.size}")
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
