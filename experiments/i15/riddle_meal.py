"""Issue 15, questions 1/4: the Riddle 2003 replication of tests/test_therapies_insulin.py (same cohort, background,
insulin, meal days and seed as ``test_riddle_2003_share_at_target_from_meal_day_glucose``), with the weekly
meal-day mean glucose and progression fasting glucose kept, so candidate glycation drivers can be compared:

* prog  — the progression model's HbA1c (Wei line with φ = 0.6 for basal insulin; what the simulator reports);
* meal  — glycation driven by the raw meal-day mean (what the strict xfail measures);
* meal−offset — glycation driven by the meal-day mean minus the untreated excess of the meal model over the Wei
  line at the same fasting glucose (offset(FPG) = a·FPG + b, fitted in untreated_scan.py), i.e. the meal model
  recalibrated to ADAG/Wei in diet-only patients and left free under therapy.

The loop is that of ``insulin.run_with_meal_days`` (public functions only), one meal day per week.

Run:  cd /work/wt15 && PYTHONPATH=src:tests nice -n 10 /work/main/.venv/bin/python experiments/i15/riddle_meal.py
"""

from __future__ import annotations

import sys
import time

import numpy as np
from therapy_trials import on_background, trial_cohort  # tests/ helper (cohort construction of the test)

from t2dsim.core.rng import keyed_normal
from t2dsim.engine import ArmState, advance
from t2dsim.engine.meal_days import day_fasting_glucose, find_insulin, simulate_meal_day
from t2dsim.physiology import glycation
from t2dsim.therapies.drugs import Metformin, Sulfonylurea, parameter
from t2dsim.therapies.insulin import BasalInsulin

MEALS = ((7 * 60, 45.0), (12 * 60, 70.0), (19 * 60, 70.0))


def riddle_cohort(n=200, seed=81, untreated=13.2, lo=7.5, hi=10.0):
    base = trial_cohort(n, seed, untreated, 1.3, (lo + 2.5, hi + 5.5)).cohort
    c = on_background(base, [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0)], 5 * 365)
    h0 = c.state.hba1c_pct
    return c.select(np.nonzero((h0 >= lo) & (h0 <= hi))[0])


def main(offset_slope: float, offset_intercept: float, weeks: int = 24, seed: int = 3) -> None:
    t0 = time.perf_counter()
    c = riddle_cohort()
    ins = BasalInsulin("glargine", 10.0, titration_fatigue_per_visit=parameter("titration_fatigue_trial"))
    arm = ArmState(c, [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0), ins])
    n = arm.cohort.n
    h0 = np.asarray(arm.last["hba1c_pct"], float).copy()
    drivers = {"meal": h0.copy(), "meal-offset": h0.copy()}
    decay = np.exp(-7.0 / glycation.HBA1C_TAU_DAYS)
    cv = parameter("meal_day_cho_cv")
    sd_si = np.sqrt(np.log1p(parameter("meal_day_si_cv") ** 2))
    planned = np.array([g for _, g in MEALS])
    means, fpgs = [], []
    for week in range(weeks):
        advance(arm, 7)
        slots = np.arange(len(MEALS) + 1)[None, :]
        z = keyed_normal(seed, arm.cohort.ctx.patient_ids[:, None], "meal-day:intake", week, slots)
        eaten = np.clip(planned[None, :] * (1.0 + cv * z[:, :-1]), 0.0, None).reshape(n, len(MEALS))
        action = np.exp(sd_si * z[:, -1] - 0.5 * sd_si * sd_si)
        ins_t = find_insulin(arm)
        fasting = day_fasting_glucose(arm, ins_t, arm.day - 1)
        day = simulate_meal_day(arm, MEALS, eaten, action, fasting)
        g = day["plasma_glucose_mgdl"]
        ins_t.record_glucose(g)
        mg = g[:, :-1].mean(axis=1)
        fpg = np.asarray(arm.last["glucose_mgdl"], float)
        means.append(mg)
        fpgs.append(fpg)
        for k, m in (("meal", mg), ("meal-offset", mg - (offset_slope * fpg + offset_intercept))):
            tgt = glycation.hba1c_from_mean_glucose(m)
            drivers[k] = tgt + (drivers[k] - tgt) * decay
    h_prog = np.asarray(arm.last["hba1c_pct"], float)
    print(f"Riddle 2003 replication, {n} patients, 24 weeks ({time.perf_counter() - t0:.0f} s); published: FPG 117, "
          "HbA1c 6.96 %, ~60 % <= 7 %")
    print(f"baseline HbA1c {h0.mean():.2f} %; end FPG {fpgs[-1].mean():.1f} mg/dL; "
          f"last meal-day mean {means[-1].mean():.1f}; "
          f"mean of the last 12 meal days {np.mean(means[-12:]):.1f} mg/dL; dose {ins.dose_u.mean():.1f} IU")
    for k, h in (("prog", h_prog), *drivers.items()):
        print(f"  {k:12s} HbA1c {h.mean():.2f} %   share <= 7 %: {np.mean(h <= 7.0):.2f}")


if __name__ == "__main__":
    a, b = (float(x) for x in sys.argv[1:3]) if len(sys.argv) > 2 else (1.375 - 1.1502, -23.5 + 15.24)
    main(a, b)
