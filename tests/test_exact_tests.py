"""The two-sided Fisher exact p-value (core.exact_tests) against scipy.stats.fisher_exact, the reference
implementation (scipy 1.x): every 2x2 table for a grid of arm sizes up to 30 (ties included),
and random large tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import fisher_exact

from t2dsim.core.exact_tests import fisher_exact_two_sided


def test_matches_scipy_on_every_small_table():
    worst = 0.0
    for n1 in (0, 1, 5, 27, 30):
        for n2 in (1, 8, 24, 28):
            for a in range(n1 + 1):
                for c in range(n2 + 1):
                    table = [[a, n1 - a], [c, n2 - c]]
                    ref = fisher_exact(table).pvalue
                    got = fisher_exact_two_sided(table)
                    worst = max(worst, abs(got - ref) / max(ref, 1e-300))
    assert worst < 1e-9


def test_matches_scipy_on_large_random_tables():
    rng = np.random.default_rng(7)
    for _ in range(100):
        n1, n2 = rng.integers(1, 2000, size=2)
        a, c = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        table = [[int(a), int(n1 - a)], [int(c), int(n2 - c)]]
        assert fisher_exact_two_sided(table) == pytest.approx(fisher_exact(table).pvalue, rel=1e-9, abs=1e-300)


def test_textbook_value_and_bad_tables():
    # Fisher's tea-tasting table [[3, 1], [1, 3]]: by enumeration of the hypergeometric law (1, 16, 36, 16, 1)/70,
    # the tables no more likely than the observed one sum to (1 + 16 + 16 + 1)/70 = 34/70.
    assert fisher_exact_two_sided([[3, 1], [1, 3]]) == pytest.approx(34 / 70, abs=1e-12)
    with pytest.raises(ValueError, match="2x2"):
        fisher_exact_two_sided([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="non-negative integer"):
        fisher_exact_two_sided([[1, -2], [3, 4]])
