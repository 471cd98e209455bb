"""Vectorised meal inputs used by the therapy layer."""

from __future__ import annotations

import numpy as np

from t2dsim.engine.meal_days import meal_matrix
from t2dsim.simulate import meal_inputs


def test_meal_matrix_equals_meal_inputs_row_by_row():
    grams = np.array([[45.0, 70.0, 0.0], [12.5, 3.0, 88.0]])
    starts = [420, 720, 1140]
    m = meal_matrix(1440, starts, grams)
    for i in range(2):
        np.testing.assert_allclose(m[i], meal_inputs(1440, list(zip(starts, grams[i], strict=True))))
