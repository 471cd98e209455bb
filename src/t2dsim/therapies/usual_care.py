"""Usual care: each patient's baseline regimen continued, with its insulin titrated.

The protocol kind ``standard_care`` (spec fields ``insulin_titration`` and ``target_fpg_mgdl``) means
"what the patient was on at baseline continues": a patient on insulin at baseline (the cohort's
``insulin_dose_u_per_day`` covariate, U/day) keeps basal insulin from that dose, titrated by the
treat-to-target rules of Riddle et al. 2003 (:class:`t2dsim.therapies.insulin.BasalInsulin`) when
``insulin_titration`` is true; patients without insulin at baseline continue diet alone (nothing is
started: intensification is what ``treatment_plan`` is for).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from t2dsim.therapies.base import PatientContext, Therapy
from t2dsim.therapies.insulin import BasalInsulin
from t2dsim.trial.builders import BuildContext, register_builder


class UsualCareInsulin(BasalInsulin):
    """Basal insulin continued from each patient's baseline dose (U/day); off for patients with none."""

    kind = "usual_care_insulin"

    def setup(self, ctx: PatientContext) -> None:
        super().setup(ctx)
        dose = np.asarray(ctx.covariates.get("insulin_dose_u_per_day", np.zeros(ctx.n)), dtype=float)
        if dose.shape != (ctx.n,) or np.any(~np.isfinite(dose)) or np.any(dose < 0):
            raise ValueError("covariate insulin_dose_u_per_day must be finite and ≥ 0 U/day for every patient")
        self.dose_u = dose.copy()
        self.mask = (dose > 0.0).astype(float)


@register_builder("standard_care")
def _standard_care(spec: object, ctx: BuildContext) -> Sequence[Therapy]:
    return [
        UsualCareInsulin(
            "glargine",
            0.0,
            target_fpg_mgdl=float(getattr(spec, "target_fpg_mgdl", 100.0)),
            titrate=bool(getattr(spec, "insulin_titration", True)),
            start_day=ctx.day(getattr(spec, "start_month", 0.0)) or 0,
            stop_day=ctx.day(getattr(spec, "stop_month", None)),
        )
    ]
