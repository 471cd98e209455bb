"""Public API of the minute-scale meal model: simulate N patients over given minutes, and the
standard tests (75 g OGTT, mixed-meal tolerance test, three-meal day).

Example
-------
>>> from t2dsim.physiology.meal import dallaman_2007
>>> from t2dsim.simulate import three_meal_day
>>> res = three_meal_day(dallaman_2007("t2d"))
>>> round(float(res["plasma_glucose_mgdl"][0, 0]), 1)
159.2
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from t2dsim.core.units import PMOL_PER_U_INSULIN
from t2dsim.physiology.meal import AUX_NAMES, STATE_NAMES, MealParams, basal_state
from t2dsim.physiology.sensor import CGMSensor
from t2dsim.solvers import integrate_meal

#: Per-minute outputs of :func:`simulate` (name → unit).
OUTPUTS: dict[str, str] = {
    "plasma_glucose_mgdl": "mg/dL",
    "plasma_insulin_pmol_l": "pmol/L",
    "cgm_glucose_mgdl": "mg/dL",
    "cpeptide_pmol_l": "pmol/L",
    "secretion_pmol_kg_min": "pmol/kg/min",
    "ra_mg_kg_min": "mg/kg/min",
    "egp_mg_kg_min": "mg/kg/min",
    "uid_mg_kg_min": "mg/kg/min",
    "renal_mg_kg_min": "mg/kg/min",
}

#: Standard ingestion rate of a meal (g carbohydrate per minute), the UVA/Padova convention.
EAT_RATE_G_PER_MIN = 5.0


@dataclass(frozen=True)
class MealResult:
    """Labelled per-minute outputs: each array has shape (n_patients, n_minutes + 1)."""

    minutes: np.ndarray
    patients: tuple[str, ...]
    outputs: dict[str, np.ndarray]
    final_state: np.ndarray
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.outputs[name]

    def frame(self, patient: int | str = 0) -> pd.DataFrame:
        """One patient's outputs as a DataFrame indexed by minute."""
        i = self.patients.index(patient) if isinstance(patient, str) else int(patient)
        df = pd.DataFrame({k: v[i] for k, v in self.outputs.items()})
        df.insert(0, "minute", self.minutes)
        return df

    def long(self) -> pd.DataFrame:
        """All patients, long format: patient, minute, one column per output."""
        n, t = next(iter(self.outputs.values())).shape
        df = pd.DataFrame({k: v.reshape(-1) for k, v in self.outputs.items()})
        df.insert(0, "minute", np.tile(self.minutes, n))
        df.insert(0, "patient", np.repeat(np.asarray(self.patients, dtype=object), t))
        return df


def _as_matrix(x: np.ndarray | float, n: int, name: str, n_minutes: int | None) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        if n_minutes is None:
            raise ValueError(f"{name}: a scalar input needs n_minutes")
        arr = np.full((n, n_minutes), float(arr))
    elif arr.ndim == 1:
        arr = np.broadcast_to(arr, (n, arr.shape[0]))
    elif arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape (n_minutes,) or ({n}, n_minutes), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite values")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be ≥ 0 everywhere (rates per minute)")
    return np.ascontiguousarray(arr)


def simulate(
    params: MealParams,
    cho_g_per_min: np.ndarray | float,
    insulin_u_per_min: np.ndarray | float | None = None,
    *,
    n_minutes: int | None = None,
    x0: np.ndarray | None = None,
    substeps: int = 1,
    sensor: CGMSensor | None = None,
    seed: int = 0,
    patient_ids: np.ndarray | None = None,
) -> MealResult:
    """Simulate the meal model for ``params.n`` patients.

    Parameters
    ----------
    params: per-patient parameters.
    cho_g_per_min: carbohydrate eaten, g/min, shape (T,) or (n, T) (or scalar with ``n_minutes``).
    insulin_u_per_min: subcutaneous insulin, U/min, same shapes; ``None`` means each patient's
        basal rate ``params.basal_insulin_u_per_min`` (0 for non-insulin-treated patients).
    x0: initial state (n, N_STATES); default the basal steady state.
    substeps: RK4 steps per minute.
    sensor: CGM error model; ``None`` gives the noiseless interstitial glucose.
    seed, patient_ids: key of each patient's sensor-noise stream.
    """
    n = params.n
    cho = _as_matrix(cho_g_per_min, n, "cho_g_per_min", n_minutes)
    t = cho.shape[1]
    if insulin_u_per_min is None:
        ins = np.repeat(params.basal_insulin_u_per_min[:, None], t, axis=1)
    else:
        ins = _as_matrix(insulin_u_per_min, n, "insulin_u_per_min", t)
    if ins.shape[1] != t:
        raise ValueError(f"insulin_u_per_min has {ins.shape[1]} minutes, cho_g_per_min has {t}")
    if x0 is None:
        x0 = basal_state(params)
    bw = params["BW"]
    record = (STATE_NAMES.index("Gp"), STATE_NAMES.index("Ip"), STATE_NAMES.index("Gs"), STATE_NAMES.index("CP1"))
    states, aux, x_final = integrate_meal(
        x0, params.to_matrix(), cho * 1000.0, ins * (PMOL_PER_U_INSULIN / bw[:, None]), substeps, record
    )
    vg = params["VG"][:, None]
    g = states[:, :, 0] / vg
    cgm = states[:, :, 2] / vg
    if sensor is not None:
        cgm = sensor.measure(cgm, seed, patient_ids)
    out = {
        "plasma_glucose_mgdl": g,
        "plasma_insulin_pmol_l": states[:, :, 1] / params["VI"][:, None],
        "cgm_glucose_mgdl": cgm,
        "cpeptide_pmol_l": states[:, :, 3],
        "secretion_pmol_kg_min": aux[:, :, AUX_NAMES.index("secretion")],
        "ra_mg_kg_min": aux[:, :, AUX_NAMES.index("ra")],
        "egp_mg_kg_min": aux[:, :, AUX_NAMES.index("egp")],
        "uid_mg_kg_min": aux[:, :, AUX_NAMES.index("uid")],
        "renal_mg_kg_min": aux[:, :, AUX_NAMES.index("renal")],
    }
    return MealResult(
        minutes=np.arange(t + 1),
        patients=params.names,
        outputs=out,
        final_state=x_final,
        meta={"substeps": substeps, "backend": "numba-rk4"},
    )


