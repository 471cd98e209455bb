"""Insulin: basal analogue (glargine) or NPH with treat-to-target titration, and basal-bolus.

Basal insulin
-------------
* Progression model: the daily dose (U/day) acts as plasma insulin added to the endogenous insulin,
  ``exog_insulin_uuml = coupling.exogenous_insulin_ha_units(dose, body weight)`` (the T2D anchor's
  insulin kinetics; a once-daily basal analogue treated as a flat infusion on the day scale).
* Meal model: the steady-state basal rate ``u2ss`` (pmol/kg/min) sets the visit day's basal state;
  :meth:`BasalInsulin.profile_u_per_min` gives the within-day subcutaneous absorption profile with
  the same daily mean (periodic steady state of once-daily injections): glargine a one-compartment
  depot (k_a 0.03/h: near-flat, Lepore et al. Diabetes 49:2142, 2000), NPH a two-compartment chain
  peaking 1/k_a = 4.5 h after injection (Lepore 2000: 4.5 ± 0.5 h).

Treat-to-target titration (Riddle, Rosenstock & Gerich, Diabetes Care 26:3080, 2003, Table 1; read
via the journal's table page and reproduced in the reference file): start 10 IU at bedtime; every
week, from the mean of the self-measured fasting glucose of the preceding 2 days: ≥ 180 mg/dL +8 IU,
140–180 +6, 120–140 +4, 100–120 +2, ≤ 100 no change; no increase if any glucose < 72 mg/dL in the
preceding week; decrease by 2–4 IU (here 2 IU, 4 IU if < 56 mg/dL... see below) when a glucose
< 56 mg/dL or severe hypoglycaemia was documented. The simpler patient-led algorithm (+2 IU every 3
days while FPG > target) is available as ``algorithm="3-day"``.

Realism of titration (all per patient, keyed by (seed, patient_id, day), parameters in
``parameters/standard_care.csv``):

* day-to-day variability: each day's fasting/nocturnal glucose is the progression model's fasting G
  (a smoothed day-scale value) × a log-normal factor (mean 1, CV ``fpg_day_cv``); the 2 algorithm
  readings add meter error (CV ``smbg_cv``);
* documented lows: every day's value since the last titration counts as "any glucose" for the hold
  (< 72 mg/dL) and reduce (< 56 mg/dL) rules and is tallied in ``documented_lows``; meal-model days fed
  back with :meth:`BasalInsulin.record_glucose` (:func:`t2dsim.engine.meal_days.run_with_meal_days`) add their minima;
* titration inertia: a due increase is carried out with probability p_i × exp(−λ·k_i), where p_i is the
  patient's adherence (logit-normal between patients, median ``titration_adherence``) and k_i counts the
  patient's earlier titration visits whose reading was near target (SMBG mean ≤ target +
  ``titration_near_target_band_mgdl``, 20 mg/dL): inertia grows with the time spent near target
  ("titration fatigue", rate λ = ``titration_fatigue_per_visit``), so titration plateaus above target as in
  the treat-to-target trials instead of drifting down. Decreases are always made. Defaults (p 1, λ 0)
  follow the algorithm at every step (protocol-enforced titration); ``parameter("titration_fatigue_trial")``
  is calibrated on Riddle 2003 (endpoint FPG 117 mg/dL) together with ``fpg_day_cv`` (hypoglycaemia
  ~9 events/patient-year).

Basal-bolus
-----------
:class:`BasalBolus` adds prandial rapid-acting insulin on meal-model days: bolus = carbohydrate/ICR +
max(0, (pre-meal glucose − target)/CF), ICR = 500/TDD (g/U) and CF = 1800/TDD (mg/dL per U) (Walsh
rules), TDD = basal dose / basal share (0.5). Pre-meal glucose is read from the meal model itself by
simulating the day in pieces between meals.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field
from scipy.special import log_ndtr

from t2dsim.core.registry import register_therapy
from t2dsim.core.rng import keyed_normal, keyed_uniform
from t2dsim.core.specs import TherapySpecBase
from t2dsim.physiology.coupling import basal_insulin_u_per_day_to_pmol_kg_min, exogenous_insulin_ha_units
from t2dsim.therapies.base import PatientContext, Risk, schedule_days
from t2dsim.therapies.drugs import ADHERENCE_FIELD, StandardCareTherapy, parameter

__all__ = [
    "BasalBolus",
    "BasalBolusInsulinSpec",
    "BasalInsulin",
    "BasalInsulinSpec",
    "riddle_weekly_increase",
]

INSULINS = ("glargine", "nph")
ALGORITHMS = ("riddle", "3-day")


def riddle_weekly_increase(mean_fpg_mgdl: np.ndarray) -> np.ndarray:
    """Weekly dose increase (IU/day) from the mean fasting glucose of 2 days (Riddle 2003 Table 1)."""
    g = np.asarray(mean_fpg_mgdl, dtype=float)
    return np.select([g >= 180.0, g >= 140.0, g >= 120.0, g > 100.0], [8.0, 6.0, 4.0, 2.0], 0.0)


class BasalInsulin(StandardCareTherapy):
    """Once-daily basal insulin titrated to a fasting-glucose target.

    Args:
        insulin: "glargine" or "nph".
        start_dose_u: starting dose (IU/day), or ``start_dose_u_per_kg`` (IU/kg/day) if given.
        target_fpg_mgdl: titration target (Riddle 2003: ≤ 100 mg/dL).
        algorithm: "riddle" (weekly, Table 1 bands) or "3-day" (+2 IU every 3 days while above target).
        titrate: False keeps the dose fixed.
        max_dose_u: ceiling (IU/day).
        injection_minute: minute of day of the injection (bedtime 22:00 by default).
        titration_adherence: median probability (0–1) that a due dose increase is made (default from the
            table: 1); per-patient values logit-normal around it.
        fpg_day_cv: day-to-day CV of fasting glucose (default from the table).
        titration_fatigue_per_visit: λ ≥ 0 (per titration visit near target): a due increase is made with
            probability × exp(−λ·k), k = the patient's earlier visits with SMBG mean ≤ target + 20 mg/dL
            (default from the table: 0, no fatigue; trial replications use ``titration_fatigue_trial``).
    """

    kind = "basal_insulin"
    risks = (
        Risk("hypoglycaemia", "confirmed or nocturnal hypoglycaemia during titration",
             "Riddle et al. Diabetes Care 2003 (treat-to-target)", severity="moderate"),
        Risk("weight gain", "weight gain with basal insulin", "4-T (Holman et al. NEJM 2007): +1.9 kg at 1 y (basal)",
             severity="minor"),
    )  # fmt: skip

    def __init__(
        self,
        insulin: str = "glargine",
        start_dose_u: float = 10.0,
        *,
        start_dose_u_per_kg: float | None = None,
        target_fpg_mgdl: float = 100.0,
        algorithm: str = "riddle",
        titrate: bool = True,
        max_dose_u: float = 300.0,
        injection_minute: int = 22 * 60,
        titration_adherence: float | None = None,
        fpg_day_cv: float | None = None,
        titration_fatigue_per_visit: float | None = None,
        **kw,
    ) -> None:
        super().__init__(**kw)
        if titration_fatigue_per_visit is not None and not 0.0 <= titration_fatigue_per_visit <= 10.0:
            raise ValueError(
                f"titration_fatigue_per_visit must lie in [0, 10] per visit, got {titration_fatigue_per_visit}"
            )
        if titration_adherence is not None and not 0.0 <= titration_adherence <= 1.0:
            raise ValueError(f"titration_adherence must lie in [0, 1], got {titration_adherence}")
        if fpg_day_cv is not None and not 0.0 <= fpg_day_cv <= 0.5:
            raise ValueError(f"fpg_day_cv must lie in [0, 0.5], got {fpg_day_cv}")
        if insulin not in INSULINS:
            raise ValueError(f"insulin must be one of {', '.join(INSULINS)}, got {insulin!r}")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
        if not 0.0 <= start_dose_u <= 300.0:
            raise ValueError(f"start_dose_u must lie in [0, 300] IU/day, got {start_dose_u}")
        if start_dose_u_per_kg is not None and not 0.0 <= start_dose_u_per_kg <= 2.0:
            raise ValueError(f"start_dose_u_per_kg must lie in [0, 2] IU/kg/day, got {start_dose_u_per_kg}")
        if not 70.0 <= target_fpg_mgdl <= 180.0:
            raise ValueError(f"target_fpg_mgdl must lie in [70, 180] mg/dL, got {target_fpg_mgdl}")
        if not 0 <= injection_minute < 1440:
            raise ValueError(f"injection_minute must lie in [0, 1440), got {injection_minute}")
        self.insulin = insulin
        self.start_dose_u = float(start_dose_u)
        self.start_dose_u_per_kg = start_dose_u_per_kg
        self.target_fpg_mgdl = float(target_fpg_mgdl)
        self.algorithm = algorithm
        self.titrate = titrate
        self.max_dose_u = float(max_dose_u)
        self.injection_minute = int(injection_minute)
        self.titration_adherence = (
            parameter("titration_adherence_default") if titration_adherence is None else float(titration_adherence)
        )
        self.fpg_day_cv = parameter("fpg_day_cv") if fpg_day_cv is None else float(fpg_day_cv)
        self.titration_fatigue_per_visit = (
            parameter("titration_fatigue_default")
            if titration_fatigue_per_visit is None
            else float(titration_fatigue_per_visit)
        )
        #: a glucose below this (mg/dL) is a documented low: no increase that week (Riddle 2003: 72 mg/dL)
        self.documented_low_mgdl = parameter("riddle_hypo_hold_mgdl")
        self.near_target_visits = np.zeros(0)  # titration visits with SMBG mean ≤ target + band (count)
        self.fatigue = np.zeros(0)  # per-patient fatigue rate λ_i (per near-target visit)
        self.documented_lows = np.zeros(0)  # fasting/nocturnal glucose values < 72 mg/dL since setup (count)
        self.first_on_day = np.zeros(0)  # day each patient's insulin was switched on (for the event rate)
        self.titrates = np.zeros(0)  # per-patient probability that a due titration step is carried out
        self.dose_u = np.zeros(0)
        self.min_glucose_week = np.zeros(0)
        self.last_titration_day = np.zeros(0)
        self._seed = 0
        self._ids = np.zeros(0, dtype=np.int64)
        self._uids, self._inv = self._ids, np.zeros(0, dtype=np.int64)

    # -- state ---------------------------------------------------------------------------------
    def setup(self, ctx: PatientContext) -> None:
        super().setup(ctx)
        start = (
            np.full(ctx.n, self.start_dose_u)
            if self.start_dose_u_per_kg is None
            else self.start_dose_u_per_kg * ctx.body_weight_kg
        )
        self.dose_u = start.astype(float)
        self.min_glucose_week = np.full(ctx.n, np.inf)
        self.last_titration_day = np.full(ctx.n, float(self.start_day))
        self.first_on_day = np.full(ctx.n, float(self.start_day))
        self._seed, self._ids = ctx.seed, ctx.patient_ids
        # the per-day draws are made once per distinct patient (a stacked cohort repeats patients: trial/draws.py)
        self._uids, self._inv = np.unique(self._ids, return_inverse=True)
        # between-patient titration adherence: logit-normal around the mean (SD on the logit scale from
        # the table); 1 keeps the algorithm perfectly followed
        m = self.titration_adherence
        if m >= 1.0 or m <= 0.0:
            self.titrates = np.full(ctx.n, m)
        else:
            z = keyed_normal(ctx.seed, ctx.patient_ids, "titration:adherence")
            logit = np.log(m / (1.0 - m)) + parameter("titration_adherence_logit_sd") * z
            self.titrates = 1.0 / (1.0 + np.exp(-logit))
        self.documented_lows = np.zeros(ctx.n)
        self.near_target_visits = np.zeros(ctx.n)
        # between-patient titration fatigue: exponential with mean λ (by inversion of the keyed normal:
        # E = -log(1 - Φ(z)) = -log Φ(-z)), so some patients never tire and others stop after one visit
        if self.titration_fatigue_per_visit > 0.0:
            z = keyed_normal(ctx.seed, ctx.patient_ids, "titration:fatigue")
            self.fatigue = -self.titration_fatigue_per_visit * log_ndtr(-z)
        else:
            self.fatigue = np.zeros(ctx.n)

    def switch_on(self, which: np.ndarray, day: int) -> None:
        new = np.asarray(which, bool) & (self.mask == 0)
        super().switch_on(which, day)
        self.last_titration_day = np.where(new, float(day), self.last_titration_day)
        self.first_on_day = np.where(new, float(day), self.first_on_day)

    def record_glucose(self, glucose_mgdl: np.ndarray) -> None:
        """Feed a meal-model day's glucose trace (n, T) (or per-patient minima (n,)) for the hypo rules."""
        g = np.asarray(glucose_mgdl, dtype=float)
        m = g.min(axis=1) if g.ndim == 2 else g
        self.min_glucose_week = np.minimum(self.min_glucose_week, m)

    def daily_fasting(self, fasting_mgdl: np.ndarray, day: int, n_days: int) -> np.ndarray:
        """Fasting/nocturnal glucose (mg/dL) of the ``n_days`` days before ``day``, (n, n_days): the
        progression model's fasting G (a smoothed, day-scale value) × day-to-day variability (log-normal,
        mean 1, CV ``fpg_day_cv``), keyed by (seed, patient, calendar day) so a day's value does not depend
        on when it is looked at."""
        g = np.asarray(fasting_mgdl, dtype=float)
        if self.fpg_day_cv <= 0.0 or n_days <= 0:
            return np.repeat(g[:, None], max(n_days, 0), axis=1)
        sd = np.sqrt(np.log1p(self.fpg_day_cv**2))
        days = np.arange(int(day) - n_days, int(day))
        z = keyed_normal(self._seed, self._uids[:, None], "fasting:day", days[None, :])[self._inv]
        return g[:, None] * np.exp(sd * z - 0.5 * sd * sd)

    def smbg_readings(self, fasting_mgdl: np.ndarray, day: int, n_readings: int = 2) -> np.ndarray:
        """Self-measured fasting glucose readings (mg/dL), (n, n_readings), of the ``n_readings`` days before
        ``day``: :meth:`daily_fasting` × meter error (CV ``smbg_cv``)."""
        cv = parameter("smbg_cv")
        eps = keyed_normal(self._seed, self._uids[:, None], "smbg:meter", int(day), np.arange(n_readings)[None, :])
        eps = eps[self._inv]
        return self.daily_fasting(fasting_mgdl, day, n_readings) * (1.0 + cv * eps)

    def smbg(self, fasting_mgdl: np.ndarray, day: int) -> np.ndarray:
        """Self-measured fasting glucose (mg/dL) used by the algorithm: mean of the 2 readings before ``day``."""
        return self.smbg_readings(fasting_mgdl, day).mean(axis=1)

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        if not self.titrate:
            return
        interval = 7 if self.algorithm == "riddle" else 3
        due = (self.mask > 0) & (day - self.last_titration_day >= interval)
        if not np.any(due):
            return
        fpg = self.smbg(state["glucose_mgdl"], day)
        # documented lows: every day's fasting/nocturnal value since the last titration counts as 'any
        # glucose' for the hypoglycaemia rules (patients check when symptomatic)
        span = int(min(interval, max(day - np.min(self.last_titration_day[due]), 1)))
        week = self.daily_fasting(state["glucose_mgdl"], day, span)
        self.documented_lows += np.where(due, (week < self.documented_low_mgdl).sum(axis=1), 0)
        self.min_glucose_week = np.minimum(self.min_glucose_week, np.where(due, week.min(axis=1), np.inf))
        if self.algorithm == "riddle":
            step = riddle_weekly_increase(fpg)
        else:
            step = np.where(fpg > self.target_fpg_mgdl, 2.0, 0.0)
        step = np.where(fpg <= self.target_fpg_mgdl, 0.0, step)
        low = self.min_glucose_week < self.documented_low_mgdl
        very_low = self.min_glucose_week < parameter("riddle_hypo_reduce_mgdl")
        step = np.where(low, 0.0, step)
        # titration inertia: an increase is carried out with the patient's probability, lowered by fatigue
        # after visits near target (keyed draw per patient and day); decreases after a glucose < 56 mg/dL
        # are always made
        p_take = self.titrates * np.exp(-self.fatigue * self.near_target_visits)
        if np.any(p_take < 1.0):
            u = keyed_uniform(self._seed, self._uids, "titration:take", int(day))[self._inv]
            step = np.where((step > 0.0) & (u >= p_take), 0.0, step)
        near = fpg <= self.target_fpg_mgdl + parameter("titration_near_target_band_mgdl")
        self.near_target_visits = self.near_target_visits + (due & near)
        step = np.where(very_low, -np.where(self.dose_u > 40.0, 4.0, 2.0), step)
        self.dose_u = np.where(due, np.clip(self.dose_u + step, 0.0, self.max_dose_u), self.dose_u)
        self.last_titration_day = np.where(due, float(day), self.last_titration_day)
        self.min_glucose_week = np.where(due, np.inf, self.min_glucose_week)

    # -- effects -------------------------------------------------------------------------------
    def delivered_u_per_day(self) -> np.ndarray:
        return self.dose_u * self.mask * self.adherence

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        kappa = ctx.covariates.get("insulin_scale", 1.0)  # progression insulin units (set by the engine)
        return {"exog_insulin_uuml": exogenous_insulin_ha_units(self.delivered_u_per_day(), ctx.body_weight_kg, kappa)}

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"u2ss": basal_insulin_u_per_day_to_pmol_kg_min(self.delivered_u_per_day(), ctx.body_weight_kg)}

    def profile_u_per_min(self, n_minutes: int = 1440) -> np.ndarray:
        """Subcutaneous absorption rate (U/min), (n, n_minutes), periodic steady state of once-daily
        injections at ``injection_minute``; its daily mean equals the dose/1440."""
        t = (np.arange(n_minutes) - self.injection_minute) % 1440 / 60.0  # hours since injection
        if self.insulin == "glargine":
            ka = parameter("insulin_glargine_ka_per_h")
            shape = ka * np.exp(-ka * t) / (1.0 - np.exp(-ka * 24.0))
        else:
            ka = parameter("insulin_nph_ka_per_h")
            # two-compartment chain (gamma-2), periodic sum over previous injections
            k = np.arange(0, 8)[:, None]
            tt = t[None, :] + 24.0 * k
            shape = (ka * ka * tt * np.exp(-ka * tt)).sum(axis=0)
        shape = shape / (shape.mean() * 24.0)  # per hour, integrates to 1 per day
        return self.delivered_u_per_day()[:, None] * shape[None, :] / 60.0

    def documented_lows_per_patient_year(self, day: int) -> np.ndarray:
        """Documented lows (days with a fasting/nocturnal glucose < 72 mg/dL, the titration's hold rule) per
        patient-year on insulin up to ``day``; NaN for patients not (yet) on insulin. The quantity calibrated on
        Riddle 2003's confirmed hypoglycaemia (docs/standard_care.md)."""
        years = (float(day) - self.first_on_day) / 365.25
        on = (self.mask > 0) & (years > 0.0)
        return np.where(on, self.documented_lows / np.where(on, years, 1.0), np.nan)

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {
            "insulin_dose_u_per_day": self.delivered_u_per_day(),
            "hypo_documented_per_patient_year": self.documented_lows_per_patient_year(day),
        }


