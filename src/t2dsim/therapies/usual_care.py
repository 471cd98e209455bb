"""Usual care: each patient's baseline regimen continued, with its insulin titrated both ways.

The protocol kind ``standard_care`` (spec fields ``insulin_titration`` and ``target_fpg_mgdl``) means
"what the patient was on at baseline continues": a patient on insulin at baseline (the cohort's
``insulin_dose_u_per_day`` covariate, U/day) keeps basal insulin from that dose, titrated by the
treat-to-target rules of Riddle et al. 2003 (:class:`t2dsim.therapies.insulin.BasalInsulin`) when
``insulin_titration`` is true; patients without insulin at baseline continue diet alone (nothing is
started: intensification is what ``treatment_plan`` is for).

Doses also come down: when the week's self-measured fasting glucose is more than 20 mg/dL below the
titration target (but never below the ADA lower fasting target of 80 mg/dL), the dose is cut by 10 %
(ADA Standards of Care, section 9: lower the dose by 10–20 % when glucose runs below target), and below
2 U/day insulin is stopped (insulin independence). The 20 mg/dL band is a modelling choice (tag D), the
width that makes the rule two-sided without oscillation. The progression model's fasting glucose
settles near 100 mg/dL whenever endogenous secretion can carry the load, so with the default trial's
target of 130 mg/dL insulin is withdrawn when a graft or an insulin-sparing therapy takes over — as in
the stem-cell trials, whose protocols tapered insulin to avoid hypoglycaemia.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from t2dsim.core.registry import BuildContext, register_therapy
from t2dsim.core.specs import TherapySpecBase
from t2dsim.therapies.base import PatientContext, Therapy
from t2dsim.therapies.insulin import BasalInsulin

#: Dose cuts start this far below the titration target (mg/dL; design choice, tag D) ...
TAPER_BAND_MGDL = 20.0
#: ... but never below the ADA lower fasting target (mg/dL).
LOWER_FPG_TARGET_MGDL = 80.0
DOSE_CUT_FRACTION = 0.10
#: Below this dose (U/day) basal insulin is stopped.
STOP_DOSE_U = 2.0


class UsualCareInsulin(BasalInsulin):
    """Basal insulin continued from each patient's baseline dose (U/day); off for patients with none.
    Titrated up by the Riddle 2003 rules above the target, cut by 10 % a week more than 20 mg/dL below it."""

    kind = "usual_care_insulin"
    #: continues the cohort's baseline regimen (a background run-in then holds no separate baseline effect)
    continues_baseline = True

    def __init__(self, *args, intensify: bool = True, **kw) -> None:
        super().__init__(*args, **kw)
        self.intensify = bool(intensify)

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        before = self.dose_u.copy()
        self._observe_both_ways(ctx, day, state)
        if not self.intensify:  # taper-only protocols never raise a dose
            self.dose_u = np.minimum(self.dose_u, before)

    def _observe_both_ways(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        due = (self.mask > 0) & (day - self.last_titration_day >= 7)
        if self.titrate and np.any(due):
            lower = max(LOWER_FPG_TARGET_MGDL, self.target_fpg_mgdl - TAPER_BAND_MGDL)
            low = due & (self.smbg(state["glucose_mgdl"], day) < lower)
            self.dose_u = np.where(low, self.dose_u * (1.0 - DOSE_CUT_FRACTION), self.dose_u)
            stop = low & (self.dose_u < STOP_DOSE_U)
            self.dose_u = np.where(stop, 0.0, self.dose_u)
            self.mask = np.where(stop, 0.0, self.mask)
        super().observe(ctx, day, state)

    def setup(self, ctx: PatientContext) -> None:
        super().setup(ctx)
        dose = np.asarray(ctx.covariates.get("insulin_dose_u_per_day", np.zeros(ctx.n)), dtype=float)
        if dose.shape != (ctx.n,) or np.any(~np.isfinite(dose)) or np.any(dose < 0):
            raise ValueError("covariate insulin_dose_u_per_day must be finite and ≥ 0 U/day for every patient")
        self.dose_u = dose.copy()
        self.mask = (dose > 0.0).astype(float)


class StandardCareSpec(TherapySpecBase):
    """Continue each patient's baseline glucose-lowering therapy, with optional insulin titration."""

    kind: Literal["standard_care"]
    insulin_titration: bool = True
    target_fpg_mgdl: float = Field(default=100.0, ge=70, le=180, description="titration target, mg/dL")
    insulin_intensify: bool = Field(
        default=True,
        description="allow insulin dose increases; false = taper only, as in the stem-cell trial protocols "
        "(insulin reduced as glucose improved, never intensified), the setting their calibration used",
    )
    risks: ClassVar[tuple[str, ...]] = ("hypoglycaemia with insulin titration", "weight gain with insulin")


def _standard_care(spec: StandardCareSpec, ctx: BuildContext) -> Sequence[Therapy]:
    return [
        UsualCareInsulin(
            "glargine",
            0.0,
            target_fpg_mgdl=float(spec.target_fpg_mgdl),
            titrate=bool(spec.insulin_titration),
            intensify=bool(spec.insulin_intensify),
            start_day=ctx.day(spec.start_month) or 0,
            stop_day=ctx.day(spec.stop_month),
        )
    ]


register_therapy(StandardCareSpec, _standard_care)
