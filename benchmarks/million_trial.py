"""A 10^6-patient, 12-month, two-arm trial through the CLI as a user runs it (issue 18, acceptance 1): wall time,
CPU time and peak resident memory of the `t2dsim trial` process (in-process backend: Numba on both cores, or
``--workers N``: a LocalCluster, whose worker processes are measured by the largest child's peak). The protocol is
benchmarks/dask_scaling.py's; OM2 complications off (``--no-complications``: the 10-year OM2 of 10^6 patients x 50
Monte Carlo rows is a separate cost). Writes benchmarks/results/million_trial.json.

Run: .venv/bin/python benchmarks/million_trial.py [--n-per-arm 500000] [--chunk-size 5000] [--workers 0]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402
from dask_scaling import PROTOCOL, cpu  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-arm", type=int, default=500_000)
    ap.add_argument("--chunk-size", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=0, help="0: in-process (default); N: a LocalCluster of N")
    args = ap.parse_args()
    if not 10 <= args.n_per_arm <= 500_000:
        ap.error(f"--n-per-arm {args.n_per_arm}: allowed range 10 to 500000")
    exe = Path(sys.executable).with_name("t2dsim")
    with tempfile.TemporaryDirectory() as tmp:
        proto = Path(tmp) / "million.toml"
        proto.write_text(PROTOCOL.format(n=args.n_per_arm))
        cmd = [str(exe), "trial", str(proto), "--out", str(Path(tmp) / "out"), "--chunk-size", str(args.chunk_size),
               "--no-complications"]  # fmt: skip
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        load0 = list(os.getloadavg())
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        text = proc.stdout.read() if proc.stdout else ""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited descendant, the largest's peak
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"t2dsim trial failed:\n{text[-3000:]}")
    m = re.search(r"run \S+, (\d+) patients, ([\d.]+) s", text)
    payload = {
        "patients": 2 * args.n_per_arm,
        "chunk_size": args.chunk_size,
        "backend": f"dask-local-{args.workers}" if args.workers else "in-process (Numba, 2 threads)",
        "command": " ".join(cmd[1:]).replace(tmp, "<tmp>"),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_gib_main_process": usage.ru_maxrss / 2**20,
        "peak_rss_gib_largest_child": children.ru_maxrss / 2**20,
        "patients_reported": int(m.group(1)) if m else None,
        "pipeline_s_reported": float(m.group(2)) if m else None,
        "load_average_before": load0,
        "load_average_after": list(os.getloadavg()),
        "cpu": cpu(),
        "targets": {"wall_s": 600, "peak_rss_gib": 4.0},
        "tail_of_output": text[-1500:].replace(tmp, "<tmp>"),
    }
    write_result("million_trial" if args.n_per_arm == 500_000 else f"million_trial_{2 * args.n_per_arm}", payload)


if __name__ == "__main__":
    main()
