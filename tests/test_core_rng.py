"""The one keyed random generator (t2dsim.core.rng) and the calendar."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from t2dsim.core.calendar import DAYS_PER_MONTH, month_to_day, visit_days
from t2dsim.core.rng import keyed_normal, keyed_state, keyed_uniform, stream_id, uniform_from_state


def test_keyed_normal_is_standard_normal() -> None:
    z = keyed_normal(7, np.arange(200_000), 3)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    u = keyed_uniform(7, np.arange(200_000), 3)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert 0 < u.min() and u.max() < 1


def test_keyed_streams_independent() -> None:
    ids = np.arange(100_000)
    a, b = keyed_normal(1, ids, 0), keyed_normal(1, ids, 1)
    c = keyed_normal(2, ids, 0)
    # |r| < 4.5 / sqrt(n) for independent streams (4.5 SD of the null distribution of r)
    lim = 4.5 / np.sqrt(ids.size)
    assert abs(np.corrcoef(a, b)[0, 1]) < lim and abs(np.corrcoef(a, c)[0, 1]) < lim
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < lim  # neighbouring patients


def test_keyed_numbers_do_not_depend_on_chunking_or_order() -> None:
    ids = np.arange(1000)
    whole = keyed_normal(42, ids[:, None], 5, np.arange(4)[None, :])
    parts = np.vstack([keyed_normal(42, ch[:, None], 5, np.arange(4)[None, :]) for ch in np.array_split(ids, 7)])
    np.testing.assert_array_equal(whole, parts)
    perm = np.random.default_rng(0).permutation(ids)
    np.testing.assert_array_equal(keyed_normal(42, perm[:, None], 5, np.arange(4)[None, :]), whole[perm])


def test_named_streams_are_keys_and_splitting_the_chain_changes_nothing() -> None:
    ids = np.arange(5000)
    by_id = keyed_uniform(3, ids, np.full((), stream_id("assay:x")))
    np.testing.assert_array_equal(keyed_uniform(3, ids, "assay:x"), by_id)
    whole = keyed_uniform(3, ids[:, None], "om2:events", 7, np.arange(3)[None, :])
    state = keyed_state(3, ids[:, None], "om2:events")
    np.testing.assert_array_equal(uniform_from_state(state, 7, np.arange(3)[None, :]), whole)
    assert not np.array_equal(keyed_uniform(3, ids, "a"), keyed_uniform(3, ids, "b"))


def test_negative_keys_are_distinct_days_and_bad_input_is_refused() -> None:
    days = np.arange(-30, 30)
    u = keyed_uniform(1, 4, days)
    assert np.unique(u).size == days.size  # run-in days before randomisation get their own draws
    with pytest.raises(ValueError, match="seed"):
        keyed_uniform(-1, 3)
    with pytest.raises(TypeError, match="integers or stream names"):
        keyed_uniform(1, np.array([0.5]))
    with pytest.raises(ValueError, match="non-empty"):
        stream_id("")


def test_calendar_months_and_visits() -> None:
    # Julian year / 12: month 12 is day 365 and month 3 is day 91 (91.3125 rounded)
    assert DAYS_PER_MONTH == pytest.approx(30.4375)
    assert month_to_day(12) == 365 and month_to_day(3) == 91 and month_to_day(None) is None
    assert visit_days([0, 1, 3, 6, 12, 24]).tolist() == [0, 30, 91, 183, 365, 730]


def test_compiled_single_counter_path_equals_the_numpy_chain() -> None:
    """uniform_from_state(1-D state, one int) runs a Numba loop; it must give the NumPy chain's bits."""
    state = keyed_state(9, np.arange(-50, 20_000), "om2:events")
    for counter in (0, 1, 17, 2**40 + 3, -5, np.int64(33)):
        fast = uniform_from_state(state, counter)
        slow = uniform_from_state(state, np.asarray([counter]))  # array key: the NumPy chain
        np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(uniform_from_state(state[::3], 4), uniform_from_state(state, np.asarray([4]))[::3])
    assert uniform_from_state(state[:0], 4).shape == (0,)
