"""Issue 15 (third session): 7-point profile and meal-day fluxes of the Riddle 2003 replication cohort at baseline
(metformin + SU) and at week 24 of glargine, without day-to-day variability, to find where the meal-day mean
exceeds the published profiles.

Run: cd /work/wt_glucose && PYTHONPATH=src:tests nice -n 10 /work/main/.venv/bin/python \
     experiments/i15/riddle_profile.py
"""

from __future__ import annotations

import numpy as np
from test_therapies_insulin import RIDDLE_BACKGROUND, _riddle_cohort, _trial_insulin

from t2dsim.engine import ArmState
from t2dsim.engine.arm import meal_params_today
from t2dsim.engine.meal_days import run_with_meal_days, simulate_meal_day

MEALS = ((7 * 60, 45.0), (12 * 60, 70.0), (19 * 60, 70.0))
POINTS = {"pre-B 07": 420, "B+2h": 540, "pre-L 12": 720, "L+2h": 840, "pre-D 19": 1140, "D+2h": 1260, "03:00": 180}


def profile(arm: ArmState, label: str) -> None:
    day = simulate_meal_day(arm, MEALS)
    g = day["plasma_glucose_mgdl"]
    p = meal_params_today(arm)
    fpg = np.asarray(arm.last["glucose_mgdl"], float)
    pts = "  ".join(f"{k} {g[:, m].mean():5.1f}" for k, m in POINTS.items())
    mean = g[:, :-1].mean()
    print(f"{label}: FPG {fpg.mean():.1f}  24-h mean {mean:.1f}  (mean-FPG {mean - fpg.mean():+.1f})")
    print("   ", pts)
    keep = ("egp_mg_kg_min", "ra_mg_kg_min", "secretion_pmol_kg_min", "uid_mg_kg_min")
    aux = {k: day[k] for k in day.outputs if k in keep}
    for k, v in aux.items():
        print(f"    {k}: basal {v[:, 0].mean():.2f}, 24-h mean {v.mean():.2f}, min {v.min(axis=1).mean():.2f}")
    for k in ("Vmx", "kp3", "K", "beta_Y", "Ib", "EGPb", "u2ss", "Sfix", "beta_Y_up", "Vm0", "Km0"):
        print(f"    {k} {p[k].mean():.4g}", end="")
    print()


def main() -> None:
    c = _riddle_cohort()
    ins = _trial_insulin()
    arm = ArmState(c, [*(f() for f in RIDDLE_BACKGROUND), ins])
    profile(arm, "baseline (met+SU, 10 IU glargine started)")
    run_with_meal_days(arm, 24, seed=3)
    print(f"dose {ins.dose_u.mean():.1f} IU")
    profile(arm, "week 24 glargine")


if __name__ == "__main__":
    main()
