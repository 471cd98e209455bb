"""Issue 15, question 1: untreated (diet-only) T2D — meal model's 24-h mean glucose of a three-meal day vs the
Wei 2014 fasting→mean line used for HbA1c, across fasting glucose 100–250 mg/dL.

The newly-diagnosed preset is advanced untreated for 12 years; at years 0, 1, 2, 3, 5, 8, 12 every patient's
progression state sets a meal-model day (physiology/coupling.py). Pairs are binned by the progression fasting
glucose.

Run:  cd /work/wt15 && PYTHONPATH=src nice -n 10 /work/main/.venv/bin/python experiments/i15/untreated_scan.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import engine_cohort, meal_day_stats  # noqa: E402

from t2dsim.engine import ArmState, advance  # noqa: E402
from t2dsim.physiology import glycation  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def main(n: int = 200, seed: int = 15) -> None:
    arm = ArmState(engine_cohort(n, seed), [])
    rows = []
    years = [0, 1, 2, 3, 5, 8, 12]
    for y in years:
        if 365 * y > arm.day:
            advance(arm, 365 * y - arm.day)
        s = meal_day_stats(arm)
        s["year"] = np.full(n, y)
        rows.append(pd.DataFrame(s))
    df = pd.concat(rows, ignore_index=True)
    df.to_csv(OUT / "untreated_scan.csv", index=False)
    bins = [90, 110, 130, 150, 170, 190, 210, 230, 260, 400]
    df["fpg_bin"] = pd.cut(df["fasting"], bins)
    t = df.groupby("fpg_bin", observed=True).agg(
        n=("mean24", "size"), fpg=("fasting", "mean"), mean24_meal=("mean24", "mean"),
        mean_wei=("mean_prog_wei", "mean"), peak=("peak", "mean"), pp2h=("pp2h_breakfast", "mean"),
        hba1c_prog=("hba1c_prog", "mean"), g_bf_3h=("g_bf_3h", "mean"), g_lunch_2h=("g_lunch_2h", "mean"),
        g_lunch_5h=("g_lunch_5h", "mean"), pp_share_monnier=("pp_share_monnier", "median"),
    )  # fmt: skip
    t["diff_meal_minus_wei"] = t["mean24_meal"] - t["mean_wei"]
    t["a1c_adag_meal"] = glycation.hba1c_from_mean_glucose(t["mean24_meal"])
    t["a1c_adag_wei"] = glycation.hba1c_from_mean_glucose(t["mean_wei"])
    print(t.round(2).to_string())
    # linear fit meal mean ~ FPG
    ok = (df["fasting"] >= 100) & (df["fasting"] <= 250)
    sl, ic = np.polyfit(df.loc[ok, "fasting"], df.loc[ok, "mean24"], 1)
    print(f"meal-model 24-h mean = {sl:.3f}·FPG + {ic:.1f} (FPG 100–250, {int(ok.sum())} patient-days); "
          f"Wei line {glycation.FPG_TO_MEAN_SLOPE}·FPG {glycation.FPG_TO_MEAN_INTERCEPT_MGDL}")


if __name__ == "__main__":
    main()
