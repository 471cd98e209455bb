"""Meal-model days inside an arm's course: a 24-h day with meals and each patient's insulin regimen
(basal profile, prandial boluses read from the model's own pre-meal glucose), day-to-day variability of
intake, insulin action and fasting glucose, and the weekly meal-day run that feeds the insulin therapy's
hypoglycaemia rules.

Units: carbohydrate g and g/min, insulin U and U/min, glucose mg/dL, time in minutes from midnight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from t2dsim.core.rng import keyed_normal
from t2dsim.engine.arm import ArmState, advance, meal_params_today
from t2dsim.physiology import glycation
from t2dsim.physiology.markers import gmi_pct
from t2dsim.physiology.meal import MealParams, basal_state, with_basal_glucose
from t2dsim.simulate import MealResult, simulate
from t2dsim.therapies.drugs import parameter
from t2dsim.therapies.hypoglycaemia import HypoCounts, accumulate, count_day
from t2dsim.therapies.insulin import BasalBolus, BasalInsulin

__all__ = [
    "MealDayRun",
    "day_fasting_glucose",
    "find_insulin",
    "meal_matrix",
    "run_with_meal_days",
    "simulate_meal_day",
]


def meal_matrix(n_minutes: int, starts: Sequence[int], grams: np.ndarray, rate_g_per_min: float = 5.0) -> np.ndarray:
    """Carbohydrate input (n, n_minutes) g/min for meals starting at ``starts`` (minutes) with per-patient
    ``grams`` (n, n_meals), eaten at ``rate_g_per_min`` (UVA/Padova convention, as
    :func:`t2dsim.simulate.meal_inputs`), vectorised over patients."""
    g = np.atleast_2d(np.asarray(grams, dtype=float))
    cho = np.zeros((g.shape[0], n_minutes))
    for j, m in enumerate(starts):
        k = np.arange(int(np.ceil(g[:, j].max() / rate_g_per_min)) if g.shape[0] else 0)
        if k.size == 0:
            continue
        part = np.clip(g[:, j, None] - rate_g_per_min * k[None, :], 0.0, rate_g_per_min)
        stop = min(n_minutes, int(m) + k.size)
        cho[:, int(m) : stop] += part[:, : stop - int(m)]
    return cho


def find_insulin(arm: ArmState) -> BasalInsulin | None:
    """The arm's insulin therapy, also when it is a step of a treatment plan."""
    pool = [getattr(t, "inner", t) for t in arm.active()]  # background therapies are wrapped (engine.background)
    pool += [s for t in list(pool) for s in getattr(t, "steps", ())]
    found = [t for t in pool if isinstance(t, BasalInsulin)]
    return found[0] if found else None


def day_fasting_glucose(arm: ArmState, insulin: BasalInsulin, day: int) -> np.ndarray:
    """Fasting glucose (mg/dL, (n,)) of calendar ``day`` for the patients of ``arm``: the progression model's
    smoothed value × the insulin therapy's day-to-day variability (:meth:`BasalInsulin.daily_fasting`,
    keyed by (seed, patient, day), the value its titration and hypoglycaemia rules see) for the patients
    taking insulin; the smoothed value for the others."""
    g = np.asarray(arm.last["glucose_mgdl"], dtype=float)
    daily = insulin.daily_fasting(g, day + 1, 1)[:, 0]
    return np.where(insulin.delivered_u_per_day() > 0.0, daily, g)


def simulate_meal_day(
    arm: ArmState,
    meals: Sequence[tuple[int, float]],
    eaten_cho_g: np.ndarray | None = None,
    insulin_action_mult: np.ndarray | None = None,
    fasting_mgdl: np.ndarray | None = None,
) -> MealResult:
    """One 24-h meal-model day from midnight for every patient of ``arm``.

    ``meals`` are the planned (minute, grams); ``eaten_cho_g`` (n, n_meals) what each patient actually
    ate (defaults to planned); ``insulin_action_mult`` (n,) multiplies the day's insulin-dependent
    glucose use Vmx (day-to-day variability of insulin action; the day then starts from the usual
    basal state and drifts). Basal insulin follows its absorption profile; a :class:`BasalBolus`
    therapy gives boluses from the *planned* carbohydrate and the pre-meal glucose, read from the model
    by simulating the day in pieces between meals. ``fasting_mgdl`` (n,) sets the day's own fasting
    (basal) glucose in place of the progression model's smoothed value — the day-to-day variability of
    fasting glucose: the basal relations (Dalla Man 2007 §II) are re-derived at that glucose with the
    patient's insulin and hepatic output EGPb kept, so the day's insulin-independent uptake Vm0, kp1 and
    the secretion threshold h (= Gb) move with it and the day starts in its own steady state.
    """
    params = meal_params_today(arm)
    if fasting_mgdl is not None:
        params = with_basal_glucose(params, fasting_mgdl)
    if insulin_action_mult is not None:
        vals = dict(params.values)
        vals["Vmx"] = vals["Vmx"] * np.asarray(insulin_action_mult, dtype=float)
        x0_basal = basal_state(params)
        params = MealParams(vals, params.names)
    else:
        x0_basal = None
    n = arm.cohort.n
    planned = np.array([g for _, g in meals], dtype=float)
    eaten = np.broadcast_to(planned, (n, len(meals))) if eaten_cho_g is None else np.asarray(eaten_cho_g, float)
    cho = meal_matrix(1440, [m for m, _ in meals], eaten)
    ins_t = find_insulin(arm)
    insulin = ins_t.profile_u_per_min(1440) if ins_t is not None else np.zeros((n, 1440))
    if not isinstance(ins_t, BasalBolus):
        return simulate(params, cho, insulin, x0=x0_basal)
    # piecewise: simulate to each meal, read glucose, add the bolus over 1 minute, continue
    insulin = insulin.copy()
    cuts = [m for m, _ in meals] + [1440]
    x0 = x0_basal
    pieces: list[MealResult] = []
    start = 0
    for j, stop in enumerate(cuts):
        if stop > start:
            res = simulate(params, cho[:, start:stop], insulin[:, start:stop], x0=x0)
            pieces.append(res)
            x0 = res.final_state
            g_now = res["plasma_glucose_mgdl"][:, -1]
        else:
            g_now = params["Gb"]
        if j < len(meals):
            m = meals[j][0]
            insulin[:, m] += ins_t.bolus_u(np.full(n, planned[j]), g_now)
        start = stop
    out = {k: np.concatenate([pieces[0][k]] + [p[k][:, 1:] for p in pieces[1:]], axis=1) for k in pieces[0].outputs}
    return MealResult(np.arange(1441), pieces[0].patients, out, pieces[-1].final_state, dict(pieces[0].meta))


