"""UKPDS OM2 simulator throughput, side by side with a baseline commit.

Workloads (lifetime horizon, default UKPDS 90 risk-factor extension):

* ``trial_default``: the default trial's OM2 step (examples/stem-cells-vs-standard-care.toml:
  600 randomised patients aged 30-70, three standardised arms, 50 Monte Carlo replicates each),
  built by :func:`t2dsim.outcomes.trial_link.om2_cohorts` from a synthetic, seeded trial output;
  timed as the three ``simulate`` calls and as the whole ``complications_table`` (with its
  300-resample bootstrap);
* ``100x100`` and ``1000x100``: one synthetic cohort of n patients x 100 replicates.

The current tree runs in this process; the baseline (``--baseline REF``, default the commit
before the OM2 speed-up) is exported with ``git archive REF src`` to a temporary directory and
run in a subprocess with its own PYTHONPATH, so both run on the same machine at the same time.
A digest of each run's results (event years, life years, QALYs) shows whether old and new agree.
Writes benchmarks/results/ukpds_om2_throughput.json (with the CPU model).

With ``--e2e`` it also runs the default trial end to end (``t2dsim.pipeline.run_protocol_file``,
warm-up then best of 2) in both trees and records ``run.timings`` (``complications_s`` is the OM2 step).

Run: PYTHONPATH=src .venv/bin/python benchmarks/ukpds_om2_throughput.py [--baseline REF] [--e2e]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The commit the vectorisation of ukpds_om2.simulate started from (issue on speed).
DEFAULT_BASELINE = "4bb9dd8"
REPEATS = 3


def cohort(n: int, shift: float = 0.0):
    from t2dsim.outcomes.ukpds_om2 import OM2Inputs

    g = np.random.default_rng(1)
    i = np.arange(n)
    return OM2Inputs(
        age=g.uniform(45, 70, n),
        duration=g.uniform(0, 10, n),
        female=i % 2,
        hba1c=g.uniform(6.5, 9.5, n) - shift,
        sbp=g.uniform(120, 160, n),
        ldl=g.uniform(2, 4.5, n),
        hdl=g.uniform(0.9, 1.5, n),
        bmi=g.uniform(24, 36, n),
        egfr=g.uniform(40, 100, n),
        heart_rate=g.uniform(60, 90, n),
        wbc=g.uniform(5, 9, n),
        haemoglobin=g.uniform(12.5, 15.5, n),
    )


def default_trial_output(n_per_arm: int = 200, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded stand-in for the default trial's output: the columns om2_cohorts reads, with the
    default example's population (insulin-requiring, age 30-70, HbA1c 7-10.5 %) and three arms."""
    g = np.random.default_rng(seed)
    arms = ("placebo", "uc_msc", "sc_islets")
    n = n_per_arm * len(arms)
    ids = np.arange(1000, 1000 + n)
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "arm": np.array(arms)[np.arange(n) % len(arms)],
            "age_years": g.uniform(30, 70, n),
            "diabetes_duration_years": g.uniform(3, 25, n),
            "sex": np.where(g.uniform(size=n) < 0.45, "female", "male"),
            "bmi_kg_m2": g.uniform(22, 38, n),
        }
    )
    base = g.uniform(7.0, 10.5, n)
    effect = patients["arm"].map({"placebo": 0.0, "uc_msc": -0.6, "sc_islets": -1.2}).to_numpy()
    last = base + effect + g.normal(0, 0.4, n)
    results = pd.DataFrame(
        {
            "patient_id": np.concatenate([ids, ids]),
            "measure": "hba1c_percent",
            "visit_month": np.repeat([0, 12], n),
            "value": np.concatenate([base, last]),
        }
    )
    return results, patients


