# ruff: noqa: E501
"""Issue 5 diagnostics: each BM-MNC trial's endpoints as a function of bmmnc.emax_sec (other parameters at
the shipped full fit), plus baseline descriptors of each virtual cohort.
Usage: PYTHONPATH=src python experiments/i5/diag.py [VARIANT]"""

from __future__ import annotations

import json
import sys

import numpy as np

import t2dsim.calibration.trials as tr
from t2dsim.calibration import default_results_path
from t2dsim.calibration.fit import params_from_theta, theta_names

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from loto import BM, apply_variant  # noqa: E402

apply_variant(sys.argv[1] if len(sys.argv) > 1 else "base")
x = np.array(json.loads(default_results_path().read_text())["full"]["log_theta"])
k = theta_names().index("bmmnc.emax_sec")
pops = {c: tr.population_for(c, 40, 0) for c in BM}
for c in BM:
    p = pops[c]
    u = p.total_insulin_u_per_day()
    neutral = {kk: np.full(p.n, v) for kk, v in tr._NEUTRAL.items()}
    g0 = tr.unaided_glucose(p.params, p.state, p.age, p.bmi, neutral)
    gt = tr.glucose_for_a1c(p.params, p.state, p.age, p.bmi, neutral, tr.TITRATION_TARGET_A1C)
    endo = p.state.insulin_uuml
    print(
        f"{c}: HbA1c {np.median(p.state.hba1c_pct):.2f}  TDD {np.median(u):.0f} U/d ({np.median(u / p.ctx.body_weight_kg):.2f} U/kg)"
        f"  G {np.median(p.state.glucose_mgdl):.0f}  unaided G0 {np.median(g0):.0f}  goal G {np.median(gt):.0f}"
        f"  exog/(exog+endo) {np.median(p.exog0 / (p.exog0 + endo)):.2f}  BMI {np.median(p.bmi):.1f}"
    )
for e in (0.0, 0.5, 1.0, 1.8, 2.7):
    xx = x.copy()
    xx[k] = np.log(max(e, 1e-6))
    P = params_from_theta(xx)
    s = ", ".join(
        f"{c[:10]}:" + " ".join(f"{ep[:14]}={v.value():.2f}" for ep, v in tr.run_case(c, P, pops[c]).items())
        for c in BM
    )
    print(f"emax {e}: {s}")
