# ruff: noqa: E501
"""Issue 5 experiments: LOTO of the four BM-MNC trials under model/protocol variants.

Usage: PYTHONPATH=src python experiments/i5/loto.py VARIANT [--all]
Each variant sets module-level switches in t2dsim.calibration.trials before populations are built.
Fits start from the shipped full-fit log θ (as calibrate() starts its LOTO fits from the full fit).
Writes experiments/i5/results/VARIANT.json and prints the inside counts and the key endpoints.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

import t2dsim.calibration.trials as tr
from t2dsim.calibration import default_results_path
from t2dsim.calibration.evidence import T2D_CASES, t2d_targets
from t2dsim.calibration.fit import fit_cases, params_from_theta, theta_names

BM = ("bhansali2014_rct", "bhansali2009", "bhansali2017", "wu2014")
MSC = ("skyler2015", "lian2022")


def _set(attr: str, value: object) -> None:
    """Set a switch of t2dsim.calibration.trials; refuse switches this checkout does not have (main keeps only
    TITRATION_RULE and BASAL_SHARE_OF_TDD; the others exist on branch i5, commit 4e743e1)."""
    if not hasattr(tr, attr):
        raise SystemExit(f"switch {attr} does not exist in this checkout: run this variant on branch i5 (4e743e1)")
    setattr(tr, attr, value)


def apply_variant(name: str) -> None:
    for part in name.split("+"):
        if part == "base":
            continue
        k, _, v = part.partition("=")
        if k == "basal":
            _set("BASAL_SHARE_OF_TDD", float(v))
        elif k == "goal":  # titration rule
            _set("TITRATION_RULE", v)
        elif k == "goal2009":
            _set("TITRATION_RULE_2009", v)
        elif k == "goaloff":  # sensitivity only (not a sourced rule): goal max(6.9, baseline HbA1c − d)
            d = float(v)
            _set("TITRATION_RULE", "a1c")
            orig = tr.simulate_arm

            def wrapped(pop, therapies, visits, mode="fixed", target_a1c=tr.TITRATION_TARGET_A1C, _o=orig, _d=d):
                if mode == "reduce_only":
                    target_a1c = np.maximum(tr.TITRATION_TARGET_A1C, pop.state.hba1c_pct - _d)
                return _o(pop, therapies, visits, mode, target_a1c)

            tr.simulate_arm = wrapped
        elif k == "wt":  # insulin-dose -> weight coupling, kg per (U/day) of total daily dose
            _set("INSULIN_WEIGHT_KG_PER_U", float(v))
        else:
            raise ValueError(part)


def main() -> None:
    name = sys.argv[1]
    cases = BM + (MSC if "--all" in sys.argv else ())
    apply_variant(name)
    t0 = time.perf_counter()
    shipped = json.loads(default_results_path().read_text())
    x0 = np.array(shipped["full"]["log_theta"])
    pops = {c: tr.population_for(c, 40, 0) for c in T2D_CASES}
    targets = t2d_targets()
    out = {"variant": name, "fits": {}, "rows": []}
    if "--full" in sys.argv:
        full = fit_cases(pops, targets, x0=x0)
        x0 = np.array(full["log_theta"])
        out["full"] = {"theta": dict(zip(theta_names(), np.exp(x0).tolist(), strict=True)), "cost": full["cost"]}
    for case in cases:
        f = fit_cases(pops, [t for t in targets if t.case != case], x0=x0)
        P = params_from_theta(f["log_theta"])
        st = tr.run_case(case, P, pops[case])
        ins = 0
        for t in [t for t in targets if t.case == case and t.scored]:
            v = st[t.endpoint].value()
            ok = bool(t.ci_low <= v <= t.ci_high)
            ins += ok
            out["rows"].append(
                dict(case=case, endpoint=t.endpoint, pred=v, obs=t.observed, lo=t.ci_low, hi=t.ci_high, inside=ok)
            )
        out["fits"][case] = {
            "theta": dict(zip(theta_names(), np.exp(f["log_theta"]).tolist(), strict=True)),
            "cost": f["cost"],
            "nfev": f["nfev"],
            "inside": ins,
        }
    out["seconds"] = time.perf_counter() - t0
    Path(__file__).parent.joinpath("results", f"{name}.json").write_text(json.dumps(out, indent=1))
    print(f"== {name}  ({out['seconds']:.0f} s)")
    for r in out["rows"]:
        print(
            f"{r['case']:18s} {r['endpoint']:30s} pred {r['pred']:8.2f}  obs {r['obs']:7.2f} ({r['lo']:.2f},{r['hi']:.2f}) {'in' if r['inside'] else 'OUT'}"
        )
    for c, f in out["fits"].items():
        th = f["theta"]
        n = sum(1 for r in out["rows"] if r["case"] == c)
        print(
            f"{c:18s} inside {f['inside']}/{n}  emax_sec {th['bmmnc.emax_sec']:.2f} si_max {th['placebo.si_max']:.2f} "
            f"resp_sd {th['bmmnc.response_sd']:.2f} cost {f['cost']:.1f}"
        )


if __name__ == "__main__":
    main()
