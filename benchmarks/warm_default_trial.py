"""Warm default trial through the CLI (issue 18, acceptance 4): `t2dsim trial
examples/stem-cells-vs-standard-care.toml --out DIR` (what `make run` does) of a reference checkout
("today's code" when the issue was filed) and of this tree, run alternately in fresh processes, side by
side in one session, after one untimed warm-up each (Numba caches loaded, files in the page cache).
Writes benchmarks/results/warm_default_trial.json: each run's wall time, CPU time (user + system of the
child process, all its threads) and the load average beside it, the medians and their ratios (targets:
≤ 0.40 without the posterior draws, ≤ 0.80 with them), CPU model and flags. On a shared machine the wall
ratio depends on the load (other processes take cores from all variants, more from the base's longer run);
the CPU-time ratio much less so.

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


def without_draws(protocol: Path, out_dir: Path) -> Path:
    """A copy of ``protocol`` with its ``[posterior]`` table removed (the same trial without posterior draws),
    written beside ``out_dir``; refuses a protocol without one (nothing to remove)."""
    text = protocol.read_text(encoding="utf-8")
    if "\n[posterior]\ndraws = " not in text:
        raise SystemExit(f"{protocol}: no [posterior] draws table to remove")
    head, _, tail = text.partition("\n[posterior]\n")
    tail = tail.split("\n", 1)[1]  # drop the `draws = K` line
    out = out_dir / "default-without-draws.toml"
    out.write_text(head + "\n" + tail, encoding="utf-8")
    return out


def run_cli(tree: Path, out: Path, protocol: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one CLI trial of ``tree`` (its own src; its example protocol unless ``protocol``) in a
    fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    t0 = time.perf_counter()
    proto = protocol or tree / PROTOCOL
    proc = subprocess.Popen([sys.executable, "-m", "t2dsim.cli", "trial", str(proto), "--out", str(out)],
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
    with tempfile.TemporaryDirectory() as tmp:
        # base (no posterior draws in its protocol), this tree without draws, and this tree as shipped (with them)
        variants = {
            "base": (args.base.resolve(), None),
            "current_without_draws": (ROOT, without_draws(ROOT / PROTOCOL, Path(tmp))),
            "current": (ROOT, None),
        }
        runs: dict[str, list[dict]] = {k: [] for k in variants}
        for name, (tree, proto) in variants.items():  # warm-up, not timed
            run_cli(tree, Path(tmp) / f"warm-{name}", proto)
        for i in range(args.repeats):
            for name, (tree, proto) in variants.items():
                load = list(os.getloadavg())
                s, c = run_cli(tree, Path(tmp) / f"{name}-{i}", proto)
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
            "ratio_current_without_draws_to_base": med["current_without_draws"] / med["base"],
            "ratio_with_to_without_draws": med["current"] / med["current_without_draws"],
            "median_cpu_s": cpu_med,
            "cpu_ratio_current_to_base": cpu_med["current"] / cpu_med["base"],
            "cpu_ratio_current_without_draws_to_base": cpu_med["current_without_draws"] / cpu_med["base"],
            "current_commit": subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
            or None,  # fmt: skip
            "target_ratio": {"without_draws_to_base": 0.40, "with_draws_to_base": 0.80},
            "cpu": cpu(),
            "note": "the variants alternate (base, without draws, with draws, base, ...) so all see the same load "
            "(load average recorded before each run); CPU seconds (user + system, all threads) are less sensitive to "
            "load than wall seconds.",
        },
    )


if __name__ == "__main__":
    main()
