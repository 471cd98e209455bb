"""Hypoglycaemia event counting (< 70 and < 54 mg/dL, ≥ 15 min, 15-min recovery) against a plain
per-patient reference implementation and hand-made traces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from t2dsim.therapies.hypoglycaemia import accumulate, count_day, count_events


def _reference(trace, thr, min_len=15, rec=15):
    """Straightforward state machine (independent of the vectorised code)."""
    events, i, t = 0, 0, len(trace)
    while i < t:
        if trace[i] < thr:
            j = i
            while True:  # extend the episode across short recoveries
                while j < t and trace[j] < thr:
                    j += 1
                k = j
                while k < t and trace[k] >= thr:
                    k += 1
                if k < t and k - j < rec:
                    j = k
                    continue
                break
            if j - i >= min_len:
                events += 1
            i = j
        else:
            i += 1
    return events


def test_hand_made_traces():
    base = np.full(300, 100.0)
    one = base.copy()
    one[50:70] = 60.0  # 20 min below 70 → one level-1 event, no level-2
    short = base.copy()
    short[50:60] = 60.0  # 10 min → none
    split = base.copy()
    split[50:70] = 60.0
    split[80:100] = 60.0  # 10-min recovery in between → one event
    two = base.copy()
    two[50:70] = 50.0
    two[120:140] = 50.0  # 50-min recovery → two events, both level 2
    g = np.stack([one, short, split, two])
    np.testing.assert_array_equal(count_events(g, 70.0), [1, 0, 1, 2])
    np.testing.assert_array_equal(count_events(g, 54.0), [0, 0, 0, 2])
    c = count_day(g)
    assert c.min_glucose_mgdl.tolist() == [60.0, 60.0, 60.0, 50.0]
    total = accumulate([c, c])
    assert total.level1.tolist() == [2, 0, 2, 4] and total.days == pytest.approx(2 * 299 / 1440)
    assert total.rate_per_patient_year(1) == pytest.approx(8 / (4 * total.days / 365.25))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_matches_reference_on_random_traces(seed):
    rng = np.random.default_rng(seed)
    # random walk around 80 mg/dL so that crossings are frequent
    g = 80.0 + np.cumsum(rng.normal(0.0, 3.0, size=(6, 400)), axis=1)
    for thr in (70.0, 54.0):
        ref = [_reference(row, thr) for row in g]
        np.testing.assert_array_equal(count_events(g, thr), ref)


def test_cgm_sampling_and_bad_arguments():
    g = np.full((1, 100), 100.0)
    g[0, 10:13] = 60.0  # 3 samples × 5 min = 15 min
    assert count_events(g, 70.0, minutes_per_sample=5.0)[0] == 1
    with pytest.raises(ValueError, match="threshold_mgdl must be > 0"):
        count_events(g, -1.0)