def digest(res) -> str:
    h = hashlib.sha256()
    for k in sorted(res.first_year):
        h.update(np.ascontiguousarray(res.first_year[k]).tobytes())
    for a in (res.life_years, res.life_years_disc, res.qalys, res.qalys_disc, res.alive_at_end, res.censor_year):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def best_of(fn, repeats: int = REPEATS):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def measure() -> dict:
    """All workloads on the t2dsim found on sys.path (the current tree or the baseline)."""
    from t2dsim.outcomes.trial_link import complications_table, om2_cohorts
    from t2dsim.outcomes.ukpds_om2 import simulate

    out: dict = {}
    results, patients = default_trial_output()
    seed = 20240601
    cohorts = om2_cohorts(results, patients, seed, 12.0, arm_order=["placebo", "uc_msc", "sc_islets"])
    simulate(cohorts["placebo"], None, n_mc=5, seed=seed)  # warm-up (imports, caches)

    def run_arms():
        return {a: simulate(c, None, n_mc=50, seed=seed) for a, c in cohorts.items()}

    sec, res = best_of(run_arms)
    py = sum(float(r.life_years.sum()) for r in res.values())
    out["trial_default_simulate_3arms"] = {
        "seconds": sec,
        "simulated_patient_years_per_s": py / sec,
        "rows": sum(r.life_years.size for r in res.values()),
        "digest": {a: digest(r) for a, r in res.items()},
    }
    sec, table = best_of(
        lambda: complications_table(
            results, patients, seed, 12.0, "placebo", n_mc=50, arm_order=["placebo", "uc_msc", "sc_islets"]
        )
    )
    out["trial_default_complications_table_s"] = sec
    out["trial_default_complications_table_digest"] = hashlib.sha256(table.to_csv().encode()).hexdigest()[:16]
    for n, n_mc in ((100, 100), (1000, 100)):
        c = cohort(n)
        sec, r = best_of(lambda c=c, n_mc=n_mc: simulate(c, None, n_mc=n_mc, seed=0))
        out[f"{n}x{n_mc}"] = {
            "seconds": sec,
            "simulated_patient_years_per_s": float(r.life_years.sum()) / sec,
            "cycles": r.n_years,
            "digest": digest(r),
        }
    return out


def measure_e2e() -> dict:
    """The default trial end to end (warm-up run, then best of 2): ``run.timings`` of the faster run."""
    from t2dsim.pipeline import run_protocol_file

    protocol = ROOT / "examples" / "stem-cells-vs-standard-care.toml"
    best: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        run_protocol_file(protocol, Path(tmp) / "warm")
        for i in range(2):
            t0 = time.perf_counter()
            out = run_protocol_file(protocol, Path(tmp) / f"run{i}")
            sec = time.perf_counter() - t0
            if not best or sec < best["seconds"]:
                best = {"seconds": sec, "timings": dict(out.timings)}
    return best


def run_baseline(ref: str, e2e: bool) -> dict:
    """Export ``src`` at ``ref`` and run :func:`measure` on it in a subprocess."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory(prefix="om2_baseline_") as tmp:
        with tarfile.open(fileobj=BytesIO(blob)) as tf:
            tf.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        proc = subprocess.run(
            [sys.executable, __file__, "--measure-only", *(["--e2e"] if e2e else [])],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="git ref to compare with ('' = none)")
    ap.add_argument("--e2e", action="store_true", help="also time the default trial end to end (~1 min each)")
    ap.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    measured = lambda: {**measure(), **({"trial_default_e2e": measure_e2e()} if args.e2e else {})}  # noqa: E731
    if args.measure_only:
        print(json.dumps(measured()))
        return
    current = measured()
    payload: dict = {
        "unit": f"seconds (best of {REPEATS}); simulated patient-years (alive) per second",
        "cpu_model": cpu_model(),
        "results": current,
    }
    if args.baseline:
        base = run_baseline(args.baseline, args.e2e)
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline], capture_output=True, text=True
        ).stdout.strip()
        payload["baseline"] = {"ref": rev, "results": base}

        def secs(d: dict, k: str) -> float:
            v = d[k]
            return v["seconds"] if isinstance(v, dict) else v

        keys = ["trial_default_simulate_3arms", "trial_default_complications_table_s", "100x100", "1000x100"]
        payload["speedup"] = {k: secs(base, k) / secs(current, k) for k in keys}
        if args.e2e:
            old, new = base["trial_default_e2e"], current["trial_default_e2e"]
            payload["speedup"]["trial_default_e2e_complications_s"] = (
                old["timings"]["complications_s"] / new["timings"]["complications_s"]
            )
            payload["speedup"]["trial_default_e2e_s"] = old["seconds"] / new["seconds"]
        payload["identical_to_baseline"] = {
            "trial_default_simulate_3arms": base["trial_default_simulate_3arms"]["digest"]
            == current["trial_default_simulate_3arms"]["digest"],
            "trial_default_complications_table": base["trial_default_complications_table_digest"]
            == current["trial_default_complications_table_digest"],
            "100x100": base["100x100"]["digest"] == current["100x100"]["digest"],
            "1000x100": base["1000x100"]["digest"] == current["1000x100"]["digest"],
        }
    payload["notes"] = (
        "lifetime horizon (to age 100), default UKPDS 90 risk-factor extension; baseline run in a "
        "subprocess from `git archive <ref> src`; shared 2-core machine (other jobs may run)."
    )
    write_result("ukpds_om2_throughput", payload)


if __name__ == "__main__":
    main()
