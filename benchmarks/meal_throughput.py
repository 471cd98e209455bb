"""Meal-model throughput: patient-days per second for 1, 100 and 10,000 patients (t2dsim, Numba RK4,
1-min step, full per-minute outputs) against simglucose 0.2.11 for one patient-day, measured in the
same run. Writes benchmarks/results/meal_throughput.json.

Run: .venv/bin/python benchmarks/meal_throughput.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

from t2dsim.physiology.meal import MealParams, dallaman_2007  # noqa: E402
from t2dsim.simulate import THREE_MEALS, meal_inputs, simulate  # noqa: E402


def t2dsim_rate(n: int, repeats: int) -> float:
    base = dallaman_2007("t2d")
    params = MealParams({k: np.repeat(v, n) for k, v in base.values.items()}, tuple(f"p{i}" for i in range(n)))
    cho = meal_inputs(1440, list(THREE_MEALS))
    simulate(params.select([0]), cho)  # compile / load the cached kernel
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        simulate(params, cho)
        best = min(best, time.perf_counter() - t0)
    return n / best


def simglucose_rate() -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from simglucose.patient.t1dpatient import Action, T1DPatient
    cho = meal_inputs(1440, list(THREE_MEALS))
    patient = T1DPatient.withName("adult#001")
    basal = patient._params.u2ss * patient._params.BW / 6000
    t0 = time.perf_counter()
    for m in range(1440):
        patient.step(Action(CHO=cho[m], insulin=basal))
    return 1.0 / (time.perf_counter() - t0)


def main() -> None:
    rates = {str(n): t2dsim_rate(n, repeats) for n, repeats in ((1, 20), (100, 5), (10_000, 2))}
    peer = simglucose_rate()
    best = max(rates.values())
    write_result(
        "meal_throughput",
        {
            "unit": "patient-days per second",
            "t2dsim_patient_days_per_s": rates,
            "simglucose_patient_days_per_s": peer,
            "ratio_vs_simglucose": best / peer,
            "targets": {"patient_days_per_s": 5000, "ratio_vs_simglucose": 25000},
            "notes": "Dalla Man 2007 T2D mean subject replicated, three-meal day, 1-min RK4, all per-minute outputs; "
            "simglucose T1DPatient.step (dopri5) for adult#001, same meals, basal insulin.",
        },
    )


if __name__ == "__main__":
    main()
