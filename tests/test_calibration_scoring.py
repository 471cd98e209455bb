"""Proper scores and comparators (calibration/scoring.py) against independent numbers: SciPy densities,
numerical integration of the CRPS definition, and a published DerSimonian-Laird example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from t2dsim.calibration.scoring import (
    EnsemblePredictive,
    NormalPredictive,
    Observed,
    TrialEffect,
    class_constant_loto,
    crps,
    crps_normal,
    log_score,
    no_effect_predictive,
    paired_difference,
    prediction_interval,
    random_effects_pool,
    score,
    se_from_ci,
)


def _crps_by_integration(cdf, y: float, lo: float, hi: float) -> float:
    """CRPS by its definition ∫ (F(x) − 1{x ≥ y})² dx (Gneiting & Raftery 2007, eq. for the CRPS)."""
    left, _ = integrate.quad(lambda x: cdf(x) ** 2, lo, y, limit=400)
    right, _ = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, hi, limit=400)
    return left + right


def test_se_from_ci():
    assert se_from_ci(-1.11, -0.33) == pytest.approx(0.78 / (2 * stats.norm.ppf(0.975)), rel=1e-12)
    with pytest.raises(ValueError, match="low < high"):
        se_from_ci(1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        Observed(float("nan"), 0.0, 1.0)


def test_log_score_matches_scipy():
    obs = Observed(-0.72, -1.11, -0.33)
    pred = NormalPredictive(-0.3, 0.25)
    want = stats.norm.logpdf(-0.72, -0.3, math.sqrt(0.25**2 + obs.se**2))
    assert log_score(obs, pred) == pytest.approx(want, rel=1e-12)
    draws = np.array([-0.9, -0.5, -0.4, 0.1])
    want_ens = np.log(np.mean(stats.norm.pdf(-0.72, draws, obs.se)))
    assert log_score(obs, EnsemblePredictive(draws)) == pytest.approx(want_ens, rel=1e-12)
    # comparator (a) for a between-arm difference: only the observation noise around 0
    assert log_score(obs, no_effect_predictive()) == pytest.approx(stats.norm.logpdf(-0.72, 0, obs.se), rel=1e-12)


@pytest.mark.parametrize(("y", "m", "s"), [(0.3, 0.0, 1.0), (-2.5, 0.4, 0.7), (10.0, 9.0, 3.0)])
def test_crps_normal_closed_form_matches_integration(y, m, s):
    want = _crps_by_integration(lambda x: stats.norm.cdf(x, m, s), y, m - 12 * s, m + 12 * s)
    assert crps_normal(y, m, s) == pytest.approx(want, rel=1e-7, abs=1e-10)
    assert crps_normal(y, m, 0.0) == abs(y - m)


def test_crps_ensemble_matches_integration():
    rng = np.random.default_rng(3)
    draws = rng.normal(-0.4, 0.3, 25)
    obs = Observed(-0.1, -0.5, 0.3)  # SE ≈ 0.204
    se = obs.se

    def mix_cdf(x: float) -> float:
        return float(np.mean(stats.norm.cdf(x, draws, se)))

    want = _crps_by_integration(mix_cdf, obs.value, draws.min() - 12 * se, draws.max() + 12 * se)
    assert crps(obs, EnsemblePredictive(draws)) == pytest.approx(want, rel=1e-6)
    # a single draw with noise is a normal: both code paths agree
    one = crps(obs, EnsemblePredictive([0.2]))
    assert one == pytest.approx(crps(obs, NormalPredictive(0.2, 0.0)), rel=1e-12)


def test_crps_of_a_large_normal_ensemble_approaches_the_closed_form():
    draws = stats.norm.ppf((np.arange(1000) + 0.5) / 1000, loc=1.0, scale=0.5)  # quasi-random N(1, 0.25)
    obs = Observed(0.2, 0.0, 0.4)
    want = crps_normal(0.2, 1.0, math.hypot(0.5, obs.se))
    assert crps(obs, EnsemblePredictive(draws)) == pytest.approx(want, rel=2e-3)


def test_prediction_intervals():
    lo, hi = prediction_interval(NormalPredictive(1.0, 0.3), obs_se=0.4)
    assert (lo, hi) == pytest.approx(stats.norm.ppf([0.025, 0.975], 1.0, 0.5), rel=1e-12)
    draws = np.array([-1.0, 0.0, 0.5, 2.0])
    lo, hi = prediction_interval(EnsemblePredictive(draws), obs_se=0.3)
    assert np.mean(stats.norm.cdf(lo, draws, 0.3)) == pytest.approx(0.025, abs=1e-9)
    assert np.mean(stats.norm.cdf(hi, draws, 0.3)) == pytest.approx(0.975, abs=1e-9)
    obs = Observed(2.9, 2.0, 3.8)
    s = score(obs, NormalPredictive(1.0, 0.3))
    assert s.pi_high == pytest.approx(1.0 + stats.norm.ppf(0.975) * math.hypot(0.3, obs.se))
    assert s.in_pi == (s.pi_low <= 2.9 <= s.pi_high)


def test_dersimonian_laird_reproduces_the_published_bcg_example():
    """BCG vaccine trials (Colditz et al., JAMA 1994; metafor dat.bcg), log risk ratios. Published DL results
    (metafor tests 'metan vs rma.uni with dat.bcg', matching Stata metan): μ̂ = -0.7141, 95 % CI -1.0644 to
    -0.3638; fixed-effect μ̂ = -0.4303, Q = 152.2330. Tolerance 5e-4 (4-decimal publication)."""
    d = np.array(
        [
            [4, 119, 11, 128],
            [6, 300, 29, 274],
            [3, 228, 11, 209],
            [62, 13536, 248, 12619],
            [33, 5036, 47, 5761],
            [180, 1361, 372, 1079],
            [8, 2537, 10, 619],
            [505, 87886, 499, 87892],
            [29, 7470, 45, 7232],
            [17, 1699, 65, 1600],
            [186, 50448, 141, 27197],
            [5, 2493, 3, 2338],
            [27, 16886, 29, 17825],
        ],
        dtype=float,
    )
    a, b, c, dd = d.T
    y = np.log((a / (a + b)) / (c / (c + dd)))
    v = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + dd)
    pool = random_effects_pool(y, np.sqrt(v))
    assert pool.mean == pytest.approx(-0.7141, abs=5e-4)
    assert pool.mean - 1.96 * pool.se == pytest.approx(-1.0644, abs=5e-4)
    assert pool.mean + 1.96 * pool.se == pytest.approx(-0.3638, abs=5e-4)
    assert pool.q == pytest.approx(152.2330, abs=5e-4)
    from statsmodels.stats.meta_analysis import combine_effects

    sm = combine_effects(y, v, method_re="dl")
    assert pool.tau2 == pytest.approx(sm.tau2, rel=1e-9)
    assert pool.se == pytest.approx(sm.sd_eff_w_re, rel=1e-9)


def test_class_constant_comparator_leaves_the_trial_out():
    from statsmodels.stats.meta_analysis import combine_effects

    eff = [
        TrialEffect("a", "MSC", "hba1c_diff", -0.4, 0.2),
        TrialEffect("b", "MSC", "hba1c_diff", -0.1, 0.25),
        TrialEffect("c", "MSC", "hba1c_diff", -0.9, 0.3),
        TrialEffect("d", "BM-MNC", "hba1c_diff", -1.0, 0.4),
        TrialEffect("a", "MSC", "insulin_diff", -10.0, 4.0),
    ]
    out = class_constant_loto(eff)
    sm = combine_effects(np.array([-0.1, -0.9]), np.array([0.25, 0.3]) ** 2, method_re="dl")
    pa = out[("a", "hba1c_diff")]
    assert pa is not None
    assert pa.mean == pytest.approx(sm.mean_effect_re, rel=1e-9)
    assert pa.sd == pytest.approx(math.sqrt(sm.sd_eff_w_re**2 + sm.tau2), rel=1e-9)
    assert out[("d", "hba1c_diff")] is None  # no other BM-MNC trial: comparator (a) only
    assert out[("a", "insulin_diff")] is None  # no other trial with this endpoint
    with pytest.raises(ValueError, match="appears twice"):
        class_constant_loto(eff + eff[:1])


def test_paired_difference_and_refusals():
    m, se = paired_difference([1.0, 2.0, 4.0], [0.0, 1.0, 1.0])
    assert m == pytest.approx(5 / 3) and se == pytest.approx(np.std([1, 1, 3], ddof=1) / math.sqrt(3))
    with pytest.raises(ValueError, match=">= 2"):
        paired_difference([1.0], [0.0])
    with pytest.raises(ValueError, match="non-finite"):
        EnsemblePredictive([0.0, float("nan")])
    with pytest.raises(ValueError, match="sd"):
        NormalPredictive(0.0, -1.0)
    with pytest.raises(ValueError, match="ses"):
        random_effects_pool([0.1, 0.2], [0.1, 0.0])


def test_fit_heterogeneity_tau_agrees_with_the_pool_for_one_group():
    """calibration.fit.dersimonian_laird_tau (grouped DL used for trial offsets) reduces to the same τ."""
    from t2dsim.calibration.fit import dersimonian_laird_tau

    y, s = [-0.4, -0.1, -0.9, -1.3], [0.2, 0.25, 0.3, 0.35]
    tau = dersimonian_laird_tau(y, s, ["msc"] * 4)
    assert tau == pytest.approx(math.sqrt(random_effects_pool(y, s).tau2), rel=1e-12)
    assert tau > 0


def test_observed_from_a_calibration_target():
    from t2dsim.calibration.evidence import t2d_targets

    t = next(t for t in t2d_targets() if t.endpoint == "hba1c_vs_placebo_2e6_w8")
    obs = Observed.of(t)
    assert obs.value == t.observed and obs.se == pytest.approx(t.se, rel=1e-6)  # Target uses z = 1.959964
