"""The one cohort type: virtual patients' hidden physiology, demographics, covariates and baseline.

Every layer that handles virtual patients uses :class:`Cohort`: population presets build it, screening
selects from it, the engine advances it, calibration cases and the complications model read it. Arrays
are ``(n,)``; a patient's random numbers are keyed by ``(ctx.seed, ctx.patient_ids)``, so selecting or
concatenating patients never changes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from t2dsim.physiology.progression import Effects, ProgressionParams, ProgressionState
from t2dsim.therapies.base import PatientContext

__all__ = ["Cohort"]


def _rows(x: np.ndarray, n: int, idx: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=float), (n,))[idx]


@dataclass
class Cohort:
    """Virtual patients (arrays of shape (n,)).

    Attributes:
        params: progression-model parameters.
        state: progression state at baseline.
        ctx: what therapies may read (body weight kg, age years, sex, seed, patient ids, covariates).
        bmi_kg_m2: baseline BMI (kg/m²).
        height_cm: height (cm).
        covariates: anything else a report needs (e.g. ``diabetes_duration_years``).
        preset: the population preset the patients come from ("" if built otherwise).
        effects: therapy effects the patients are on at baseline (their background regimen; neutral if None).
        baseline: one row per patient with the baseline markers (or None).
    """

    params: ProgressionParams
    state: ProgressionState
    ctx: PatientContext
    bmi_kg_m2: np.ndarray
    height_cm: np.ndarray
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    preset: str = ""
    effects: Effects | None = None
    baseline: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        return self.ctx.n

    @property
    def patient_id(self) -> np.ndarray:
        """Patient ids (int64), the keys of every random number."""
        return self.ctx.patient_ids

    @property
    def age_years(self) -> np.ndarray:
        """Age at baseline (years)."""
        return self.ctx.age_years

    @property
    def seed(self) -> int:
        return self.ctx.seed

    @property
    def background_effects(self) -> Effects:
        """Baseline therapy effects as an :class:`Effects` of (n,) arrays (neutral when none)."""
        if self.effects is None:
            return Effects.neutral(self.n)
        e = self.effects
        return Effects(**{k: _rows(getattr(e, k), self.n, slice(None)) for k in e.__dataclass_fields__})

    def select(self, idx: np.ndarray) -> Cohort:
        """The patients at positions ``idx`` (their keys, hence their random numbers, are kept)."""
        idx = np.asarray(idx)
        c = self.ctx
        ctx = PatientContext(
            n=int(idx.size),
            body_weight_kg=c.body_weight_kg[idx],
            age_years=c.age_years[idx],
            female=c.female[idx],
            seed=c.seed,
            patient_ids=c.patient_ids[idx],
            covariates={k: np.asarray(v)[idx] for k, v in c.covariates.items()},
        )
        eff = None
        if self.effects is not None:
            names = self.effects.__dataclass_fields__
            eff = Effects(**{k: _rows(getattr(self.effects, k), self.n, idx) for k in names})
        return Cohort(
            self.params.select(idx),
            self.state.select(idx),
            ctx,
            self.bmi_kg_m2[idx],
            self.height_cm[idx],
            {k: np.asarray(v)[idx] for k, v in self.covariates.items()},
            self.preset,
            eff,
            None if self.baseline is None else self.baseline.iloc[idx].reset_index(drop=True),
        )

    @staticmethod
    def concat(parts: Sequence[Cohort]) -> Cohort:
        """Patients of several cohorts (same preset and seed) in order."""
        if not parts:
            raise ValueError("Cohort.concat needs at least one cohort")
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        cat = np.concatenate
        ctx = PatientContext(
            n=sum(p.n for p in parts),
            body_weight_kg=cat([p.ctx.body_weight_kg for p in parts]),
            age_years=cat([p.ctx.age_years for p in parts]),
            female=cat([p.ctx.female for p in parts]),
            seed=first.ctx.seed,
            patient_ids=cat([p.ctx.patient_ids for p in parts]),
            covariates={k: cat([np.asarray(p.ctx.covariates[k]) for p in parts]) for k in first.ctx.covariates},
        )
        eff = None
        if first.effects is not None:
            names = first.effects.__dataclass_fields__
            eff = Effects(**{k: cat([getattr(p.background_effects, k) for p in parts]) for k in names})
        return Cohort(
            ProgressionParams({k: cat([p.params[k] for p in parts]) for k in first.params.values}),
            ProgressionState.from_matrix(cat([p.state.to_matrix() for p in parts])),
            ctx,
            cat([p.bmi_kg_m2 for p in parts]),
            cat([p.height_cm for p in parts]),
            {k: cat([np.asarray(p.covariates[k]) for p in parts]) for k in first.covariates},
            first.preset,
            eff,
            None if first.baseline is None else pd.concat([p.baseline for p in parts], ignore_index=True),
        )
