"""Shared helpers of the issue-15 experiments (public API only; no module globals are changed)."""

from __future__ import annotations

import numpy as np

from t2dsim.engine import ArmState, Cohort, run_meal_day
from t2dsim.physiology import glycation
from t2dsim.population.presets import make_cohort
from t2dsim.simulate import THREE_MEALS, meal_inputs
from t2dsim.therapies.base import PatientContext

HEIGHT_M = 1.70


def engine_cohort(n: int, seed: int) -> Cohort:
    """The ``newly-diagnosed`` preset as an engine cohort (same construction as tests/therapy_trials.py)."""
    base = make_cohort("newly-diagnosed", n, seed=seed)
    ids = base.patient_id
    weight = base.bmi_kg_m2 * HEIGHT_M**2
    ctx = PatientContext(n=n, body_weight_kg=weight, age_years=base.age_years, female=(ids % 2 == 1), seed=seed,
                         patient_ids=ids)  # fmt: skip
    return Cohort(base.params, base.state, ctx, base.bmi_kg_m2, np.full(n, HEIGHT_M * 100.0))


def meal_day_stats(arm: ArmState, meals=THREE_MEALS) -> dict[str, np.ndarray]:
    """One three-meal day (the CGM fortnight's meals, 45/70/70 g at 07:00/12:00/19:00) from the arm's current
    state, insulin therapies at their basal rate. Per patient: fasting (start), 24-h mean, peak, 2-h
    post-breakfast, post-meal excursion (peak − fasting), minimum."""
    cho = meal_inputs(1440, list(meals))
    res = run_meal_day(arm, np.broadcast_to(cho, (arm.cohort.n, 1440)).copy())
    g = res["plasma_glucose_mgdl"]
    b = meals[0][0]
    return {
        "fasting": g[:, 0],
        "mean24": g[:, :-1].mean(axis=1),
        "peak": g.max(axis=1),
        "pp2h_breakfast": g[:, b + 120],
        "peak_breakfast": g[:, b : b + 240].max(axis=1),
        "excursion": g.max(axis=1) - g[:, 0],
        "min": g.min(axis=1),
        # Monnier 2002/2003 sampling times relative to the meals (their breakfast 08:00, here 07:00):
        # 3 h after breakfast, 2 h after lunch (12:00 both), 5 h after lunch
        "g_bf_3h": g[:, b + 180],
        "g_lunch_2h": g[:, 12 * 60 + 120],
        "g_lunch_5h": g[:, 12 * 60 + 300],
        # Monnier 2003 contribution of postprandial glucose over the 9 h from breakfast: AUC above fasting /
        # AUC above 6.1 mmol/L (110 mg/dL)
        "pp_share_monnier": np.clip(g[:, b : b + 540] - g[:, :1], 0, None).sum(axis=1)
        / np.maximum(np.clip(g[:, b : b + 540] - 110.0, 0, None).sum(axis=1), 1e-9),
        "mean_prog_wei": glycation.mean_glucose_from_fpg(arm.last["glucose_mgdl"]),
        "fpg_prog": arm.last["glucose_mgdl"].copy(),
        "hba1c_prog": arm.last["hba1c_pct"].copy(),
    }