class BasalBolus(BasalInsulin):
    """Basal insulin (titrated as :class:`BasalInsulin`) plus prandial boluses on meal-model days.

    ``basal_share`` of the total daily dose (0.5 by convention) sets TDD = basal/basal_share, hence
    ICR = 500/TDD (g/U) and CF = 1800/TDD (mg/dL per U); ``correction_target_mgdl`` the correction
    target.
    """

    kind = "basal_bolus_insulin"
    risks = (
        Risk("hypoglycaemia", "more than basal alone: 12.0 vs 2.3 events/patient-year at 1 year (prandial vs basal)",
             "4-T, Holman et al. NEJM 357:1716 (2007)", 12.0, period="events per patient-year"),
        Risk("weight gain", "+5.7 kg at 1 year (prandial)", "4-T, Holman 2007", severity="minor"),
    )  # fmt: skip

    def __init__(self, *args, basal_share: float = 0.5, correction_target_mgdl: float = 120.0, **kw) -> None:
        super().__init__(*args, **kw)
        if not 0.2 <= basal_share <= 0.8:
            raise ValueError(f"basal_share must lie in [0.2, 0.8], got {basal_share}")
        if not 80.0 <= correction_target_mgdl <= 200.0:
            raise ValueError(f"correction_target_mgdl must lie in [80, 200] mg/dL, got {correction_target_mgdl}")
        self.basal_share = float(basal_share)
        self.correction_target_mgdl = float(correction_target_mgdl)

    def ratios(self) -> tuple[np.ndarray, np.ndarray]:
        """(ICR g/U, CF mg/dL per U) per patient from the Walsh 500/1800 rules."""
        tdd = np.maximum(self.dose_u / self.basal_share, 1.0)
        return parameter("basal_bolus_icr_rule") / tdd, parameter("basal_bolus_cf_rule") / tdd

    def bolus_u(self, cho_g: np.ndarray, pre_meal_glucose_mgdl: np.ndarray) -> np.ndarray:
        """Prandial bolus (U) per patient: carbohydrate/ICR + positive correction."""
        icr, cf = self.ratios()
        corr = np.maximum(np.asarray(pre_meal_glucose_mgdl) - self.correction_target_mgdl, 0.0) / cf
        return (np.asarray(cho_g, dtype=float) / icr + corr) * self.mask * self.adherence


