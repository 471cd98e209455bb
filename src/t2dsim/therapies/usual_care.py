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
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from t2dsim.core.registry import BuildContext, register_therapy
from t2dsim.core.specs import TherapySpecBase, spec_error
from t2dsim.therapies.base import PatientContext, Therapy
from t2dsim.therapies.drugs import parameter
from t2dsim.therapies.insulin import BasalInsulin
from t2dsim.therapies.insulin_sparing import SPARING_CONDUCTS, InsulinSparingCare

#: Dose cuts start this far below the titration target (mg/dL; design choice, tag D) ...
TAPER_BAND_MGDL = 20.0
#: ... but never below the ADA lower fasting target (mg/dL).
LOWER_FPG_TARGET_MGDL = 80.0
DOSE_CUT_FRACTION = 0.10
#: Below this dose (U/day) basal insulin is stopped.
STOP_DOSE_U = 2.0


@dataclass(frozen=True)
class Conduct:
    """A named trial conduct of insulin in usual care: titration rule and target, dose-reduction rule and what
    counts as a documented low, each with its source."""

    name: str
    titration: str  # BasalInsulin algorithm
    target_fpg_mgdl: float
    intensify: bool
    dose_cut_fraction: float
    taper_band_mgdl: float
    documented_low_mgdl: float
    source: str


#: Named conduct settings of ``standard_care`` (a protocol states the conduct its paper reports).
CONDUCTS: dict[str, Conduct] = {
    "guideline_treat_to_target": Conduct(
        "guideline_treat_to_target", "riddle", 100.0, True, DOSE_CUT_FRACTION, TAPER_BAND_MGDL,
        parameter("riddle_hypo_hold_mgdl"),
        "Riddle et al. Diabetes Care 26:3080, 2003, Table 1: weekly increases to FPG <= 100 mg/dL, none after a "
        "glucose < 72 mg/dL; ADA Standards of Care section 9: lower the dose 10-20 % when glucose runs below target",
    ),
    "protocol_taper": Conduct(
        "protocol_taper", "riddle", 130.0, False, DOSE_CUT_FRACTION, TAPER_BAND_MGDL, parameter("ada_level1_hypo_mgdl"),
        "stem-cell trial protocols reduced insulin as glucose improved and never intensified (Bhansali 2014 RCT, "
        "2017: '>= 50 % reduction in insulin requirement while maintaining HbA1c < 7 %', abstracts); target the "
        "upper ADA preprandial goal 80-130 mg/dL and documented low = ADA level-1 hypoglycaemia < 70 mg/dL (ADA "
        "Standards of Care section 6)",
    ),
}  # fmt: skip


