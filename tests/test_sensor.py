"""CGM sensor error (Breton & Kovatchev 2008 model): moments and autocorrelation against analytic values."""

import numpy as np
import pytest

from t2dsim.physiology.sensor import CGMSensor


def _johnson_moments(s: CGMSensor, var_e: float) -> tuple[float, float]:
    """Mean and SD of ξ + λ·sinh((e − γ)/δ) for e ~ N(0, var_e), from the lognormal moment formulas:
    E sinh(x) = sinh(μ)·exp(σ²/2), E cosh(2x) = cosh(2μ)·exp(2σ²), x ~ N(μ, σ²), μ = −γ/δ, σ² = var_e/δ²."""
    mu, s2 = -s.gamma / s.delta, var_e / s.delta**2
    m1 = np.sinh(mu) * np.exp(s2 / 2)
    m2 = (np.cosh(2 * mu) * np.exp(2 * s2) - 1) / 2
    return s.xi + s.lam * m1, s.lam * np.sqrt(m2 - m1**2)


def test_error_moments_and_autocorrelation():
    s = CGMSensor()
    err = s.error(400, 15 * 400, seed=11)  # 400 patients × 100 h
    # Stationary AR(1) e_n = ρ(e_{n−1} + v_n): Var e = ρ²/(1 − ρ²) (0.961 for ρ = 0.7).
    mean, sd = _johnson_moments(s, s.pacf**2 / (1 - s.pacf**2))
    grid = err[:, ::15][:, 5:]  # 15-min grid points, after the start-up sample
    assert grid.mean() == pytest.approx(mean, abs=0.5)  # MC SE ≈ 0.2 mg/dL
    assert grid.std() == pytest.approx(sd, rel=0.05)
    # Lag-15-min correlation: the AR(1) has ρ = 0.7; the monotone Johnson transform keeps it close (0.6–0.75).
    a, b = grid[:, :-1].ravel(), grid[:, 1:].ravel()
    assert 0.6 < np.corrcoef(a, b)[0, 1] < 0.75
    # Held constant within each 3-minute sample.
    assert np.all(err[:, 0::3] == err[:, 1::3][:, : err[:, 0::3].shape[1]])


def test_same_seed_same_noise_per_patient_whatever_the_batch():
    s = CGMSensor()
    a = s.error(5, 600, seed=3, patient_ids=np.arange(5))
    b = s.error(2, 600, seed=3, patient_ids=np.array([3, 4]))
    np.testing.assert_array_equal(a[3:], b)


def test_bad_sensor_parameters_are_refused():
    with pytest.raises(ValueError, match="pacf"):
        CGMSensor(pacf=1.2)
    with pytest.raises(ValueError, match="sample_time_min"):
        CGMSensor(sample_time_min=0)
