"""Dask scaling (issue 18): one two-arm, 12-month trial run in-process, on a LocalCluster of 1 and of 2
single-threaded workers, side by side in the same run; the three results must be identical. Writes
benchmarks/results/dask_scaling.json with the timings, the CPU model and flags, and the load average.

Run: .venv/bin/python benchmarks/dask_scaling.py [--n-per-arm 1000] [--chunk-size 250] [--workers 1,2]
(--n-per-arm up to 50000, i.e. 10^5 patients).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

PROTOCOL = """
name = "dask-scaling"
duration_months = 12
visit_months = [0, 3, 6, 12]
measurements = ["hba1c_percent", "fpg_mgdl", "fasting_insulin_pmol_l", "homa_ir"]
[population]
preset = "newly-diagnosed"
max_screening_factor = 20
[population.inclusion]
hba1c_percent = {{ min = 7.0, max = 10.5 }}
insulin_use = "excluded"
[[arms]]
name = "metformin"
n = {n}
treatment = [{{ kind = "metformin", dose_mg_per_day = 2000 }}]
[[arms]]
name = "glp1ra"
n = {n}
treatment = [
  {{ kind = "metformin", dose_mg_per_day = 2000 }},
  {{ kind = "glp1ra", drug = "semaglutide", dose_mg = 1.0 }},
]
[randomisation]
seed = 18
[dropout]
annual_rate = 0.1
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 12
"""


def cpu() -> dict:
    info = {"model": "unknown", "flags": []}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and info["model"] == "unknown":
                info["model"] = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not info["flags"]:
                flags = set(line.split(":", 1)[1].split())
                info["flags"] = sorted(f for f in flags if f.startswith(("avx", "sse4", "fma", "bmi")))
    except OSError:
        pass
    info["load_average_1_5_15"] = list(os.getloadavg())
    return info


def run_once(plan, text: str, backend, store: Path):
    from t2dsim.store import parts as store_parts
    from t2dsim.trial.backend import load_parts, plan_record, run_plan

    t0 = time.perf_counter()
    rid = store_parts.begin_run(store, text, plan_record(plan, "bench"), seed=plan.seed, backend="numba")
    run_plan(plan, backend, store, rid)
    t_sim = time.perf_counter()
    run = load_parts(plan, store, rid)
    t_end = time.perf_counter()
    return run, {"simulate_s": t_sim - t0, "assemble_s": t_end - t_sim}


def main() -> None:
    import pandas as pd

    from t2dsim.trial.backend import Backend
    from t2dsim.trial.protocol import parse_protocol

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-arm", type=int, default=1000)
    ap.add_argument("--chunk-size", type=int, default=250)
    ap.add_argument("--workers", default="1,2", help="comma-separated LocalCluster sizes")
    args = ap.parse_args()
    if not 10 <= args.n_per_arm <= 50_000:
        ap.error(f"--n-per-arm {args.n_per_arm}: allowed range 10 to 50000")
    text = PROTOCOL.format(n=args.n_per_arm)
    protocol = parse_protocol(text)
    backends = [Backend()] + [Backend(workers=int(w)) for w in args.workers.split(",")]
    key = ["arm", "patient_id", "visit_month", "measure"]
    from t2dsim.trial.runner import plan_trial

    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up (Numba kernels from the cache, imports), not timed.
        run_once(plan_trial(parse_protocol(PROTOCOL.format(n=10)), chunk_size=10), text, Backend(), Path(tmp) / "w")
        # Screening and randomisation once (the same plan for every backend; timed apart).
        t0 = time.perf_counter()
        plan = plan_trial(protocol, chunk_size=args.chunk_size)
        plan_s = time.perf_counter() - t0
        rows, ref = [], None
        for i, b in enumerate(backends):
            run, times = run_once(plan, text, b, Path(tmp) / f"s{i}")
            res = run.results.sort_values(key).reset_index(drop=True)
            identical = True if ref is None else bool(res.equals(ref))
            ref = res if ref is None else ref
            rows.append({"backend": b.label, **times, "identical_to_in_process": identical})
            print(rows[-1], flush=True)
    base = rows[0]["simulate_s"]
    for r in rows:
        r["speedup_vs_in_process"] = base / r["simulate_s"]
    if not all(r["identical_to_in_process"] for r in rows):
        raise SystemExit("results differ between backends")
    write_result(
        "dask_scaling",
        {
            "patients": 2 * args.n_per_arm,
            "chunk_size": args.chunk_size,
            "chunks": len(plan.chunks),
            "plan_s": plan_s,
            "protocol": "two arms, 12 months, visits 0/3/6/12, HbA1c, FPG, fasting insulin (MMTT), HOMA-IR",
            "cpu": cpu(),
            "runs": rows,
            "note": "plan_s (screening + randomisation, once, shared by all backends) is not parallelised; "
            "simulate_s includes starting and stopping the LocalCluster (workers import t2dsim and load "
            "the Numba cache); in-process uses Numba's threads (NUMBA_NUM_THREADS), workers one thread each.",
            "pandas": pd.__version__,
        },
    )


if __name__ == "__main__":
    main()
