"""Two t2dsim processes sharing the 2 cores: time of one warm evaluation of the seven T2D calibration cases (the
unit of work of `t2dsim calibrate`) alone and with a second identical process running at once, for Numba's OpenMP
threads spinning (OMP_WAIT_POLICY=ACTIVE, the OpenMP default) or sleeping (PASSIVE, t2dsim's default since
2026-12-06) between kernel calls, and for one Numba thread per process.

    python benchmarks/concurrent_processes.py

Writes benchmarks/results/concurrent_processes.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _common import write_result

ROOT = Path(__file__).resolve().parents[1]

WORKLOAD = """
import sys, time
import numba
from t2dsim.calibration import fit
from t2dsim.calibration.cases import CASES, case_plan, run_case
numba.set_num_threads(int(sys.argv[1]))
P = fit.params_from_theta(fit.prior_log()[0])
plans = {c: case_plan(c) for c in CASES}
for c in CASES:
    run_case(c, P, plans[c], soft=True)  # warm: compile/load and caches
t0 = time.perf_counter()
for c in CASES:
    run_case(c, P, plans[c], soft=True)
print(time.perf_counter() - t0)
"""


def _run(policy: str, threads: int, copies: int) -> list[float]:
    env = {**os.environ, "OMP_WAIT_POLICY": policy, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKLOAD, str(threads)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(copies)
    ]
    return [round(float(p.communicate()[0].strip().splitlines()[-1]), 3) for p in procs]


def main() -> None:
    rows = []
    for policy, threads in (("ACTIVE", 2), ("PASSIVE", 2), ("ACTIVE", 1)):
        for copies in (1, 2):
            seconds = _run(policy, threads, copies)
            rows.append({"omp_wait_policy": policy, "numba_threads": threads, "processes": copies, "seconds": seconds})
            print(rows[-1], flush=True)
    write_result("concurrent_processes", {"workload": "one warm evaluation of the seven T2D calibration cases",
                                          "runs": rows})  # fmt: skip


if __name__ == "__main__":
    main()
