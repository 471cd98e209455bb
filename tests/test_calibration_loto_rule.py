"""The committed cold-LOTO acceptance rule (calibration.loto_rule): its two conditions on hand-made scores, and that
its power simulation separates a real effect from none. Reference numbers: Student t 95 % quantiles (any table:
t(0.95, 2) = 2.920, t(0.95, 6) = 1.943) and Binomial(20, 0.95) quantiles (F⁻¹(0.025) = 17, F⁻¹(0.975) = 20)."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.calibration.loto_rule import coverage_range, rule_power, rule_verdict


def test_coverage_range_is_the_central_binomial_range():
    assert coverage_range(20) == (17, 20)


def test_rule_needs_both_a_better_log_score_over_trials_and_calibrated_intervals():
    trial = ["a", "a", "b", "c"]
    # trial sums D = (1+1, 3, 2.5): mean 2.5, SD 0.5, SE 0.2887, t = 8.66 > t(0.95, 2) = 2.920
    v = rule_verdict(trial, [1.0, 1.0, 3.0, 2.5], [0.0, 0.0, 0.0, 0.0], [True] * 4)
    assert v.t_crit == pytest.approx(2.920, abs=1e-3) and v.t_stat == pytest.approx(2.5 / (0.5 / np.sqrt(3)))
    assert v.passed
    # one trial worse than no effect: D = (2, 3, −4), t = 0.19: fails condition 1
    assert not rule_verdict(trial, [1.0, 1.0, 3.0, -4.0], [0.0] * 4, [True] * 4).better_than_no_effect
    # all four endpoints outside their PIs: coverage 0 of 4 is outside [F⁻¹(0.025), F⁻¹(0.975)] = [3, 4]
    bad = rule_verdict(trial, [1.0, 1.0, 3.0, 2.5], [0.0] * 4, [False] * 4)
    assert bad.better_than_no_effect and not bad.coverage_ok and not bad.passed
    with pytest.raises(ValueError, match=">= 2 held-out trials"):
        rule_verdict(["a", "a"], [1.0, 2.0], [0.0, 0.0], [True, True])


def test_power_is_high_for_a_clear_effect_and_low_without_one():
    rng = np.random.default_rng(1)
    trial = [f"t{i}" for i in range(7)]
    se = [0.2] * 7
    model = [rng.normal(-0.8, 0.1, 50) for _ in range(7)]
    none = [np.array([0.0])] * 7
    strong = rule_power(trial, model, none, model, se, n_sim=200, seed=0)["rule"]
    null = rule_power(trial, model, none, [np.array([0.0])] * 7, se, n_sim=200, seed=0)["rule"]
    assert strong > 0.9 and null < 0.05, (strong, null)


def test_power_parts_separate_the_two_parts_of_the_rule():
    """rule_power's parts: with truth at no effect, the coverage part still holds often where the model's PIs are wide,
    but 'better than no effect' almost never; the rule passes only where both do (the rule's share ≤ each part's)."""
    rng = np.random.default_rng(1)
    trial = [f"t{i}" for i in range(7)]
    se = [0.2] * 7
    wide = [rng.normal(-0.3, 0.4, 50) for _ in range(7)]
    parts = rule_power(trial, wide, [np.array([0.0])] * 7, [np.array([0.0])] * 7, se, n_sim=200, seed=0)
    assert parts["better_than_no_effect"] < 0.05 < 0.8 < parts["coverage"], parts
    assert parts["rule"] <= min(parts["better_than_no_effect"], parts["coverage"])