# ---------------------------------------------------------------------------------------------------
# Protocol specifications (kinds basal_insulin, basal_bolus_insulin)
# ---------------------------------------------------------------------------------------------------


class _TitrationConduct(TherapySpecBase):
    """Titration conduct shared by the basal and basal-bolus insulin specs (``BasalInsulin`` arguments)."""

    insulin: Literal["glargine", "nph"] = "glargine"
    start_dose_u_per_kg_day: float = Field(default=0.1, ge=0, le=2, description="IU/kg/day")
    start_dose_u: float | None = Field(default=None, ge=0, le=100, description="IU/day; overrides the per-kg dose")
    target_fpg_mgdl: float = Field(default=100.0, ge=70, le=180, description="mg/dL")
    algorithm: Literal["riddle", "3-day"] = "riddle"
    adherence: float = ADHERENCE_FIELD
    titration_adherence: float | None = Field(
        default=None, ge=0, le=1, description="median probability a due dose increase is made (default 1)"
    )
    titration_fatigue_per_visit: float | None = Field(
        default=None,
        ge=0,
        le=10,
        description="λ per visit near target (default 0; 1.0 = calibrated on Riddle 2003 trial conduct)",
    )
    risks: ClassVar[tuple[str, ...]] = ("hypoglycaemia", "weight gain")

    def _kwargs(self, window: bool) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "insulin": self.insulin,
            "target_fpg_mgdl": self.target_fpg_mgdl,
            "algorithm": self.algorithm,
            "adherence": self.adherence,
            **schedule_days(self, window),
        }
        for name in ("titration_adherence", "titration_fatigue_per_visit"):
            if getattr(self, name) is not None:
                kw[name] = getattr(self, name)
        if self.start_dose_u is not None:
            kw["start_dose_u"] = self.start_dose_u
        else:
            kw["start_dose_u_per_kg"] = self.start_dose_u_per_kg_day
        return kw


class BasalInsulinSpec(_TitrationConduct):
    """Basal insulin started or continued, titrated to a fasting target (Riddle 2003 weekly algorithm by default)."""

    kind: Literal["basal_insulin"]
    titrate: bool = True

    def therapy(self, window: bool = True) -> BasalInsulin:
        return BasalInsulin(titrate=self.titrate, **self._kwargs(window))


class BasalBolusInsulinSpec(_TitrationConduct):
    """Basal insulin plus prandial boluses (carbohydrate ratio and correction) on meal-model days."""

    kind: Literal["basal_bolus_insulin"]
    basal_share: float = Field(default=0.5, ge=0.2, le=0.8, description="basal / total daily dose")
    correction_target_mgdl: float = Field(default=120.0, ge=80, le=200, description="mg/dL")

    def therapy(self, window: bool = True) -> BasalBolus:
        return BasalBolus(
            basal_share=self.basal_share, correction_target_mgdl=self.correction_target_mgdl, **self._kwargs(window)
        )


register_therapy(BasalInsulinSpec)
register_therapy(BasalBolusInsulinSpec)
