"""CGM sensor error: Breton & Kovatchev 2008 Johnson-SU transformed AR(1) noise.

Source: M. Breton, B. Kovatchev, "Analysis, modeling, and simulation of the accuracy of continuous
glucose sensors", J Diabetes Sci Technol 2(5):853–862, 2008. Sensor error ε = ξ + λ·sinh((e − γ)/δ)
with e an AR(1) process e_n = PACF·(e_{n−1} + v_n), v_n ~ N(0, 1), on a 15-minute grid (the model's
time step in Breton & Kovatchev 2008 and simglucose's ``MDL_SAMPLE_TIME``); ε is interpolated with a
cubic spline to the sensor's sample times and held between samples.
Parameter values of the Dexcom-like sensor (PACF 0.7, γ −0.5444,
λ 15.9574, δ 1.6898, ξ −5.47 mg/dL, 3-min samples, range 39–600 mg/dL) are those distributed with
the UVA/Padova simulator's open implementation (simglucose ``sensor_params.csv``).

Noise does not feed back into the physiology, so it is added after integration, vectorised over
patients, with one random stream per patient keyed by ``(seed, patient_index)`` (independent of
chunking).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from t2dsim.core.rng import patient_generators

#: Time step of the AR(1) noise model, minutes (Breton & Kovatchev 2008; simglucose MDL_SAMPLE_TIME).
MODEL_STEP_MIN = 15


@dataclass(frozen=True)
class CGMSensor:
    """Johnson-SU AR(1) CGM error model; glucose values in mg/dL, sample time in minutes."""

    pacf: float = 0.7
    gamma: float = -0.5444
    lam: float = 15.9574
    delta: float = 1.6898
    xi: float = -5.47
    sample_time_min: int = 3
    min_mgdl: float = 39.0
    max_mgdl: float = 600.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.pacf < 1.0:
            raise ValueError(f"pacf must lie in [0, 1), got {self.pacf}")
        if self.delta <= 0 or self.lam < 0:
            raise ValueError("delta must be > 0 and lambda ≥ 0")
        if self.sample_time_min < 1:
            raise ValueError(f"sample_time_min must be ≥ 1 minute, got {self.sample_time_min}")

    def error(self, n_patients: int, n_minutes: int, seed: int, patient_ids: np.ndarray | None = None) -> np.ndarray:
        """Sensor error (mg/dL), shape (n_patients, n_minutes), held over each sample interval."""
        ids = np.arange(n_patients) if patient_ids is None else np.asarray(patient_ids)
        n15 = n_minutes // MODEL_STEP_MIN + 3  # 15-min grid covering the horizon (spline needs ≥ 4 knots)
        v = np.empty((n_patients, n15))
        for row, g in enumerate(patient_generators(seed, ids)):  # one stream per patient: draws only
            v[row] = g.standard_normal(n15)
        e = np.empty_like(v)
        e[:, 0] = v[:, 0]
        for k in range(1, n15):  # loop over the 15-min grid, vectorised over patients
            e[:, k] = self.pacf * (e[:, k - 1] + v[:, k])
        eps15 = self.xi + self.lam * np.sinh((e - self.gamma) / self.delta)
        t_samples = np.arange(0, n_minutes, self.sample_time_min, dtype=float)
        from scipy.interpolate import CubicSpline  # here, not at import: 0.3 s that trials without CGM skip

        eps = CubicSpline(np.arange(n15) * float(MODEL_STEP_MIN), eps15, axis=1)(t_samples)
        return np.repeat(eps, self.sample_time_min, axis=1)[:, :n_minutes]

    def measure(self, glucose_mgdl: np.ndarray, seed: int, patient_ids: np.ndarray | None = None) -> np.ndarray:
        """Noisy CGM readings from interstitial glucose (mg/dL), clipped to the sensor's range."""
        g = np.asarray(glucose_mgdl, dtype=float)
        return np.clip(g + self.error(g.shape[0], g.shape[1], seed, patient_ids), self.min_mgdl, self.max_mgdl)
