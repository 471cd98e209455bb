"""Treatment plan: a combination of therapies with stepwise, per-patient intensification.

A :class:`TreatmentPlan` holds an ordered list of steps (standard-care therapies). The first
``n_initial`` steps start on the plan's start day for everybody; each later step is added for a patient
when that patient's HbA1c has stayed above ``hba1c_target_pct`` for ``months_above`` months (checked at
every segment start, i.e. weekly by default), after which the clock restarts for the next step — the
ADA/EASD "add a drug if the target is not reached within ~3 months" pattern. Intensification is per
patient: each step keeps a 0/1 mask (see :class:`~t2dsim.therapies.drugs.StandardCareTherapy`), so one
plan object simulates a cohort in which every patient's standard care evolves on its own.

Effects of the steps are combined with the base rules (multipliers multiply, additions add); steps
that are off give neutral effects because their effects scale with the mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from t2dsim.core.calendar import DAYS_PER_MONTH
from t2dsim.core.registry import register_therapy
from t2dsim.core.specs import TherapySpecBase, spec_error
from t2dsim.physiology.progression import EFFECT_NAMES
from t2dsim.therapies.base import PatientContext, Therapy, combine_effects, combine_meal_modifiers, schedule_days
from t2dsim.therapies.drugs import GLP1RASpec, MetforminSpec, SGLT2iSpec, StandardCareTherapy, SulfonylureaSpec
from t2dsim.therapies.insulin import BasalBolusInsulinSpec, BasalInsulinSpec
from t2dsim.therapies.lifestyle import LifestyleSpec

__all__ = ["StepSpec", "TreatmentPlan", "TreatmentPlanSpec"]


class TreatmentPlan(Therapy):
    """Stepwise standard care.

    Args:
        steps: therapies in intensification order (each a StandardCareTherapy, distinct kinds).
        n_initial: how many steps start immediately (≥ 0).
        hba1c_target_pct: HbA1c target (%), 5.5–10.
        months_above: months above target before the next step is added (0.5–24).
    """

    kind = "treatment_plan"

    def __init__(
        self,
        steps: Sequence[StandardCareTherapy],
        *,
        n_initial: int = 1,
        hba1c_target_pct: float = 7.0,
        months_above: float = 3.0,
        **kw,
    ) -> None:
        super().__init__(**kw)
        steps = list(steps)
        if not steps:
            raise ValueError("treatment plan: steps must list at least one therapy")
        bad = [type(s).__name__ for s in steps if not isinstance(s, StandardCareTherapy)]
        if bad:
            raise ValueError(f"treatment plan: steps must be standard-care therapies, got {', '.join(bad)}")
        kinds = [s.kind for s in steps]
        dup = sorted({k for k in kinds if kinds.count(k) > 1})
        if dup:
            raise ValueError(f"treatment plan: each therapy kind may appear once in steps (repeated: {', '.join(dup)})")
        if not 0 <= n_initial <= len(steps):
            raise ValueError(f"treatment plan: n_initial must lie in [0, {len(steps)}], got {n_initial}")
        if not 5.5 <= hba1c_target_pct <= 10.0:
            raise ValueError(f"treatment plan: hba1c_target_pct must lie in [5.5, 10] %, got {hba1c_target_pct}")
        if not 0.5 <= months_above <= 24.0:
            raise ValueError(f"treatment plan: months_above must lie in [0.5, 24] months, got {months_above}")
        self.steps = steps
        self.n_initial = int(n_initial)
        self.hba1c_target_pct = float(hba1c_target_pct)
        self.months_above = float(months_above)
        self.stage = np.zeros(0, dtype=np.int64)
        self.above_since = np.zeros(0)

    def setup(self, ctx: PatientContext) -> None:
        for s in self.steps:
            s.planned = True
            s.setup(ctx)
        self.stage = np.full(ctx.n, self.n_initial, dtype=np.int64)
        for s in self.steps[: self.n_initial]:
            s.switch_on(np.ones(ctx.n, dtype=bool), self.start_day)
        self.above_since = np.full(ctx.n, np.nan)

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        above = np.asarray(state["hba1c_pct"], dtype=float) > self.hba1c_target_pct
        self.above_since = np.where(above, np.where(np.isnan(self.above_since), day, self.above_since), np.nan)
        due = above & (day - self.above_since >= self.months_above * DAYS_PER_MONTH) & (self.stage < len(self.steps))
        if np.any(due):
            for k, s in enumerate(self.steps):
                s.switch_on(due & (self.stage == k), day)
            self.stage = np.where(due, self.stage + 1, self.stage)
            self.above_since = np.where(due, float(day), self.above_since)
        for s in self.steps:
            s.observe(ctx, day, state)

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        eff = combine_effects(ctx.n, [s.effects(ctx, day) for s in self.steps])
        return {k: np.asarray(getattr(eff, k), dtype=float) for k in EFFECT_NAMES}

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return combine_meal_modifiers(ctx.n, [s.meal_modifiers(ctx, day) for s in self.steps])

    def weight_change_frac(self, ctx: PatientContext, day: int) -> np.ndarray:
        return np.sum([s.weight_change_frac(ctx, day) for s in self.steps], axis=0)

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"plan_stage": self.stage.astype(float)}
        for s in self.steps:
            rep = getattr(s, "report", None)
            if callable(rep):
                out.update(rep(ctx, day))
        return out

    def describe(self) -> str:
        return " → ".join(s.kind for s in self.steps)


StepSpec = Annotated[
    MetforminSpec | SulfonylureaSpec | GLP1RASpec | SGLT2iSpec | BasalInsulinSpec | BasalBolusInsulinSpec
    | LifestyleSpec,
    Field(discriminator="kind"),
]  # fmt: skip


class TreatmentPlanSpec(TherapySpecBase):
    """Stepwise standard care: ``steps`` in order; the first ``n_initial`` start at once, each later one is
    added per patient after ``months_above`` months with HbA1c above ``hba1c_target_pct``."""

    kind: Literal["treatment_plan"]
    steps: list[StepSpec] = Field(min_length=1, max_length=8)
    n_initial: int = Field(default=1, ge=0, le=8)
    hba1c_target_pct: float = Field(default=7.0, ge=5.5, le=10.0, description="%")
    months_above: float = Field(default=3.0, ge=0.5, le=24.0, description="months")

    @model_validator(mode="after")
    def _consistent(self) -> TreatmentPlanSpec:
        if self.n_initial > len(self.steps):
            raise spec_error("n_initial", f"{self.n_initial} exceeds the number of steps ({len(self.steps)})")
        kinds = [s.kind for s in self.steps]
        dup = sorted({k for k in kinds if kinds.count(k) > 1})
        if dup:
            raise spec_error("steps", f"each kind may appear once (repeated: {', '.join(dup)})")
        return self

    def therapy(self, window: bool = True) -> TreatmentPlan:
        return TreatmentPlan(
            [s.therapy(window=False) for s in self.steps], n_initial=self.n_initial,
            hba1c_target_pct=self.hba1c_target_pct, months_above=self.months_above, **schedule_days(self, window),
        )  # fmt: skip


register_therapy(TreatmentPlanSpec)
