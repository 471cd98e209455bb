"""Cold start: Numba compile time of the meal and progression kernels with an empty cache, and the number
of compiled variants (signatures) each kernel ends up with after the call patterns the package uses
(scalar or per-patient age/BMI, one or many patients).

Each measurement runs in a fresh interpreter with ``NUMBA_CACHE_DIR`` set to a new empty directory, so
nothing warmed at install time is counted. With ``--baseline REV`` the same measurement runs, in the same
invocation, on the ``src/`` tree of git revision REV (exported with ``git archive`` to a temporary
directory), giving a side-by-side before/after. ``--trial`` also times the default trial
(``t2dsim trial examples/stem-cells-vs-standard-care.toml``) cold (empty cache) and warm (same cache, second
run) for each tree. Writes benchmarks/results/cold_start.json.

Run: PYTHONPATH=src .venv/bin/python benchmarks/cold_start.py --baseline bc71009 [--trial]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Child program: first calls (compile + run) and second calls (run only) of every kernel entry point.
CHILD = r"""
import json, time
t0 = time.perf_counter()
import numba
import numpy as np
from t2dsim.physiology import meal, progression
from t2dsim.simulate import three_meal_day
out = {"import_s": time.perf_counter() - t0}

p = meal.dallaman_2007("t2d", n=2)
t0 = time.perf_counter(); three_meal_day(p); first = time.perf_counter() - t0
t0 = time.perf_counter(); three_meal_day(p); second = time.perf_counter() - t0
out["meal_first_call_s"] = first
out["meal_compile_s"] = first - second

def prog_calls():
    pr = progression
    for n, age, bmi in ((3, 50.0, 25.0), (3, np.full(3, 50.0), np.full(3, 28.0)),
                        (3, 50.0, np.full(3, 28.0)), (3, np.full(3, 50.0), 25.0), (1, 50.0, 25.0),
                        (1, np.array([40.0]), np.array([30.0]))):
        pr.simulate_progression(pr.t2dsim_params(n), pr.t2dsim_initial_state(n), 400, age_years=age, bmi_kg_m2=bmi)
    pr.simulate_progression(pr.t2dsim_params(3), pr.t2dsim_initial_state(3), 40, bmi_kg_m2=np.full((3, 40), 27.0),
                            effects=pr.Effects(exog_insulin_uuml=np.full(3, 5.0)), record_days="end")

t0 = time.perf_counter(); prog_calls(); first = time.perf_counter() - t0
t0 = time.perf_counter(); prog_calls(); second = time.perf_counter() - t0
out["progression_first_calls_s"] = first
out["progression_compile_s"] = first - second

def variants(mod):
    return {k: len(v.signatures) for k, v in vars(mod).items()
            if isinstance(v, numba.core.registry.CPUDispatcher) and v.signatures}
out["compiled_variants"] = {"meal": variants(meal), "progression": variants(progression)}
out["total_compile_s"] = out["meal_compile_s"] + out["progression_compile_s"]
print("RESULT" + json.dumps(out))
"""


def export_tree(rev: str, dest: Path) -> Path:
    """Export ``src/`` and ``examples/`` of git revision ``rev`` into ``dest``; returns dest/src."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src", "examples"], capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(data.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def measure(src: Path, trial: bool) -> dict:
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": cache}
        r = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
        res = json.loads(next(ln for ln in r.stdout.splitlines() if ln.startswith("RESULT"))[6:])
        if trial:
            protocol = src.parent / "examples" / "stem-cells-vs-standard-care.toml"
            if not protocol.exists():
                protocol = ROOT / "examples" / "stem-cells-vs-standard-care.toml"
            with tempfile.TemporaryDirectory() as cache2:
                env2 = {**env, "NUMBA_CACHE_DIR": cache2}
                cmd = [sys.executable, "-m", "t2dsim.cli", "trial", str(protocol), "--out"]
                for label in ("trial_cold_s", "trial_warm_s"):
                    t0 = time.perf_counter()
                    subprocess.run([*cmd, str(Path(out) / label)], env=env2, capture_output=True, check=True)
                    res[label] = time.perf_counter() - t0
            res["trial_cold_over_warm"] = res["trial_cold_s"] / res["trial_warm_s"]
        return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baseline", help="git revision to compare against (its src/ is exported)")
    ap.add_argument("--trial", action="store_true", help="also time the default trial cold and warm")
    args = ap.parse_args()
    payload: dict = {"unit": "seconds (wall clock)", "targets": {"total_compile_s": 10.0, "trial_cold_over_warm": 2.0}}
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            payload["baseline"] = {"rev": args.baseline, **measure(export_tree(args.baseline, Path(tmp)), args.trial)}
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    payload["current"] = {"rev": rev.stdout.strip() + "+worktree", **measure(ROOT / "src", args.trial)}
    payload["notes"] = (
        "compile_s = first call minus second call in a fresh interpreter with an empty NUMBA_CACHE_DIR; "
        "progression calls cover scalar/array age and BMI, n = 1 and n = 3, daily BMI and exogenous insulin. "
        "Machine shared with other jobs: wall-clock figures vary by ~10 %."
    )
    write_result("cold_start", payload)


if __name__ == "__main__":
    main()
