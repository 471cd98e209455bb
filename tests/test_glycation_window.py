"""The red-cell glycation window of meal-day HbA1c (physiology.glycation.WindowedHbA1c): exact shares, exact
step response, independence of the step sizes, and Tahara & Shima (1995)'s measured HbA1c fall."""

import numpy as np
import pytest

from t2dsim.physiology.glycation import RED_CELL_WINDOW_DAYS, WindowedHbA1c, window_share


def test_window_shares_are_the_integral_of_a_linearly_falling_weight():
    """Hand computation of ∫ 2/L (1 − s/L) ds with L = 100 days: the last 30 days 1 − 0.7² = 0.51, days 30-90
    0.49 − 0.01 = 0.48, days 90-100 0.01, nothing beyond the window; adjacent intervals add up to 1."""
    assert RED_CELL_WINDOW_DAYS == 100.0
    np.testing.assert_allclose(window_share(0, 30), 0.51)
    np.testing.assert_allclose(window_share(30, 90), 0.48)
    np.testing.assert_allclose(window_share(90, 100), 0.01)
    assert window_share(100, 400) == 0.0
    edges = np.array([0.0, 3.0, 10.0, 17.5, 61.0, 99.0, 150.0])
    np.testing.assert_allclose(window_share(edges[:-1], edges[1:]).sum(), 1.0)
    with pytest.raises(ValueError, match="window_days"):
        window_share(0, 1, window_days=0.0)


def test_step_response_is_one_minus_lag_squared_whatever_the_step_sizes():
    """A target stepping from 9 % to 6 % at day 0: HbA1c(t) = 6 + 3·(1 − t/100)² (analytic), the same whether the
    days are added one by one or in uneven steps (piecewise-constant targets are integrated exactly)."""
    daily = WindowedHbA1c(np.array([9.0, 9.0]))
    for _ in range(45):
        daily.add(np.array([6.0, 6.0]), 1.0)
    uneven = WindowedHbA1c(np.array([9.0, 9.0]))
    for dt in (3.0, 7.0, 11.0, 24.0):
        uneven.add(np.array([6.0, 6.0]), dt)
    expected = 6.0 + 3.0 * (1.0 - 45.0 / 100.0) ** 2
    np.testing.assert_allclose(daily.hba1c_pct, expected, rtol=1e-12)
    np.testing.assert_allclose(uneven.hba1c_pct, expected, rtol=1e-12)
    for _ in range(60):  # after the window has passed only the new target is left
        daily.add(np.array([6.0, 6.0]), 1.0)
    np.testing.assert_allclose(daily.hba1c_pct, 6.0, rtol=1e-12)
    with pytest.raises(ValueError, match="dt_days"):
        daily.add(np.array([6.0, 6.0]), 0.0)


def test_hba1c_fall_after_glycaemic_normalisation_matches_tahara_shima_1995():
    """Tahara & Shima, Diabetes Care 18:440 (1995), abstract, 9 newly diagnosed patients: fasting glucose normalised
    with a half-time of 6.3 days; HbA1c then fell *linearly during the initial 2 months* with a half-time of
    34.6 ± 10.1 days (mean ± SD). Simulated: a glycation target falling exponentially with a 6.3-day half-time,
    daily steps. Asserted: the half-time inside the 95 % CI of Tahara's mean, 34.6 ± 1.96·10.1/√9 = 28.0-41.2
    days, and the fall of days 30-60 within 10 % of the fall of days 0-30 (linear). The first-order filter with a
    30-day half-life that the meal-day HbA1c used before 2026-12-06 gives 39.9 days but a ratio of 0.81."""
    start, end = 10.0, 6.0
    h = WindowedHbA1c(np.array([start]))
    course = [start]
    for day in range(1, 121):
        target = end + (start - end) * 0.5 ** ((day - 0.5) / 6.3)
        course.append(float(h.add(np.array([target]), 1.0)[0]))
    course = np.array(course)
    remaining = (course - end) / (start - end)
    half_time = float(np.interp(0.5, remaining[::-1], np.arange(121)[::-1]))
    assert 28.0 <= half_time <= 41.2, half_time
    first, second = course[0] - course[30], course[30] - course[60]
    assert abs(second / first - 1.0) < 0.10, second / first
