"""Peak memory of a large chunked trial (issue 18): the dask_scaling protocol (two arms, 12 months, visits
0/3/6/12) planned and run in this process (Numba threads), each chunk written to the run store; then the
analysis built from the parts one measure at a time (``analyse_parts``) and, optionally, the old way
(``load_parts`` + ``analyse_run``, the whole long tables in memory), each phase's peak resident memory
measured apart (Linux: ``/proc/self/clear_refs`` resets the high-water mark, ``VmHWM`` reads it; RSS is
valid under CPU contention, wall times are not). Writes benchmarks/results/scale_memory_<patients>.json
with wall and CPU seconds per phase and the load average.

Run: .venv/bin/python benchmarks/scale_memory.py --n-per-arm 100000 --chunk-size 5000 [--compare]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402
from dask_scaling import PROTOCOL, cpu  # noqa: E402

GIB = 2**30


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


class Phase:
    """Wall, CPU (user + system of this process and its threads) and peak RSS of one phase."""

    def __init__(self, name: str, out: dict):
        self.name, self.out = name, out

    def __enter__(self):
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        self.rss0 = _status("VmRSS")
        self.load0 = list(os.getloadavg())
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.out[self.name] = {
            "wall_s": time.perf_counter() - self.t0,
            "cpu_s": time.process_time() - self.c0,
            "rss_start_gib": self.rss0 / GIB,
            "peak_rss_gib": _status("VmHWM") / GIB,
            "load_average_before": self.load0,
            "load_average_after": list(os.getloadavg()),
        }
        print(self.name, self.out[self.name], flush=True)


def main() -> None:
    import pandas as pd

    from t2dsim.store import parts as store_parts
    from t2dsim.trial.analysis import analyse_run
    from t2dsim.trial.backend import Backend, analyse_parts, load_parts, plan_record, run_plan
    from t2dsim.trial.protocol import parse_protocol
    from t2dsim.trial.runner import plan_trial

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-arm", type=int, default=1000)
    ap.add_argument("--chunk-size", type=int, default=5000)
    ap.add_argument("--compare", action="store_true", help="also analyse the assembled tables (old way)")
    ap.add_argument("--store", type=Path, default=None, help="run store folder (default: a temporary one)")
    args = ap.parse_args()
    text = PROTOCOL.format(n=args.n_per_arm)
    protocol = parse_protocol(text)
    phases: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp)
        plan_trial(parse_protocol(PROTOCOL.format(n=10)), chunk_size=10)  # warm-up: Numba caches, imports
        with Phase("plan", phases):
            plan = plan_trial(protocol, chunk_size=args.chunk_size)
        rid = store_parts.begin_run(store, text, plan_record(plan, "bench"), seed=plan.seed, backend="numba")
        with Phase("simulate", phases):
            run_plan(plan, Backend(), store, rid)
        with Phase("analyse_parts", phases):
            streamed, _ = analyse_parts(plan, store, rid)
        same = None
        if args.compare:
            with Phase("load_parts_and_analyse_run", phases):
                run = load_parts(plan, store, rid)
                whole = analyse_run(run.results, run.patients, protocol)
            same = all(getattr(streamed, t).equals(getattr(whole, t))
                       for t in ("endpoints", "responders", "trajectories", "flow", "baseline"))  # fmt: skip
            del run, whole
    usage = resource.getrusage(resource.RUSAGE_SELF)
    n = 2 * args.n_per_arm
    write_result(
        f"scale_memory_{n}",
        {
            "patients": n,
            "chunk_size": args.chunk_size,
            "chunks": len(plan.chunks),
            "backend": "in-process (Numba threads)",
            "protocol": "dask_scaling: two arms, 12 months, visits 0/3/6/12, HbA1c, FPG, fasting insulin, HOMA-IR",
            "phases": phases,
            "streamed_equals_in_memory_analysis": same,
            "process_peak_rss_gib": usage.ru_maxrss * 1024 / GIB,
            "process_cpu_s": usage.ru_utime + usage.ru_stime,
            "cpu": cpu(),
            "pandas": pd.__version__,
            "note": "Shared machine (2 cores, about 6 other sessions running tests and benchmarks): wall times "
            "are measured under contention and are upper bounds; CPU seconds and peak RSS are not inflated by it. "
            "peak_rss_gib of a phase is the process's high-water mark during that phase (reset at its start), "
            "so it includes what earlier phases left in memory (rss_start_gib: the plan's cohort and tables).",
        },
    )


if __name__ == "__main__":
    main()
