"""Warm default trial with and without its posterior draws (issue 16, acceptance 5): `t2dsim trial
examples/stem-cells-vs-standard-care.toml --out DIR` (what `make run` does; the protocol sets `[posterior] draws`)
against the same protocol text with `draws = 0`, run alternately in fresh processes after one untimed warm-up each
(Numba caches loaded, files in the page cache). The machine is shared: the two variants alternate so both see the
same load, and the load average is recorded before each run.
Writes benchmarks/results/posterior_draws.json: each run's wall time and load, the medians, their ratio (target
≤ 2), the in-process phase timings of the last run of each variant, CPU model and flags.

Run: .venv/bin/python benchmarks/posterior_draws.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import re
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
PROTOCOL = ROOT / "examples/stem-cells-vs-standard-care.toml"


def run_cli(protocol: Path, out: Path) -> float:
    """Wall seconds of one CLI trial in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "t2dsim.cli", "trial", str(protocol), "--out", str(out)],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    text = PROTOCOL.read_text()
    m = re.search(r"^\[posterior\]\s*\ndraws\s*=\s*(\d+)", text, flags=re.M)
    if m is None or int(m.group(1)) == 0:
        raise SystemExit(f"{PROTOCOL} sets no [posterior] draws: nothing to compare")
    k = int(m.group(1))
    runs: dict[str, list[dict]] = {"with_draws": [], "without_draws": []}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "nodraws").mkdir()  # same file name, so the same report and store names
        without = Path(tmp) / "nodraws" / PROTOCOL.name
        without.write_text(text[: m.start()] + "[posterior]\ndraws = 0" + text[m.end() :])
        variants = {"with_draws": PROTOCOL, "without_draws": without}
        for name, path in variants.items():  # warm-up, not timed
            run_cli(path, Path(tmp) / f"warm-{name}")
        for i in range(args.repeats):
            for name, path in variants.items():
                load = list(os.getloadavg())
                s = run_cli(path, Path(tmp) / f"{name}-{i}")
                runs[name].append({"seconds": s, "load_average_1_5_15": load})
                print(name, round(s, 2), load, flush=True)
    med = {k_: statistics.median(r["seconds"] for r in v) for k_, v in runs.items()}
    write_result(
        "posterior_draws",
        {
            "command": "python -m t2dsim.cli trial examples/stem-cells-vs-standard-care.toml --out DIR (fresh process "
            f"each), against the same text with [posterior] draws = 0; the example sets draws = {k}",
            "draws": k,
            "runs": runs,
            "median_s": med,
            "ratio_with_to_without": med["with_draws"] / med["without_draws"],
            "target_ratio": 2.0,
            "cpu": cpu(),
            "note": "with and without alternate so both see the same load; the machine is shared (2 cores, several "
            "other jobs), so absolute seconds are inflated and noisy, the ratio less so.",
        },
    )


if __name__ == "__main__":
    main()