def meal_inputs(
    n_minutes: int, meals: list[tuple[float, float]], rate_g_per_min: float = EAT_RATE_G_PER_MIN
) -> np.ndarray:
    """Per-minute carbohydrate input (g/min) for meals given as (start minute, grams), eaten at a
    constant rate (default 5 g/min, the UVA/Padova convention)."""
    if rate_g_per_min <= 0:
        raise ValueError(f"rate_g_per_min must be > 0, got {rate_g_per_min}")
    cho = np.zeros(n_minutes)
    for start, grams in meals:
        if grams < 0 or start < 0 or start >= n_minutes:
            raise ValueError(f"meal (start={start}, grams={grams}) must have grams ≥ 0 and 0 ≤ start < {n_minutes}")
        remaining = float(grams)
        m = int(start)
        while remaining > 1e-12 and m < n_minutes:
            eat = min(rate_g_per_min, remaining)
            cho[m] += eat
            remaining -= eat
            m += 1
    return cho


def ogtt(params: MealParams, glucose_g: float = 75.0, n_minutes: int = 240, **kw) -> MealResult:
    """75 g oral glucose tolerance test (WHO 1999): glucose drink at minute 0, drunk over 5 min.

    Samples are usually read at 0, 30, 60, 90, 120 min (Matsuda index) from the per-minute output.
    """
    cho = meal_inputs(n_minutes, [(0, glucose_g)], rate_g_per_min=glucose_g / 5.0)
    return simulate(params, cho, **kw)


#: TrialNet MMTT dose: Boost High Protein 6 mL/kg up to 360 mL; 33 g carbohydrate per 237 mL.
MMTT_ML_PER_KG = 6.0
MMTT_MAX_ML = 360.0
MMTT_CHO_G_PER_ML = 33.0 / 237.0


def mmtt_cho_g(body_weight_kg: np.ndarray) -> np.ndarray:
    """Carbohydrate of a standard mixed-meal tolerance test (TrialNet protocol), g."""
    ml = np.minimum(MMTT_ML_PER_KG * np.asarray(body_weight_kg, dtype=float), MMTT_MAX_ML)
    return ml * MMTT_CHO_G_PER_ML


def mmtt(params: MealParams, n_minutes: int = 240, **kw) -> MealResult:
    """Mixed-meal tolerance test: liquid meal (Boost, 6 mL/kg, ≤ 360 mL) over 5 min at minute 0."""
    grams = mmtt_cho_g(params["BW"])
    cho = np.stack([meal_inputs(n_minutes, [(0, g)], rate_g_per_min=g / 5.0) for g in grams])
    return simulate(params, cho, **kw)


#: Default three-meal day: breakfast 07:00 45 g, lunch 12:00 70 g, dinner 19:00 70 g (minutes from midnight).
THREE_MEALS: tuple[tuple[int, float], ...] = ((7 * 60, 45.0), (12 * 60, 70.0), (19 * 60, 70.0))


def three_meal_day(
    params: MealParams, meals: tuple[tuple[int, float], ...] = THREE_MEALS, n_minutes: int = 1440, **kw
) -> MealResult:
    """A 24-hour day from midnight with three meals (start minute, grams carbohydrate)."""
    cho = meal_inputs(n_minutes, list(meals))
    return simulate(params, cho, **kw)