class UsualCareInsulin(BasalInsulin):
    """Basal insulin continued from each patient's baseline dose (U/day); off for patients with none.
    Titrated up by the Riddle 2003 rules above the target, cut by 10 % a week more than 20 mg/dL below it."""

    kind = "usual_care_insulin"
    #: continues the cohort's baseline regimen (a background run-in then holds no separate baseline effect)
    continues_baseline = True

    def __init__(
        self,
        *args,
        intensify: bool = True,
        dose_cut_fraction: float = DOSE_CUT_FRACTION,
        taper_band_mgdl: float = TAPER_BAND_MGDL,
        documented_low_mgdl: float | None = None,
        **kw,
    ) -> None:
        super().__init__(*args, **kw)
        self.intensify = bool(intensify)
        self.dose_cut_fraction = float(dose_cut_fraction)
        self.taper_band_mgdl = float(taper_band_mgdl)
        if documented_low_mgdl is not None:
            self.documented_low_mgdl = float(documented_low_mgdl)

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        before = self.dose_u.copy()
        self._observe_both_ways(ctx, day, state)
        if not self.intensify:  # taper-only protocols never raise a dose
            self.dose_u = np.minimum(self.dose_u, before)

    def _observe_both_ways(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        due = (self.mask > 0) & (day - self.last_titration_day >= 7)
        if self.titrate and np.any(due):
            lower = max(LOWER_FPG_TARGET_MGDL, self.target_fpg_mgdl - self.taper_band_mgdl)
            low = due & (self.smbg(state["glucose_mgdl"], day) < lower)
            self.dose_u = np.where(low, self.dose_u * (1.0 - self.dose_cut_fraction), self.dose_u)
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
    """Continue each patient's baseline glucose-lowering therapy, with optional insulin titration under a named
    trial ``conduct`` (:data:`CONDUCTS`); ``target_fpg_mgdl``, ``insulin_intensify`` and ``documented_low_mgdl``
    override the conduct's values when given."""

    kind: Literal["standard_care"]
    conduct: Literal[
        "guideline_treat_to_target",
        "protocol_taper",
        "insulin_sparing_a1c_goal",
        "insulin_sparing_baseline_goal",
        "fixed_background",
    ] = Field(
        default="guideline_treat_to_target",
        description="guideline_treat_to_target (Riddle 2003 to FPG 100, both ways), protocol_taper (insulin only "
        "reduced, target 130 mg/dL), or the stem-cell trials' conducts of therapies/insulin_sparing.py: "
        "insulin_sparing_a1c_goal / insulin_sparing_baseline_goal (monthly reduction towards the dose that holds "
        "HbA1c 6.9 %, or max(6.9 %, baseline)) and fixed_background (baseline regimen held)",
    )
    insulin_titration: bool = True
    target_fpg_mgdl: float | None = Field(default=None, ge=70, le=180, description="titration target, mg/dL")
    insulin_intensify: bool | None = Field(
        default=None,
        description="allow insulin dose increases; false = taper only, as in the stem-cell trial protocols "
        "(insulin reduced as glucose improved, never intensified), the setting their calibration used",
    )
    documented_low_mgdl: float | None = Field(
        default=None, ge=50, le=90, description="a glucose below this is a documented low (no increase), mg/dL"
    )
    risks: ClassVar[tuple[str, ...]] = ("hypoglycaemia with insulin titration", "weight gain with insulin")

    @model_validator(mode="after")
    def _overrides_fit_conduct(self) -> StandardCareSpec:
        if self.conduct in SPARING_CONDUCTS:
            for name in ("target_fpg_mgdl", "insulin_intensify", "documented_low_mgdl"):
                if getattr(self, name) is not None:
                    raise spec_error(
                        name,
                        f"not a setting of conduct {self.conduct!r} (it doses by its HbA1c goal); allowed: leave "
                        f"{name} unset, or use conduct guideline_treat_to_target or protocol_taper",
                    )
        return self

    def conduct_summary(self) -> tuple[str, str, str]:
        """(name, one-line rule, source) of this spec's conduct, for reports; insulin-sparing conducts included."""
        if self.conduct in SPARING_CONDUCTS:
            sc = SPARING_CONDUCTS[self.conduct]
            rule = {
                "a1c": f"background dose reduced monthly towards the dose that holds HbA1c {sc.target_a1c:g} %, "
                "never increased",
                "baseline": f"background dose reduced monthly towards the dose that holds max({sc.target_a1c:g} %, the "
                "patient's baseline HbA1c), never increased",
                "fixed": "background regimen held fixed",
            }[sc.goal]
            return sc.name, rule, sc.source
        c = self.settings()
        way = "titrated up and down" if c.intensify else "only reduced, never intensified"
        return c.name, f"insulin {way}, target fasting glucose {c.target_fpg_mgdl:g} mg/dL", c.source

    def settings(self) -> Conduct:
        """The conduct with this spec's overrides applied."""
        c = CONDUCTS[self.conduct]
        return Conduct(
            c.name, c.titration,
            c.target_fpg_mgdl if self.target_fpg_mgdl is None else float(self.target_fpg_mgdl),
            c.intensify if self.insulin_intensify is None else bool(self.insulin_intensify),
            c.dose_cut_fraction, c.taper_band_mgdl,
            c.documented_low_mgdl if self.documented_low_mgdl is None else float(self.documented_low_mgdl),
            c.source,
        )  # fmt: skip


def _standard_care(spec: StandardCareSpec, ctx: BuildContext) -> Sequence[Therapy]:
    if spec.conduct in SPARING_CONDUCTS:
        start, stop = ctx.day(spec.start_month) or 0, ctx.day(spec.stop_month)
        return [InsulinSparingCare(SPARING_CONDUCTS[spec.conduct], start_day=start, stop_day=stop)]
    c = spec.settings()
    return [
        UsualCareInsulin(
            "glargine",
            0.0,
            target_fpg_mgdl=c.target_fpg_mgdl,
            algorithm=c.titration,
            titrate=bool(spec.insulin_titration),
            intensify=c.intensify,
            dose_cut_fraction=c.dose_cut_fraction,
            taper_band_mgdl=c.taper_band_mgdl,
            documented_low_mgdl=c.documented_low_mgdl,
            start_day=ctx.day(spec.start_month) or 0,
            stop_day=ctx.day(spec.stop_month),
        )
    ]


register_therapy(StandardCareSpec, _standard_care)
