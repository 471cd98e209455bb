"""Per-patient inputs of the UKPDS OM2 simulator: demographics, risk-factor paths and complication history.

A view of a cohort for the complications model: :mod:`t2dsim.outcomes.trial_link` builds it from a trial's
patients and results; it holds what the OM2 equations read, nothing of the glucose physiology.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from t2dsim.outcomes.risk_factors import ALL_FACTORS, FactorSource, PathSpec, normalise_factor
from t2dsim.outcomes.utilities import CONDITIONS
from t2dsim.therapies.stemcells.regeneration import HazardModifiers

__all__ = ["OM2Inputs"]


_ETHNICITY = {"white": 0, "afro_caribbean": 1, "asian_indian": 2}

@dataclass
class OM2Inputs:
    """Per-patient inputs (arrays of length n; scalars broadcast).

    Time-varying factors (``hba1c, sbp, ldl, hdl, bmi, egfr, heart_rate, wbc, haemoglobin,
    smoker, mmalb, atfib, pvd``) accept a baseline ``(n,)``, a path ``(n, n_years)`` (column j =
    value during cycle j, e.g. HbA1c from the progression model) or a callable ``f(cycle)``
    returning ``(n,)`` (or None to hand over to the extension rule).
    ``age`` (years) and ``duration`` (years since diagnosis) are at simulation start.
    ``history``: prior complications at start, keys from :data:`CONDITIONS` (``mi``, ...).
    """

    age: ArrayLike
    female: ArrayLike
    duration: ArrayLike
    hba1c: PathSpec | ArrayLike
    sbp: PathSpec | ArrayLike
    ldl: PathSpec | ArrayLike
    hdl: PathSpec | ArrayLike
    bmi: PathSpec | ArrayLike
    egfr: PathSpec | ArrayLike
    heart_rate: PathSpec | ArrayLike
    wbc: PathSpec | ArrayLike
    haemoglobin: PathSpec | ArrayLike
    smoker: PathSpec | ArrayLike = 0
    mmalb: PathSpec | ArrayLike = 0
    atfib: PathSpec | ArrayLike = 0
    pvd: PathSpec | ArrayLike = 0
    ethnicity: ArrayLike = "white"
    patient_id: ArrayLike | None = None
    history: Mapping[str, ArrayLike] = field(default_factory=dict)
    hazard_modifiers: HazardModifiers | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, **overrides) -> OM2Inputs:
        """Build a cohort from a DataFrame with one row per patient.

        Columns named like the fields (``age, female, duration, hba1c, ...``, optional
        ``ethnicity, patient_id, smoker, mmalb, atfib, pvd`` and ``history_<condition>``) are used;
        keyword ``overrides`` (e.g. ``hba1c=path_array``) replace columns.
        """
        fields = (
            "age",
            "female",
            "duration",
            *ALL_FACTORS,
            "ethnicity",
            "patient_id",
        )
        kw: dict = {k: frame[k].to_numpy() for k in fields if k in frame.columns}
        hist = {c: frame[f"history_{c}"].to_numpy() for c in CONDITIONS if f"history_{c}" in frame.columns}
        if hist:
            kw["history"] = hist
        kw.update(overrides)
        missing = [k for k in ("age", "female", "duration", *ALL_FACTORS[:9]) if k not in kw]
        if missing:
            raise ValueError(f"from_frame: missing columns {missing}")
        return cls(**kw)

    def __post_init__(self) -> None:
        n = 1
        for name in ("age", "female", "duration", "patient_id", *ALL_FACTORS):
            val = getattr(self, name)
            if val is not None and not callable(val) and np.ndim(val) >= 1:
                n = max(n, np.shape(val)[0])
        self.n = n
        age = np.asarray(self.age, dtype=np.float64)
        age = np.full(n, float(age)) if age.ndim == 0 else age
        if age.shape != (n,):
            raise ValueError(f"age: expected shape ({n},), got {age.shape}")

        def vec(name: str, x: ArrayLike, dtype=np.float64) -> np.ndarray:
            a = np.asarray(x, dtype=dtype)
            if a.ndim == 0:
                a = np.full(n, a, dtype=dtype)
            if a.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
            return a

        if np.any(~np.isfinite(age) | (age < 18) | (age > 110)):
            raise ValueError("age: values must be in [18, 110] years")
        dur = vec("duration", self.duration)
        if np.any(~np.isfinite(dur) | (dur < 0) | (dur > age - 10)):
            raise ValueError("duration: values must be in [0, age - 10] years since diagnosis")
        fem = vec("female", self.female)
        if np.any((fem != 0) & (fem != 1)):
            raise ValueError("female: must be 0/1 (or bool)")
        eth = np.asarray(self.ethnicity)
        if eth.ndim == 0:
            eth = np.full(n, eth.item())
        if eth.dtype.kind in "UO":
            bad = [e for e in np.unique(eth) if e not in _ETHNICITY]
            if bad:
                raise ValueError(
                    f"ethnicity: {bad[0]!r} not allowed; allowed: {list(_ETHNICITY)} "
                    "(OM2 was estimated for these three groups only)"
                )
            eth = np.array([_ETHNICITY[e] for e in eth], dtype=np.int64)
        eth = vec("ethnicity", eth, np.int64)
        if np.any((eth < 0) | (eth > 2)):
            raise ValueError("ethnicity: integer codes must be 0 white, 1 afro_caribbean, 2 asian_indian")
        if self.patient_id is None:
            pid = np.arange(n, dtype=np.int64)
        else:
            pid = vec("patient_id", self.patient_id, np.int64)
        if np.any(pid < 0) or np.unique(pid).size != n:
            raise ValueError("patient_id: must be unique non-negative integers")
        hist = {}
        for k, v in self.history.items():
            if k not in CONDITIONS:
                raise ValueError(f"history: unknown condition {k!r}; allowed: {list(CONDITIONS)}")
            h = vec(f"history[{k}]", v)
            if np.any((h != 0) & (h != 1)):
                raise ValueError(f"history[{k}]: must be 0/1")
            hist[k] = h.astype(bool)
        for k in CONDITIONS:
            hist.setdefault(k, np.zeros(n, dtype=bool))
        self.sources: dict[str, FactorSource] = {
            name: normalise_factor(name, getattr(self, name), n) for name in ALL_FACTORS
        }
        self.age_arr, self.duration_arr, self.female_arr = age, dur, fem.astype(bool)
        self.afro_arr, self.indian_arr = eth == 1, eth == 2
        self.patient_id_arr, self.history_arr = pid, hist
