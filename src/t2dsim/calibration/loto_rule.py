"""The acceptance rule of the cold leave-one-trial-out (LOTO) check (issue 16), fixed before the refit, and its power.

Rule (:data:`LOTO_RULE`, :func:`rule_verdict`), over the held-out endpoints of the T2D cell-therapy trials (MSC and
BM-MNC cases; each predicted by the fold that left its trial out):

1. **Better than no effect.** For each held-out trial j, D_j = Σ over its endpoints of (log score of the model −
   log score of comparator (a), no stem-cell effect). The model passes if the one-sided paired t statistic
   mean(D)/SE(D) over the trials exceeds the 95 % quantile of Student's t with k − 1 degrees of freedom (α = 0.05).
   Trials, not endpoints, are the units: the endpoints of one trial share a fold, a virtual cohort and often
   patients, so they are not independent.
2. **Calibrated intervals.** The number of held-out endpoints whose observed estimate lies in the model's 95 %
   prediction interval (of the observed estimate: prediction convolved with the published SE) lies in the central
   95 % range of Binomial(n, 0.95): [F⁻¹(0.025), F⁻¹(0.975)].

Both must hold. Log score: :func:`t2dsim.calibration.scoring.log_score` (proper; Gneiting & Raftery 2007).

Power (:func:`rule_power`, its ``"rule"``): the share of datasets simulated from the fitted model in which the rule
passes (i.e. rejects the no-effect comparator with calibrated intervals). Each simulated dataset draws every endpoint's
true effect from the full fit's predictive and adds the published observation noise; the fold predictives and the
comparator are held fixed (the folds are not refitted per simulated dataset: that would take a full cold LOTO per
dataset). The target is ≥ 80 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom
from scipy.stats import t as student_t

__all__ = ["LOTO_RULE", "RuleVerdict", "coverage_range", "rule_verdict", "rule_power"]

LOTO_RULE = {
    "endpoints": "held-out endpoints of the T2D MSC and BM-MNC trials (cold LOTO folds)",
    "unit": "trial (sum of its endpoints' log-score differences)",
    "test": "one-sided paired t over trials, model vs no stem-cell effect, alpha 0.05",
    "alpha": 0.05,
    "coverage": "count of observed estimates inside the 95 % PI within the central 95 % range of Binomial(n, 0.95)",
    "nominal": 0.95,
    "power_target": 0.80,
}


@dataclass(frozen=True)
class RuleVerdict:
    """Outcome of the rule: trial-level t statistic and its critical value, coverage count and its range."""

    t_stat: float
    t_crit: float
    k_trials: int
    mean_diff: float
    se_diff: float
    n_in_pi: int
    n_endpoints: int
    coverage_low: int
    coverage_high: int

    @property
    def better_than_no_effect(self) -> bool:
        return bool(self.t_stat > self.t_crit)

    @property
    def coverage_ok(self) -> bool:
        return bool(self.coverage_low <= self.n_in_pi <= self.coverage_high)

    @property
    def passed(self) -> bool:
        return self.better_than_no_effect and self.coverage_ok


def coverage_range(n: int, nominal: float = LOTO_RULE["nominal"]) -> tuple[int, int]:
    """Central 95 % range of Binomial(n, nominal): the counts of PI hits consistent with calibrated intervals."""
    return int(binom.ppf(0.025, n, nominal)), int(binom.ppf(0.975, n, nominal))


def rule_verdict(
    trial: Sequence[str], model_ls: Sequence[float], none_ls: Sequence[float], in_pi: Sequence[bool]
) -> RuleVerdict:
    """Apply the rule to held-out endpoints: their ``trial`` ids, model and no-effect log scores, and whether the
    observed estimate lies in the model's 95 % PI."""
    tr = np.asarray(trial)
    d = np.asarray(model_ls, dtype=float) - np.asarray(none_ls, dtype=float)
    if d.size == 0 or not np.all(np.isfinite(d)):
        raise ValueError("rule_verdict: need finite log scores of at least one held-out endpoint")
    trials = list(dict.fromkeys(tr.tolist()))
    dj = np.array([d[tr == j].sum() for j in trials])
    k = dj.size
    if k < 2:
        raise ValueError(f"rule_verdict: need >= 2 held-out trials, got {k}")
    mean, se = float(dj.mean()), float(dj.std(ddof=1) / math.sqrt(k))
    t_stat = mean / se if se > 0 else (math.inf if mean > 0 else -math.inf)
    lo, hi = coverage_range(d.size)
    return RuleVerdict(
        t_stat, float(student_t.ppf(1 - LOTO_RULE["alpha"], k - 1)), k, mean, se, int(np.sum(in_pi)), d.size, lo, hi
    )


def rule_power(
    trial: Sequence[str],
    model_draws: Sequence[np.ndarray],
    none_draws: Sequence[np.ndarray],
    truth_draws: Sequence[np.ndarray],
    obs_se: Sequence[float],
    n_sim: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Shares of ``n_sim`` simulated datasets in which the rule passes (``"rule"``) and in which each of its two parts
    holds on its own (``"better_than_no_effect"``, ``"coverage"``). Endpoint i: true effect drawn from
    ``truth_draws[i]`` (the full fit's predictive), observed = truth + N(0, obs_se[i]²); scored against the fixed
    model predictive (``model_draws[i]``, an ensemble) and no-effect predictive (``none_draws[i]``: an ensemble, or
    one value for a point prediction), both convolved with the observation noise."""
    from scipy.special import logsumexp

    rng = np.random.default_rng([seed, 16])
    n = len(obs_se)
    se = np.asarray(obs_se, dtype=float)
    counts = {"rule": 0, "better_than_no_effect": 0, "coverage": 0}
    lo_hi = []
    for i in range(n):  # the model's 95 % PI of the observed estimate (by simulation of its mixture)
        m = np.asarray(model_draws[i], dtype=float)
        s = m[rng.integers(0, m.size, 4000)] + se[i] * rng.standard_normal(4000)
        lo_hi.append(np.quantile(s, [0.025, 0.975]))

    def ls(y: float, draws: np.ndarray, s: float) -> float:
        z = (y - draws) / s
        return float(logsumexp(-0.5 * z * z) - math.log(draws.size) - math.log(s) - 0.5 * math.log(2 * math.pi))

    for _ in range(n_sim):
        y = np.array(
            [rng.choice(np.asarray(truth_draws[i], dtype=float)) + se[i] * rng.standard_normal() for i in range(n)]
        )
        m_ls = [ls(y[i], np.asarray(model_draws[i], dtype=float), se[i]) for i in range(n)]
        n_ls = [ls(y[i], np.atleast_1d(np.asarray(none_draws[i], dtype=float)), se[i]) for i in range(n)]
        inpi = [bool(lo_hi[i][0] <= y[i] <= lo_hi[i][1]) for i in range(n)]
        v = rule_verdict(trial, m_ls, n_ls, inpi)
        counts["rule"] += v.passed
        counts["better_than_no_effect"] += v.better_than_no_effect
        counts["coverage"] += v.coverage_ok
    return {k: c / n_sim for k, c in counts.items()}
