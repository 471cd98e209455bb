"""Wall time of a full `t2dsim calibrate` (issue 16, acceptance 7: under 15 minutes on 2 cores) from an empty jobs
folder, and whether its fits are identical to the shipped ones (experiments/i16_refit_jobs/, results version 4).

    python benchmarks/calibrate_time.py [--workers N]

Runs ``t2dsim calibrate --out TMP`` in a fresh interpreter (so Numba compiles from its cache as a user's run does),
then compares every job file with the committed one of the same name (same input hash) and the written
stemcells.json's central values and ensemble with the shipped file. Writes benchmarks/results/calibrate_time.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_result

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_JOBS = ROOT / "experiments" / "i16_refit_jobs"
SHIPPED = ROOT / "src" / "t2dsim" / "therapies" / "stemcells" / "calibrated" / "stemcells.json"
FIT_KEYS = ("log_theta", "x", "cov", "cost", "nfev", "njev", "starts")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs, at most 2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "t2dsim.cli", "calibrate", "--out", tmp]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        jobs = sorted((Path(tmp) / "jobs").glob("*.json"))
        same = {}
        for f in jobs:
            ref = SHIPPED_JOBS / f.name
            a = json.loads(f.read_text())
            same[f.stem] = ref.is_file() and all(a.get(k) == json.loads(ref.read_text()).get(k) for k in FIT_KEYS)
        new, old = json.loads((Path(tmp) / "stemcells.json").read_text()), json.loads(SHIPPED.read_text())
        write_result(
            "calibrate_time",
            {
                "command": " ".join(["t2dsim", *cmd[3:-1], "TMP"]),
                "workers": args.workers or "default (CPUs, at most 2)",
                "wall_seconds": round(wall, 1),
                "wall_minutes": round(wall / 60, 2),
                "fits": len(jobs),
                "fits_identical_to_shipped": same,
                "central_and_ensemble_identical_to_shipped": new["central"] == old["central"]
                and new["ensemble"] == old["ensemble"],
                "target_minutes": 15,
            },
        )


if __name__ == "__main__":
    main()
