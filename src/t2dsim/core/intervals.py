"""Interval estimates every layer may need (risk rates in therapies, evidence in calibration, trials)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

__all__ = ["fisher_z_ci", "wilson_ci"]


def wilson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n`` (Wilson 1927; Newcombe 1998a method 3).

    The operations of statsmodels' ``proportion_confint(method="wilson")`` (0.14–0.15), in the same order,
    with the normal quantile from ``scipy.special.ndtri`` (what ``scipy.stats.norm.isf`` evaluates): the
    same bits (tests/test_intervals.py compares with statsmodels), without importing statsmodels and
    scipy.stats (about 0.5 s) wherever a risk table or responder share needs an interval.

    Returns ``(nan, nan)`` when ``n == 0``; refuses ``k`` outside ``[0, n]``.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n (got k={k}, n={n})")
    if n == 0:
        return (float("nan"), float("nan"))
    count, nobs = np.asarray(int(k)), np.asarray(int(n))
    q_ = count / nobs
    crit = -ndtri(alpha / 2.0)
    crit2 = crit**2
    denom = 1 + crit2 / nobs
    center = (q_ + crit2 / (2 * nobs)) / denom
    dist = crit * np.sqrt(q_ * (1.0 - q_) / nobs + crit2 / (4.0 * nobs**2))
    dist /= denom
    lo, hi = center - dist, center + dist
    return (max(0.0, float(lo)), min(1.0, float(hi)))


def fisher_z_ci(r: float, n: int, z_crit: float = 1.959964) -> tuple[float, float]:
    """95 % interval (default ``z_crit``) of a Pearson correlation ``r`` from ``n`` pairs by Fisher's z
    transformation: tanh(atanh r ± z_crit / √(n − 3)) (Fisher 1921; bivariate-normal approximation).

    Refuses ``n < 4`` (no standard error) and ``|r| > 1``; ``|r| = 1`` gives the degenerate ``(r, r)``.
    """
    if n < 4:
        raise ValueError(f"fisher_z_ci needs n >= 4 pairs (got n={n})")
    if not -1.0 <= r <= 1.0:
        raise ValueError(f"fisher_z_ci: r must lie in [-1, 1] (got {r})")
    if abs(r) == 1.0:
        return (r, r)
    z, se = math.atanh(r), 1.0 / math.sqrt(n - 3)
    return (math.tanh(z - z_crit * se), math.tanh(z + z_crit * se))
