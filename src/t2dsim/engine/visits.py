"""What a visit measures: labs from the progression state, a mixed-meal tolerance test (MMTT) and a CGM
fortnight on the minute-scale model, for every patient of an arm at once.

Units: glucose mg/dL, insulin and C-peptide pmol/L, C-peptide AUC nmol/L·min, insulin dose U/day.
Random numbers (CGM sensor noise, day-to-day meal sizes) are keyed by (seed, patient id, visit).

The visit at randomisation (day 0) is the baseline: it is measured before the first dose, on the regimen the
patients were on (:func:`at_randomisation`), so on the same patients every arm has the same baseline.
"""

from __future__ import annotations

import copy

import numpy as np

from t2dsim.core.rng import keyed_uniform
from t2dsim.engine.arm import ArmState, meal_params_today, run_meal_day
from t2dsim.engine.meal_days import day_fasting_glucose, find_insulin
from t2dsim.physiology import markers
from t2dsim.physiology.meal import MealParams, with_basal_glucose
from t2dsim.physiology.sensor import CGMSensor
from t2dsim.simulate import THREE_MEALS, MealResult, meal_inputs, mmtt_cho_g, simulate

__all__ = [
    "CGM_MEASURES",
    "CONDUCT_MEASURES",
    "HYPO_MEASURE",
    "MECHANISM_MEASURES",
    "MMTT_MEASURES",
    "at_randomisation",
    "cgm_day",
    "cgm_fortnight",
    "measure_visit",
    "new_at_randomisation",
]

MMTT_MEASURES = {
    "fasting_cpeptide_pmol_l",
    "cpeptide_auc_nmol_min_l",
    "cpeptide_auc_180_pmol_min_l",
    "cpeptide_peak_pmol_l",
    "fasting_insulin_pmol_l",
    "homa_ir",
    "homa_b_percent",
}
#: Minutes of the MMTT: 120 (AUC 0-120, fasting values), 180 for the AUC 0-180, 240 for the peak (0-240 min).
_MMTT_MINUTES = {"cpeptide_peak_pmol_l": 240, "cpeptide_auc_180_pmol_min_l": 180}
#: Measures a trial conduct records at a visit (therapies' ``visit_measures``, e.g. therapies/insulin_sparing.py).
CONDUCT_MEASURES = ("insulin_dose_relative", "insulin_need_relative", "insulin_need_126_uuml")
#: Hypoglycaemia a titrated insulin records (documented fasting/nocturnal lows per patient-year on insulin;
#: NaN for patients on no titrated insulin: the trial runner counts no events outside the titration's tally)
HYPO_MEASURE = "hypo_documented_per_patient_year"
CGM_MEASURES = {"cgm_mean_glucose_mgdl", "cgm_tir_percent", "cgm_tbr_percent", "cgm_gmi_percent"}
MECHANISM_MEASURES = (
    "beta_cell_mass_mg",
    "beta_cell_function",
    "insulin_sensitivity",
    "inflammation_index",
    "graft_beta_mass_mg",
)
SIGMA_REF = 536.67  # Ha 2016 human initial σ: beta_cell_function is reported relative to it


def new_at_randomisation(therapy) -> bool:
    """True for a therapy the arm starts at randomisation (engine day ≥ 0), False for one the patients were on before
    it: a background regimen of the run-in (started at a negative engine day) or a conduct that continues each
    patient's baseline regimen (``continues_baseline``: usual care, the insulin-sparing conducts)."""
    inner = getattr(therapy, "inner", therapy)
    return getattr(therapy, "start_day", 0) >= 0 and not getattr(inner, "continues_baseline", False)


def at_randomisation(arm: ArmState) -> ArmState:
    """``arm`` as its baseline visit sees it, before the first dose: the same patients and state without the
    therapies it starts at randomisation (:func:`new_at_randomisation`). A shallow view (nothing is copied or set
    up again); only for measuring at day 0."""
    if arm.day != 0:
        raise ValueError(f"at_randomisation: the arm is at day {arm.day}, not at randomisation (day 0)")
    view = copy.copy(arm)
    view.therapies = [t for t in arm.therapies if not new_at_randomisation(t)]
    return view


