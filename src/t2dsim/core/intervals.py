"""Interval estimates every layer may need (risk rates in therapies, evidence in calibration, trials)."""

from __future__ import annotations

from statsmodels.stats.proportion import proportion_confint

__all__ = ["wilson_ci"]


def wilson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n`` (Wilson 1927; Newcombe 1998a method 3),
    computed by statsmodels' ``proportion_confint(method="wilson")``.

    Returns ``(nan, nan)`` when ``n == 0``; refuses ``k`` outside ``[0, n]``.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n (got k={k}, n={n})")
    if n == 0:
        return (float("nan"), float("nan"))
    lo, hi = proportion_confint(int(k), int(n), alpha=alpha, method="wilson")
    return (max(0.0, float(lo)), min(1.0, float(hi)))
