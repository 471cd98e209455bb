"""Progression-model throughput: 1,000,000 patient-years at a daily step, chunked, monthly outputs kept.

Run:  .venv/bin/python benchmarks/progression_throughput.py [--patients 100000] [--years 10] [--chunk 25000]
Writes benchmarks/results/progression_throughput.json with ``seconds`` (simulation wall time, after a
small warm-up call that loads the cached Numba kernel) and ``peak_memory_gib`` (process peak RSS from
resource.getrusage). Issue 3 target: ≤ 60 s on 2 cores and ≤ 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numba
import numpy as np

from t2dsim.physiology.progression import (
    OUTPUT_NAMES,
    monthly_record_days,
    simulate_progression,
    t2dsim_initial_state,
    t2dsim_params,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--chunk", type=int, default=25_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "progression_throughput.json")
    args = ap.parse_args()

    n, n_days = args.patients, int(np.ceil(args.years * 365.25))
    rng = np.random.default_rng(args.seed)
    params = t2dsim_params(n).replace(
        SI_target=np.exp(rng.normal(np.log(0.27), 0.35, n)),
        tSI=1.0 / (365.25 * rng.uniform(8, 20, n)),
        Amax=9.0 * np.exp(rng.normal(0, 0.15, n)),
    )
    state = t2dsim_initial_state(n)
    bmi = np.exp(rng.normal(np.log(28.0), 0.16, n))
    age = rng.uniform(30, 60, n)
    n_rec = monthly_record_days(n_days).shape[0]
    monthly = np.empty((n, n_rec, len(OUTPUT_NAMES)), dtype=np.float32)  # all monthly outputs kept

    simulate_progression(params.select(np.arange(10)), state.select(np.arange(10)), 40)  # warm-up
    t0 = time.perf_counter()
    for a in range(0, n, args.chunk):
        idx = np.arange(a, min(n, a + args.chunk))
        r = simulate_progression(params.select(idx), state.select(idx), n_days, age_years=age[idx], bmi_kg_m2=bmi[idx])
        for j, name in enumerate(OUTPUT_NAMES):
            monthly[idx, :, j] = r[name]
    seconds = time.perf_counter() - t0
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30  # ru_maxrss in KiB (Linux)

    result = {
        "benchmark": "progression_throughput",
        "seconds": round(seconds, 3),
        "peak_memory_gib": round(peak_gib, 3),
        "patient_years": n * n_days / 365.25,
        "n_patients": n,
        "days": n_days,
        "chunk": args.chunk,
        "steps_per_day": 1,
        "monthly_snapshots": n_rec,
        "outputs_kept_gib": round(monthly.nbytes / 2**30, 3),
        "numba_threads": numba.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "median_final_hba1c_pct": float(np.median(monthly[:, -1, OUTPUT_NAMES.index("hba1c_pct")])),
        "note": "2 shared cores; other sessions may compete for CPU during the run",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
