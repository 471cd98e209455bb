"""The Wilson interval of core.intervals is statsmodels' (the independent reference implementation),
bit for bit, without importing statsmodels on the trial path."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from t2dsim.core.intervals import wilson_ci


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01, 0.2])
def test_wilson_equals_statsmodels_exactly(alpha):
    cases = [(k, n) for n in (*range(1, 21), 97, 128, 600, 12_345, 10**6) for k in {0, 1, n // 3, n // 2, n - 1, n}]
    for k, n in cases:
        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
        assert wilson_ci(k, n, alpha) == (max(0.0, float(lo)), min(1.0, float(hi))), (k, n, alpha)


def test_wilson_published_value_and_edges():
    # Newcombe (Stat Med 1998;17:857), Table I, example 81/263: Wilson 95% CI 0.2553 to 0.3662.
    lo, hi = wilson_ci(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert all(math.isnan(x) for x in wilson_ci(0, 0))
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson_ci(5, 4)
