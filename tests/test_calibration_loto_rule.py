"""The cold-LOTO acceptance rule (calibration.loto_rule, version 2): its two conditions on hand-made scores, and that
its power simulation separates a real effect from none with the stated size. Reference numbers: log 20 = 2.9957,
Student t 95 % quantile t(0.95, 2) = 2.920 (any table; version 1's statistic, still reported) and Binomial(20, 0.95)
quantiles (F⁻¹(0.025) = 17, F⁻¹(0.975) = 20)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from t2dsim.calibration.loto_rule import coverage_range, rule_power, rule_verdict


def test_coverage_range_is_the_central_binomial_range():
    assert coverage_range(20) == (17, 20)


def test_rule_needs_a_likelihood_ratio_of_20_and_calibrated_intervals():
    trial = ["a", "a", "b", "c"]
    # S = 1 + 1 + 3 − 2 = 3.0 > log 20 = 2.9957: passes, although one trial is worse than no effect
    v = rule_verdict(trial, [1.0, 1.0, 3.0, -2.0], [0.0, 0.0, 0.0, 0.0], [True] * 4)
    assert v.threshold == pytest.approx(2.9957, abs=1e-4) and v.sum_diff == pytest.approx(3.0)
    assert v.passed
    # version 1's t over trial sums (2, 3, −2): mean 1, SD 2.646, t = 0.655 < t(0.95, 2) = 2.920: reported only
    assert v.t_crit == pytest.approx(2.920, abs=1e-3) and v.t_stat == pytest.approx(1 / (math.sqrt(7) / math.sqrt(3)))
    assert not v.v1_better_than_no_effect
    # S = 2.99 < log 20: ratio 19.9, not enough
    assert not rule_verdict(trial, [1.0, 1.0, 2.99, -2.0], [0.0] * 4, [True] * 4).better_than_no_effect
    # all four endpoints outside their PIs: coverage 0 of 4 is outside [F⁻¹(0.025), F⁻¹(0.975)] = [3, 4]
    bad = rule_verdict(trial, [1.0, 1.0, 3.0, 2.5], [0.0] * 4, [False] * 4)
    assert bad.better_than_no_effect and not bad.coverage_ok and not bad.passed
    with pytest.raises(ValueError, match=">= 2 held-out trials"):
        rule_verdict(["a", "a"], [1.0, 2.0], [0.0, 0.0], [True, True])
    with pytest.raises(ValueError, match="finite log scores"):
        rule_verdict(trial, [1.0, math.nan, 3.0, 2.5], [0.0] * 4, [True] * 4)


def test_power_is_high_for_a_clear_effect_and_size_within_its_bound():
    """Seven endpoints with a true effect of −0.8 (SE 0.2): the rule rejects no effect nearly always; with no true
    effect it rejects in at most 1/20 of datasets (Markov's bound on a likelihood ratio of 20)."""
    rng = np.random.default_rng(1)
    trial = [f"t{i}" for i in range(7)]
    se = [0.2] * 7
    model = [rng.normal(-0.8, 0.1, 50) for _ in range(7)]
    none = [np.array([0.0])] * 7
    strong = rule_power(trial, model, none, model, se, n_sim=400, seed=0)
    null = rule_power(trial, model, none, none, se, n_sim=400, seed=0)
    assert strong["better_than_no_effect"] > 0.95 and strong["rule"] > 0.8, strong
    assert null["better_than_no_effect"] < 0.05 and strong["size"] < 0.05, (null, strong)
    assert null["better_than_no_effect"] == pytest.approx(strong["size"], abs=0.03)


def test_size_of_a_weak_model_is_bounded_by_one_in_twenty():
    """A model barely different from no effect (−0.05, SE 0.2): under no effect the likelihood ratio still exceeds 20
    in at most 5 % of datasets (the Markov bound the threshold rests on), and with the weak true effect the rule has
    little power: it does not claim what seven such endpoints cannot show."""
    trial = [f"t{i}" for i in range(7)]
    se = [0.2] * 7
    weak = [np.full(20, -0.05)] * 7
    p = rule_power(trial, weak, [np.array([0.0])] * 7, weak, se, n_sim=2000, seed=3)
    assert p["size"] <= 0.05 and p["better_than_no_effect"] < 0.2, p


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
