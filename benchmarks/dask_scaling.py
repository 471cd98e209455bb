"""Dask scaling (issue 18): one two-arm, 12-month trial run in-process, on a LocalCluster of 1 and of 2
single-threaded workers, side by side in the same run; the three results must be identical. Writes
benchmarks/results/dask_scaling.json with the timings, the CPU model and flags, the load average and the
machine's two-core ceiling (a fixed loop alone vs two at once) measured around each run.

Run: .venv/bin/python benchmarks/dask_scaling.py [--n-per-arm 1000] [--chunk-size 250] [--workers 1,2] [--repeat 1]
(--n-per-arm up to 500000, i.e. 10^6 patients).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import nullcontext
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


def _spin(n: int) -> float:
    """A fixed CPU-bound loop (pure Python, one thread); returns its wall time in seconds."""
    t = time.perf_counter()
    acc = 0
    for i in range(n):
        acc += i * i
    return time.perf_counter() - t


def machine_ceiling(n: int = 15_000_000) -> dict:
    """What the machine's two cores deliver right now: the same loop in one process alone, then in two
    processes at once; ceiling = 2 × alone / together (2.0 = two full cores; less when the host's other
    tenants or a shared physical core take part of the second). Measured around every backend run, since a
    worker ratio can be no better than the cores it runs on."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        pool.submit(_spin, 1000).result()
        alone = min(pool.submit(_spin, n).result() for _ in range(2))
        together = max(f.result() for f in [pool.submit(_spin, n), pool.submit(_spin, n)])
    return {"alone_s": alone, "together_s": together, "ceiling": 2 * alone / together}


def run_once(protocol, text: str, backend, store: Path, chunk_size: int):
    """Plan (screening: Dask tasks on the backend's cluster) and run, timed apart; one cluster for both."""
    from distributed import get_task_stream

    from t2dsim.store import parts as store_parts
    from t2dsim.trial.backend import load_parts, plan_on, plan_record, run_plan, session

    t0 = time.perf_counter()
    with session(backend) as client, (nullcontext() if client is None else get_task_stream(client)) as stream:
        t_up = time.perf_counter()
        plan = plan_on(protocol, chunk_size, client)
        t_plan = time.perf_counter()
        rid = store_parts.begin_run(store, text, plan_record(plan, "bench"), seed=plan.seed, backend="numba")
        run_plan(plan, backend, store, rid, client=client)
        t_sim = time.perf_counter()
    t_down = time.perf_counter()
    busy = None if stream is None else _busy(stream.data)  # the task stream is filled on leaving its context
    run = load_parts(plan, store, rid)
    t_end = time.perf_counter()
    times = {"cluster_start_s": t_up - t0, "plan_s": t_plan - t_up, "simulate_s": t_sim - t_plan,
             "cluster_stop_s": t_down - t_sim, "assemble_s": t_end - t_down, "total_s": t_end - t0}  # fmt: skip
    if busy is not None:  # the workers' task compute time (screening blocks + chunks) against plan + simulate wall
        times["worker_compute_s"] = busy
        times["worker_busy_share"] = sum(busy.values()) / (backend.workers * (t_sim - t_up))
    return plan, run, times


def _busy(records: list) -> dict[str, float]:
    """Seconds each worker spent computing tasks, from a Dask task stream."""
    out: dict[str, float] = {}
    for r in records:
        for ss in r["startstops"]:
            if ss["action"] == "compute":
                out[r["worker"]] = out.get(r["worker"], 0.0) + ss["stop"] - ss["start"]
    return out