@dataclass
class MealDayRun:
    """Result of :func:`run_with_meal_days`: hypoglycaemia events over the meal days, the weekly meal-day
    mean glucose (n, n_weeks) in mg/dL, and an HbA1c (%) built from those means with the red-cell glycation
    window (100 days, ``physiology.glycation.WindowedHbA1c``) over the GMI of each day's mean (Bergenstal 2018;
    the relation of ``engine.glycation_days``, so both meal-day HbA1c values are one glucose truth) starting at
    baseline."""

    hypo: HypoCounts
    mean_glucose_mgdl: np.ndarray
    hba1c_meal_pct: np.ndarray


def run_with_meal_days(
    arm: ArmState,
    n_weeks: int,
    meals: Sequence[tuple[int, float]] = ((7 * 60, 45.0), (12 * 60, 70.0), (19 * 60, 70.0)),
    *,
    seed: int = 0,
    vary_insulin_action: bool = True,
) -> MealDayRun:
    """Advance ``arm`` week by week; at the end of each week run one meal-model day (carbohydrate varying
    day to day by the table's CV, keyed by (seed, patient, week)), feed its glucose to the insulin
    therapy's hypoglycaemia rules and count events. With ``vary_insulin_action`` each meal day's insulin
    action (Vmx) also varies (log-normal, CV ``meal_day_si_cv``), the main source of unexpected lows.

    With an insulin therapy, each meal day's fasting glucose is that calendar day's value of the
    therapy's day-to-day fasting variability (:meth:`BasalInsulin.daily_fasting`, CV ``fpg_day_cv``), the
    same value its hypoglycaemia rules and SMBG readings see, so nocturnal lows on meal days and the
    documented lows of the titration agree.

    HbA1c from meal days: the progression model's HbA1c reads mean glucose off fasting glucose
    (Wei 2014 line), which overstates the fall when basal insulin lowers fasting glucose much more than
    post-meal glucose; the meal-day mean glucose includes the meals."""
    counts = []
    means = []
    hba1c = glycation.WindowedHbA1c(np.asarray(arm.last["hba1c_pct"], dtype=float))
    cv = parameter("meal_day_cho_cv")
    sd_si = np.sqrt(np.log1p(parameter("meal_day_si_cv") ** 2)) if vary_insulin_action else 0.0
    n = arm.cohort.n
    for week in range(n_weeks):
        advance(arm, 7)
        slots = np.arange(len(meals) + 1)[None, :]
        z = keyed_normal(seed, arm.cohort.ctx.patient_ids[:, None], "meal-day:intake", week, slots)
        planned = np.array([g for _, g in meals])
        eaten = np.clip(planned[None, :] * (1.0 + cv * z[:, :-1]), 0.0, None).reshape(n, len(meals))
        action = np.exp(sd_si * z[:, -1] - 0.5 * sd_si * sd_si) if sd_si > 0 else None
        ins = find_insulin(arm)
        fasting = None if ins is None else day_fasting_glucose(arm, ins, arm.day - 1)
        day = simulate_meal_day(arm, meals, eaten, action, fasting)
        g = day["plasma_glucose_mgdl"]
        if ins is not None:
            ins.record_glucose(g)
        counts.append(count_day(g))
        mg = g[:, :-1].mean(axis=1)
        means.append(mg)
        hba1c.add(gmi_pct(mg), 7.0)
    return MealDayRun(accumulate(counts), np.stack(means, axis=1), hba1c.hba1c_pct)
