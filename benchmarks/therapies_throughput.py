"""Standard-care throughput: a stepwise treatment plan (metformin → SU → basal insulin, weekly segments,
weekly titration) on a newly-diagnosed cohort for several years, plus weekly meal-model days with
hypoglycaemia counting (basal insulin arm).

Run:  .venv/bin/python benchmarks/therapies_throughput.py [--patients 5000] [--years 5]
Writes benchmarks/results/therapies_throughput.json (wall seconds of each part, after a warm-up).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

from t2dsim.engine import ArmState, Cohort, advance  # noqa: E402
from t2dsim.engine.meal_days import run_with_meal_days  # noqa: E402
from t2dsim.population.presets import make_cohort  # noqa: E402
from t2dsim.therapies.base import PatientContext  # noqa: E402
from t2dsim.therapies.drugs import Metformin, Sulfonylurea  # noqa: E402
from t2dsim.therapies.insulin import BasalInsulin  # noqa: E402
from t2dsim.therapies.plan import TreatmentPlan  # noqa: E402


def cohort(n: int, seed: int) -> Cohort:
    c = make_cohort("newly-diagnosed", n, seed=seed)
    h = 1.70
    ctx = PatientContext(n=n, body_weight_kg=c.bmi_kg_m2 * h * h, age_years=c.age_years, female=c.patient_id % 2 == 1,
                         seed=seed, patient_ids=c.patient_id)  # fmt: skip
    return Cohort(c.params, c.state, ctx, c.bmi_kg_m2, np.full(n, h * 100))


def plan() -> TreatmentPlan:
    return TreatmentPlan([Metformin(2000.0), Sulfonylurea("glimepiride", 4.0), BasalInsulin("glargine", 10.0)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--years", type=float, default=5.0)
    ap.add_argument("--meal-patients", type=int, default=1000)
    ap.add_argument("--meal-weeks", type=int, default=12)
    args = ap.parse_args()
    days = int(args.years * 365.25)
    warm = cohort(50, 99)
    advance(ArmState(warm, [plan()]), 30)
    run_with_meal_days(ArmState(warm, [BasalInsulin()]), 1)

    c = cohort(args.patients, 1)
    t0 = time.perf_counter()
    arm = ArmState(c, [plan()])
    tr = advance(arm, days, record_days=[days])
    t_plan = time.perf_counter() - t0

    cm = cohort(args.meal_patients, 2)
    t0 = time.perf_counter()
    res = run_with_meal_days(ArmState(cm, [Metformin(2000.0), BasalInsulin()]), args.meal_weeks)
    t_meal = time.perf_counter() - t0
    write_result(
        "therapies_throughput",
        {
            "plan_patients": args.patients,
            "plan_years": args.years,
            "plan_seconds": round(t_plan, 3),
            "plan_patient_years_per_s": round(args.patients * args.years / t_plan, 1),
            "plan_share_stage_ge2": float(np.mean(tr["plan_stage"][:, -1] >= 2)),
            "meal_patients": args.meal_patients,
            "meal_weeks": args.meal_weeks,
            "meal_seconds": round(t_meal, 3),
            "meal_patient_days_per_s": round(args.meal_patients * args.meal_weeks / t_meal, 1),
            "meal_level1_events_per_patient_year": res.hypo.rate_per_patient_year(1),
        },
    )


if __name__ == "__main__":
    main()