def main() -> None:
    import pandas as pd

    from t2dsim.trial.backend import Backend, plan_record
    from t2dsim.trial.protocol import parse_protocol

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-arm", type=int, default=1000)
    ap.add_argument("--chunk-size", type=int, default=250)
    ap.add_argument("--workers", default="1,2", help="comma-separated LocalCluster sizes")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds over all backends (interleaved); ratios use each backend's fastest round")  # fmt: skip
    args = ap.parse_args()
    if not 1 <= args.repeat <= 5:
        ap.error(f"--repeat {args.repeat}: allowed range 1 to 5")
    if not 10 <= args.n_per_arm <= 500_000:
        ap.error(f"--n-per-arm {args.n_per_arm}: allowed range 10 to 500000")
    text = PROTOCOL.format(n=args.n_per_arm)
    protocol = parse_protocol(text)
    backends = [Backend()] + [Backend(workers=int(w)) for w in args.workers.split(",")]
    key = ["arm", "patient_id", "visit_month", "measure"]

    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up (Numba kernels from the cache, imports), not timed.
        run_once(parse_protocol(PROTOCOL.format(n=10)), text, Backend(), Path(tmp) / "w", 10)
        rows, ref, ref_plan = [], None, None
        for b in [b for _ in range(args.repeat) for b in backends]:
            load0 = list(os.getloadavg())
            before = machine_ceiling()
            plan, run, times = run_once(protocol, text, b, Path(tmp) / f"s{len(rows)}", args.chunk_size)
            after = machine_ceiling()
            res = run.results.sort_values(key).reset_index(drop=True)
            record = plan_record(plan, "x")
            identical = True if ref is None else bool(res.equals(ref)) and record == ref_plan
            if ref is None:
                ref, ref_plan = res, record
            rows.append({"backend": b.label, **times, "identical_to_in_process": identical,
                         "load_average_before": load0, "load_average_after": list(os.getloadavg()),
                         "two_core_ceiling_before": before["ceiling"],
                         "two_core_ceiling_after": after["ceiling"]})  # fmt: skip
            print(rows[-1], flush=True)
            del run, res
    by: dict[str, dict] = {}  # each backend's fastest round
    for r in rows:
        if r["backend"] not in by or r["total_s"] < by[r["backend"]]["total_s"]:
            by[r["backend"]] = r
    base = by["in-process"]["total_s"]
    for r in rows:
        r["speedup_vs_in_process"] = base / r["total_s"]
    ratio = None
    if "dask-local-1" in by and "dask-local-2" in by:
        ratio = by["dask-local-1"]["total_s"] / by["dask-local-2"]["total_s"]
    if not all(r["identical_to_in_process"] for r in rows):
        raise SystemExit("results differ between backends")
    write_result(
        "dask_scaling",
        {
            "patients": 2 * args.n_per_arm,
            "chunk_size": args.chunk_size,
            "chunks": len(plan.chunks),
            "protocol": "two arms, 12 months, visits 0/3/6/12, HbA1c, FPG, fasting insulin (MMTT), HOMA-IR",
            "cpu": cpu(),
            "runs": rows,
            "repeat": args.repeat,
            "two_vs_one_worker": ratio,
            "two_workers_over_in_process": by["dask-local-2"]["total_s"] / base if "dask-local-2" in by else None,
            "note": "With --repeat R the backends run in R interleaved rounds and the ratios use each backend's "
            "fastest round (every round is listed). worker_compute_s: each worker's task compute time (Dask task "
            "stream), worker_busy_share: their "
            "sum over workers x (plan + simulate wall): near 1 means the scheduling leaves no core idle and the rest "
            "of the 2-vs-1 gap is each task running slower beside the other (per-task time, compare the 1-worker "
            "row). two_core_ceiling_*: 2 x (a fixed loop alone) / (the same loop in two processes at once), just "
            "before and after each backend run; 2.0 = two full cores. The 2-vs-1 worker ratio cannot exceed what "
            "the host's cores deliver while both are busy, which varies on a shared host. "
            "Each backend plans (screening: candidate blocks as Dask tasks on its cluster, in-process "
            "in this process) and runs the chunks; total_s = cluster start + plan + simulate + cluster stop + "
            "assembly from the parts. In-process uses Numba's threads (NUMBA_NUM_THREADS), workers one thread "
            "each. Results and plans must be identical.",
            "pandas": pd.__version__,
        },
    )


if __name__ == "__main__":
    main()
