"""Keyed per-patient random numbers and vectorised meal inputs used by the therapy layer."""

from __future__ import annotations

import numpy as np
from scipy import stats

from t2dsim.simulate import meal_inputs
from t2dsim.therapies.drugs import keyed_normal
from t2dsim.therapies.insulin import meal_matrix


def test_keyed_normal_is_chunk_independent_and_standard_normal():
    ids = np.arange(20000)
    z = keyed_normal(7, ids, 3, 11, size=2)
    # the same patient gets the same numbers whatever else is in the batch
    np.testing.assert_array_equal(keyed_normal(7, ids[[5, 19999, 123]], 3, 11, size=2), z[[5, 19999, 123]])
    # different counters / seeds give different streams
    assert not np.allclose(keyed_normal(7, ids[:100], 4, 11), z[:100, :1])
    assert not np.allclose(keyed_normal(8, ids[:100], 3, 11), z[:100, :1])
    # distribution: Kolmogorov-Smirnov against N(0, 1) (40 000 draws; p > 0.001)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.03


def test_meal_matrix_equals_meal_inputs_row_by_row():
    grams = np.array([[45.0, 70.0, 0.0], [12.5, 3.0, 88.0]])
    starts = [420, 720, 1140]
    m = meal_matrix(1440, starts, grams)
    for i in range(2):
        np.testing.assert_allclose(m[i], meal_inputs(1440, list(zip(starts, grams[i], strict=True))))