def measure_visit(arm: ArmState, measures: set[str], seed: int, visit: int) -> dict[str, np.ndarray]:
    """Model values of a visit for every patient of ``arm`` (true values, before assay error): HbA1c, FPG,
    weight and the mechanism states from the progression model; insulin dose; an MMTT on the minute-scale
    model when a C-peptide or insulin measure is requested; a CGM fortnight when a CGM measure is."""
    last = arm.last
    out: dict[str, np.ndarray] = {
        "hba1c_percent": last["hba1c_pct"],
        "fpg_mgdl": last["glucose_mgdl"],
        "weight_kg": arm.cohort.ctx.body_weight_kg * (arm.bmi_kg_m2 / arm.cohort.bmi_kg_m2),
        "beta_cell_mass_mg": last["beta_mass_mg"],
        "beta_cell_function": last["sigma"] / SIGMA_REF,
        "insulin_sensitivity": last.get("si_eff", last["si_state"]),
        "inflammation_index": last["inflammation"],
        "graft_beta_mass_mg": np.broadcast_to(last.get("graft_beta_mass_mg", 0.0), (arm.cohort.n,)),
    }
    dose = np.zeros(arm.cohort.n)
    hypo = np.full(arm.cohort.n, np.nan)
    for t in arm.active():
        # a trial conduct's visit record (the dose its review sets on the visit day) replaces its running report
        vm = getattr(t, "visit_measures", None)
        rep = getattr(t, "report", None)
        r = vm(arm.cohort.ctx, arm.day, last) if callable(vm) else rep(arm.cohort.ctx, arm.day) if callable(rep) else {}
        if "insulin_dose_u_per_day" in r:
            dose = dose + np.asarray(r["insulin_dose_u_per_day"], float)
        if HYPO_MEASURE in r:
            h = np.asarray(r[HYPO_MEASURE], float)
            hypo = np.where(np.isnan(hypo), h, np.where(np.isnan(h), hypo, hypo + h))
        out.update({k: np.asarray(r[k], float) for k in CONDUCT_MEASURES if k in r})
    out["insulin_u_per_day"] = dose
    out[HYPO_MEASURE] = hypo
    # HOMA1-%B of the progression model's fasting state: glucose and total plasma insulin (endogenous + background)
    total = last.get("insulin_total_uuml")
    if total is None:  # baseline (no segment run yet): endogenous + the cohort's background effect
        total = last["insulin_endo_uuml"] + np.asarray(arm.cohort.ctx.covariates.get("exog_insulin", 0.0), float)
    out["homa_b_progression_percent"] = markers.homa1_b_pct(last["glucose_mgdl"], total)
    if measures & MMTT_MEASURES:
        minutes = max([120] + [m for k, m in _MMTT_MINUTES.items() if k in measures])
        grams = mmtt_cho_g(arm.cohort.ctx.body_weight_kg)
        cho = np.stack([meal_inputs(minutes, [(0, g)], rate_g_per_min=g / 5.0) for g in grams])
        res = run_meal_day(arm, cho)  # minutes 0..minutes
        cp = res["cpeptide_pmol_l"]
        ins = res["plasma_insulin_pmol_l"][:, 0]
        out["fasting_cpeptide_pmol_l"] = cp[:, 0]
        # Trapezoid over the per-minute curve 0–120 min, pmol/L·min → nmol/L·min.
        out["cpeptide_auc_nmol_min_l"] = markers.auc_trapezoid(np.arange(121), cp[:, :121]) / 1000.0
        if minutes >= 180:
            out["cpeptide_auc_180_pmol_min_l"] = markers.auc_trapezoid(np.arange(181), cp[:, :181])
        out["cpeptide_peak_pmol_l"] = cp.max(axis=1)
        out["fasting_insulin_pmol_l"] = ins
    if measures & CGM_MEASURES:
        out.update(cgm_fortnight(arm, seed, visit))
    return out


def cgm_day(
    arm: ArmState,
    params: MealParams,
    calendar_day: int,
    meal_factor: np.ndarray | float = 1.0,
    x0: np.ndarray | None = None,
) -> MealResult:
    """One 24-h meal-model day of a CGM fortnight (and of meal-day glycation, ``engine.glycation_days``): the
    standard three meals (``simulate.THREE_MEALS``) × ``meal_factor`` (n,) from midnight, from ``x0`` (default:
    the basal steady state); patients on basal insulin get ``calendar_day``'s fasting glucose from their
    titration's day-to-day variability (:func:`day_fasting_glucose`), the basal relations re-derived at it."""
    base = meal_inputs(1440, list(THREE_MEALS))
    f = np.broadcast_to(np.asarray(meal_factor, dtype=float), (arm.cohort.n,))
    insulin = find_insulin(arm)
    if insulin is not None:
        params = with_basal_glucose(params, day_fasting_glucose(arm, insulin, calendar_day))
    return simulate(params, base[None, :] * f[:, None], None, x0=x0)


def cgm_fortnight(arm: ArmState, seed: int, visit: int, days: int = 14) -> dict[str, np.ndarray]:
    """14 days of CGM at minute scale from the visit-day physiology: three meals a day (sizes ±20 % by
    day, keyed per patient), sensor noise per Breton & Kovatchev 2008; consensus metrics (Battelino 2019)
    over the fortnight. Simulated day by day from each day's end state, keeping only the CGM trace.
    Patients on basal insulin carry the day-to-day variability of fasting glucose of the fortnight's
    calendar days (the 14 days before the visit; ``insulin.day_fasting_glucose``, the values their
    titration saw): each day's basal relations are re-derived at that day's fasting glucose and the
    day starts from the previous day's end state, so nocturnal lows appear on low days."""
    n = arm.cohort.n
    ids = arm.cohort.ctx.patient_ids
    params = meal_params_today(arm)
    trace = np.empty((n, 1440 * days), dtype=np.float32)
    x0 = None
    for d in range(days):
        f = 0.8 + 0.4 * keyed_uniform(seed, ids, "cgm:meal", visit * 100 + d)
        res = cgm_day(arm, params, arm.day - days + d, f, x0)
        x0 = res.final_state
        trace[:, d * 1440 : (d + 1) * 1440] = res["cgm_glucose_mgdl"][:, 1:]
    noisy = CGMSensor().measure(trace, seed * 1000 + visit, ids)
    m = markers.cgm_metrics(noisy)
    return {
        "cgm_mean_glucose_mgdl": m["mean_mgdl"],
        "cgm_tir_percent": m["tir_70_180_pct"],
        "cgm_tbr_percent": m["tbr_70_pct"],
        "cgm_gmi_percent": m["gmi_pct"],
    }
