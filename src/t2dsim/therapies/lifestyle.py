"""Lifestyle programme: weight loss → insulin sensitivity (and β-cell recovery through lower glucose).

A programme aims at a fractional weight loss; each patient achieves
``W_j = target·adherence + SD·z_j`` (z_j standard normal from the patient's keyed stream; SD from the
parameter table, DiRECT 12-month spread), approached exponentially with time constant τ and followed by
an optional linear regain. The therapy acts only through body weight (:meth:`weight_change_frac`): the
engine turns it into BMI, and the progression model's BMI term raises insulin sensitivity at once
(direct part, elasticity b·(1 − f)) and over months through the inflammation index (part f)
(physiology/progression.py, si_bmi_elasticity 3 from Ausk 2010 / Vitola 2009). β-cell function then
recovers through the Ha 2016 glucotoxicity terms as glucose falls. That chain alone gives too few
remissions in a DiRECT-like cohort (about 35 % against 46 %), so β-cell secretion also rises in
proportion to the weight lost, ``secretion_mult = 1 + k·loss`` — the "twin-cycle" recovery of
first-phase secretion as pancreatic fat falls (Taylor; Lim et al. Diabetologia 2011) [mechanism U].
k is calibrated to DiRECT's 12-month remission 68/149 (46 %); the gradient of remission with
weight lost (DiRECT adjusted OR per kg 1.24, 95 % CI 1.14-1.34; Barnes et al. Diabet Med 2020) is the
validation (tests/test_therapies_lifestyle.py).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from t2dsim.core.registry import register_therapy
from t2dsim.core.rng import keyed_normal
from t2dsim.core.specs import TherapySpecBase
from t2dsim.therapies.base import PatientContext, Risk, schedule_days
from t2dsim.therapies.drugs import StandardCareTherapy, parameter

__all__ = ["Lifestyle", "LifestyleSpec"]


class Lifestyle(StandardCareTherapy):
    """Diet/exercise programme.

    Args:
        target_weight_loss_pct: programme target, % of baseline body weight (0–25).
        adherence: fraction of the programme followed (0–1); scales the achieved loss.
        weight_loss_sd_pct: between-patient SD of achieved loss, % of body weight (default from table).
        tau_days: time constant of the weight loss (days).
        regain_pct_per_year: weight regain after the loss, % of body weight per year (≥ 0).
    """

    kind = "lifestyle"
    risks = (
        Risk(
            "low", "few harms; gallstones with rapid weight loss", "DiRECT (Lean et al. Lancet 2018)", severity="minor"
        ),
    )

    def __init__(
        self,
        target_weight_loss_pct: float = 7.0,
        *,
        weight_loss_sd_pct: float | None = None,
        tau_days: float | None = None,
        regain_pct_per_year: float = 0.0,
        **kw,
    ) -> None:
        super().__init__(**kw)
        if not 0.0 <= target_weight_loss_pct <= 25.0:
            raise ValueError(f"lifestyle target_weight_loss_pct must lie in [0, 25] %, got {target_weight_loss_pct}")
        if weight_loss_sd_pct is not None and not 0.0 <= weight_loss_sd_pct <= 15.0:
            raise ValueError(f"lifestyle weight_loss_sd_pct must lie in [0, 15] %, got {weight_loss_sd_pct}")
        if tau_days is not None and not 1.0 <= tau_days <= 730.0:
            raise ValueError(f"lifestyle tau_days must lie in [1, 730] days, got {tau_days}")
        if not 0.0 <= regain_pct_per_year <= 20.0:
            raise ValueError(f"lifestyle regain_pct_per_year must lie in [0, 20] %/year, got {regain_pct_per_year}")
        self.target = target_weight_loss_pct / 100.0
        self.sd = parameter("lifestyle_weight_sd_frac") if weight_loss_sd_pct is None else weight_loss_sd_pct / 100.0
        self.tau = parameter("lifestyle_weight_tau_days") if tau_days is None else float(tau_days)
        self.regain = regain_pct_per_year / 100.0
        self.achieved = np.zeros(0)

    def setup(self, ctx: PatientContext) -> None:
        super().setup(ctx)
        z = keyed_normal(ctx.seed, ctx.patient_ids, "lifestyle:weight")
        # achieved fractional loss; at most 5 % gain and 40 % loss
        self.achieved = np.clip(self.target * self.adherence + self.sd * z, -0.05, 0.40)

    def weight_change_frac(self, ctx: PatientContext, day: int) -> np.ndarray:
        t = self.days_on(day)
        loss = self.achieved * (1.0 - np.exp(-t / self.tau))
        regain = self.regain * np.maximum(t - 3.0 * self.tau, 0.0) / 365.25
        return np.where(self.mask > 0, -np.maximum(loss - regain, np.minimum(loss, 0.0)), 0.0)

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        loss = np.maximum(-self.weight_change_frac(ctx, day), 0.0)
        return {"secretion_mult": 1.0 + parameter("lifestyle_beta_recovery_per_frac") * loss}

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"weight_change_pct": 100.0 * self.weight_change_frac(ctx, day)}


class LifestyleSpec(TherapySpecBase):
    """Diet and exercise programme; acts through the weight lost."""

    kind: Literal["lifestyle"]
    energy_deficit_kcal_per_day: float = Field(default=500.0, ge=0, le=1500, description="kcal/day")
    target_weight_loss_percent: float = Field(default=5.0, ge=0, le=25, description="% of body weight")
    adherence: float = Field(default=0.7, ge=0, le=1, description="fraction of the programme followed")
    weight_loss_sd_percent: float | None = Field(default=None, ge=0, le=15, description="% of body weight")
    regain_percent_per_year: float = Field(default=0.0, ge=0, le=20, description="% of body weight per year")
    risks: ClassVar[tuple[str, ...]] = ()

    def therapy(self, window: bool = True) -> Lifestyle:
        return Lifestyle(
            self.target_weight_loss_percent, adherence=self.adherence, weight_loss_sd_pct=self.weight_loss_sd_percent,
            regain_pct_per_year=self.regain_percent_per_year, **schedule_days(self, window),
        )  # fmt: skip


register_therapy(LifestyleSpec)
