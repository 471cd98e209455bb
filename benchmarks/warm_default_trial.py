"""Warm default trial through the CLI (issue 18, acceptance 4): `t2dsim trial
examples/stem-cells-vs-standard-care.toml --out DIR` (what `make run` does) of a reference checkout
("today's code" when the issue was filed) and of this tree, run alternately in fresh processes, side by
side in one session, after one untimed warm-up each (Numba caches loaded, files in the page cache).
Writes benchmarks/results/warm_default_trial.json: each run's wall time, CPU time (user + system of the
child process, all its threads) and the load average beside it, the medians and their ratios (target
≤ 0.40), CPU model and flags. On a shared machine the wall ratio depends on the load (other processes
take cores from both trees, more from the base's longer run); the CPU-time ratio much less so.

Run: .venv/bin/python benchmarks/warm_default_trial.py --base /path/to/reference/checkout [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402
from dask_scaling import cpu  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = "examples/stem-cells-vs-standard-care.toml"


def run_cli(tree: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one CLI trial of ``tree`` (its own src and example protocol) in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "t2dsim.cli", "trial", str(tree / PROTOCOL), "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{tree}: the trial failed (exit {proc.returncode})")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="reference checkout (today's code)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    trees = {"base": args.base.resolve(), "current": ROOT}
    runs: dict[str, list[dict]] = {k: [] for k in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for name, tree in trees.items():  # warm-up, not timed
            run_cli(tree, Path(tmp) / f"warm-{name}")
        for i in range(args.repeats):
            for name, tree in trees.items():
                load = list(os.getloadavg())
                s, c = run_cli(tree, Path(tmp) / f"{name}-{i}")
                runs[name].append({"seconds": s, "cpu_seconds": c, "load_average_1_5_15": load})
                print(name, round(s, 2), round(c, 2), load, flush=True)
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    cpu_med = {k: statistics.median(r["cpu_seconds"] for r in v) for k, v in runs.items()}
    git = subprocess.run(["git", "-C", str(args.base), "rev-parse", "HEAD"], capture_output=True, text=True)
    write_result(
        "warm_default_trial",
        {
            "command": f"python -m t2dsim.cli trial {PROTOCOL} --out DIR (fresh process each)",
            "base_commit": git.stdout.strip() or None,
            "runs": runs,
            "median_s": med,
            "ratio_current_to_base": med["current"] / med["base"],
            "median_cpu_s": cpu_med,
            "cpu_ratio_current_to_base": cpu_med["current"] / cpu_med["base"],
            "current_commit": subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
            or None,  # fmt: skip
            "target_ratio": 0.40,
            "cpu": cpu(),
            "note": "base and current alternate (base, current, base, ...) so both see the same load. The "
            "machine (2 cores) is shared with about 6 other sessions running test suites and benchmarks: wall "
            "times are measured under contention (load average recorded before each run); CPU seconds "
            "(user + system, all threads) are less sensitive to it.",
        },
    )


if __name__ == "__main__":
    main()
