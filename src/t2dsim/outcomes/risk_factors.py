"""Risk-factor time paths for the UKPDS OM2 simulator.

Each continuous risk factor of a patient is, per annual cycle ``t = 0, 1, ...`` (cycle 0 = the
first simulated year), one of:

* a given path: an array ``(n_patients, k)`` whose column ``j`` is the value during cycle ``j``
  (for example HbA1c from t2dsim's progression model), or a callable ``f(t) -> (n_patients,)``;
* a baseline value ``(n_patients,)`` for cycle 0, continued by the extension rule.

Beyond the end of a given path (and after a baseline) the value follows ``extend``:

* ``"ukpds90"`` (default): the UKPDS OM2 risk-factor equations of the form
  ``X_t = c + b_lag X_{t-1} + b_first X_0 + b_dur ln(duration_t) + b_female FEMALE + b_afro AFRO
  + b_indian INDIAN`` (form of UKPDS 90, Leal et al. Diabet Med 2021, PMID 34297424; numbers from
  public implementations, tag S, see ``parameters/om2_coefficients.csv`` equations ``rf_*``).
  ``X_0`` is the value at simulation entry (the equations use the value at diagnosis; U), and
  ``duration_t`` is floored at 1 year inside the logarithm (U). The equations are deterministic
  mean paths (no residual noise), as in the public implementations.
* ``"constant"``: last value carried forward.

eGFR, smoking, albuminuria, atrial fibrillation and PVD have no equation here (the only public
coefficients for them are single-source or demonstrably copied wrongly, see docs/complications.md);
they are held at their last given value unless a path is supplied.

Units: HbA1c %, SBP mmHg, LDL/HDL mmol/L, BMI kg/m^2, eGFR mL/min/1.73 m^2, heart rate beats/min,
WBC 10^9/L, haemoglobin g/dL; binary factors 0/1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

PathSpec = np.ndarray | Callable[[int], np.ndarray]

#: Continuous factors: (lower, upper, unit) accepted range; values outside raise ValueError.
CONTINUOUS_BOUNDS: Mapping[str, tuple[float, float, str]] = {
    "hba1c": (3.0, 20.0, "% (DCCT/NGSP)"),
    "sbp": (60.0, 260.0, "mmHg"),
    "ldl": (0.1, 15.0, "mmol/L"),
    "hdl": (0.1, 5.0, "mmol/L"),
    "bmi": (10.0, 80.0, "kg/m^2"),
    "egfr": (1.0, 200.0, "mL/min/1.73 m^2"),
    "heart_rate": (30.0, 200.0, "beats/min"),
    "wbc": (0.5, 60.0, "10^9/L"),
    "haemoglobin": (4.0, 25.0, "g/dL"),
}
BINARY_FACTORS: tuple[str, ...] = ("smoker", "mmalb", "atfib", "pvd")
#: Factors with a UKPDS-90-form equation (coefficient equation name ``rf_<name>``).
EQUATION_FACTORS: tuple[str, ...] = ("hba1c", "sbp", "ldl", "hdl", "bmi", "heart_rate", "wbc", "haemoglobin")
ALL_FACTORS: tuple[str, ...] = tuple(CONTINUOUS_BOUNDS) + BINARY_FACTORS


def check_range(name: str, values: np.ndarray) -> None:
    """Raise ValueError naming the field and its allowed range if any value is out of range."""
    if name in CONTINUOUS_BOUNDS:
        lo, hi, unit = CONTINUOUS_BOUNDS[name]
        bad = ~np.isfinite(values) | (values < lo) | (values > hi)
        if np.any(bad):
            first = values[bad].flat[0]
            raise ValueError(f"{name}: value {first!r} outside allowed range [{lo}, {hi}] {unit}")
    elif name in BINARY_FACTORS:
        bad = (values != 0) & (values != 1)
        if np.any(bad):
            raise ValueError(f"{name}: must be 0/1 (or bool), got {values[bad].flat[0]!r}")


@dataclass
class FactorSource:
    """Normalised description of one factor: a (n, k) path array (k >= 1) or a callable."""

    name: str
    array: np.ndarray | None
    func: Callable[[int], np.ndarray] | None


def normalise_factor(name: str, spec: PathSpec | float, n: int) -> FactorSource:
    """Turn user input (scalar, (n,), (n, k) or callable) into a FactorSource, validating it."""
    if callable(spec):
        return FactorSource(name, None, spec)
    arr = np.asarray(spec, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full((n, 1), float(arr))
    elif arr.ndim == 1:
        if arr.shape[0] != n:
            raise ValueError(f"{name}: expected shape ({n},) or ({n}, n_years), got {arr.shape}")
        arr = arr[:, None]
    elif arr.ndim == 2:
        if arr.shape[0] != n or arr.shape[1] < 1:
            raise ValueError(f"{name}: expected shape ({n}, n_years>=1), got {arr.shape}")
    else:
        raise ValueError(f"{name}: expected a scalar, (n,), (n, n_years) array or a callable")
    check_range(name, arr)
    return FactorSource(name, np.ascontiguousarray(arr), None)


class RiskFactorPaths:
    """Produces each factor's value for cycle ``t`` for all simulated rows.

    Rows are patient-major replicates: row ``i * n_rep + r`` is replicate ``r`` of patient ``i``,
    so per-patient inputs are expanded with ``np.repeat(x, n_rep)``.
    """

    def __init__(
        self,
        sources: Mapping[str, FactorSource],
        female: np.ndarray,
        afro: np.ndarray,
        indian: np.ndarray,
        duration0: np.ndarray,
        rf_coefficients: Mapping[str, Mapping[str, float]],
        n_rep: int,
        extend: str = "ukpds90",
    ) -> None:
        if extend not in ("ukpds90", "constant"):
            raise ValueError(f"extend must be 'ukpds90' or 'constant', got {extend!r}")
        self._sources = dict(sources)
        self._n_patients = female.shape[0]
        self._n_rep = n_rep
        self._female = np.repeat(female.astype(np.float64), n_rep)
        self._afro = np.repeat(afro.astype(np.float64), n_rep)
        self._indian = np.repeat(indian.astype(np.float64), n_rep)
        self._duration0 = np.repeat(duration0.astype(np.float64), n_rep)
        self._coef = rf_coefficients
        self._extend = extend
        self._current: dict[str, np.ndarray] = {}
        self._first: dict[str, np.ndarray] = {}
        self._t = -1

    def _given(self, name: str, t: int) -> np.ndarray | None:
        src = self._sources[name]
        if src.func is not None:
            val = src.func(t)
            if val is None:
                return None
            val = np.asarray(val, dtype=np.float64)
            if val.shape != (self._n_patients,):
                raise ValueError(
                    f"{name}: callable returned shape {val.shape} for cycle {t}, expected ({self._n_patients},)"
                )
            check_range(name, val)
            return np.repeat(val, self._n_rep)
        assert src.array is not None
        if t < src.array.shape[1]:
            return np.repeat(src.array[:, t], self._n_rep)
        return None

    def _equation(self, name: str, t: int) -> np.ndarray:
        c = self._coef[f"rf_{name}"]
        dur = np.maximum(self._duration0 + t, 1.0)
        return (
            c.get("CONST", 0.0)
            + c.get("LAG", 0.0) * self._current[name]
            + c.get("FIRST", 0.0) * self._first[name]
            + c.get("LN_DURATION", 0.0) * np.log(dur)
            + c.get("FEMALE", 0.0) * self._female
            + c.get("AFRO", 0.0) * self._afro
            + c.get("INDIAN", 0.0) * self._indian
        )

    def advance(self) -> dict[str, np.ndarray]:
        """Move to the next cycle and return ``{factor: (n_rows,)}`` values for that cycle."""
        t = self._t + 1
        for name in self._sources:
            given = self._given(name, t)
            if given is not None:
                value = given
            elif t == 0:
                raise ValueError(f"{name}: callable returned None for cycle 0 (a baseline is required)")
            elif self._extend == "ukpds90" and name in EQUATION_FACTORS:
                value = self._equation(name, t)
            else:
                value = self._current[name]
            if t == 0:
                self._first[name] = value
            self._current[name] = value
        self._t = t
        return dict(self._current)
