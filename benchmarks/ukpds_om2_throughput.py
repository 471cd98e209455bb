"""UKPDS OM2 simulator throughput: patient-years per second (NumPy, vectorised over
patients x Monte Carlo replicates, loop over annual cycles), lifetime horizon, and the cost of
compare_arms for two arms. Writes benchmarks/results/ukpds_om2_throughput.json.

Run: .venv/bin/python benchmarks/ukpds_om2_throughput.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

from t2dsim.outcomes.compare import compare_arms  # noqa: E402
from t2dsim.outcomes.ukpds_om2 import OM2Inputs, simulate  # noqa: E402


def cohort(n: int, shift: float = 0.0) -> OM2Inputs:
    g = np.random.default_rng(1)
    i = np.arange(n)
    return OM2Inputs(
        age=g.uniform(45, 70, n),
        duration=g.uniform(0, 10, n),
        female=i % 2,
        hba1c=g.uniform(6.5, 9.5, n) - shift,
        sbp=g.uniform(120, 160, n),
        ldl=g.uniform(2, 4.5, n),
        hdl=g.uniform(0.9, 1.5, n),
        bmi=g.uniform(24, 36, n),
        egfr=g.uniform(40, 100, n),
        heart_rate=g.uniform(60, 90, n),
        wbc=g.uniform(5, 9, n),
        haemoglobin=g.uniform(12.5, 15.5, n),
    )


def main() -> None:
    out = {}
    for n, n_mc in ((100, 100), (1000, 100)):
        c = cohort(n)
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            res = simulate(c, None, n_mc=n_mc, seed=0)
            best = min(best, time.perf_counter() - t0)
        py = float(res.life_years.sum())
        out[f"{n}x{n_mc}"] = {"seconds": best, "simulated_patient_years_per_s": py / best, "cycles": res.n_years}
    t0 = time.perf_counter()
    compare_arms({"control": cohort(1000), "hba1c-1": cohort(1000, 1.0)}, None, n_mc=100, seed=0)
    out["compare_arms_2x1000x100_s"] = time.perf_counter() - t0
    write_result(
        "ukpds_om2_throughput",
        {
            "unit": "seconds; simulated patient-years (alive) per second",
            "results": out,
            "notes": "lifetime horizon (to age 100), default UKPDS 90 risk-factor extension, "
            "1000 bootstrap resamples in compare_arms; shared 2-core machine.",
        },
    )


if __name__ == "__main__":
    main()
