"""Objective (minus log posterior, ½Σr² with the prior rows) of a T2D fit on the current model at given points.

Finds the local optimum of the shipped full fit of the first session-12 refit: evaluates the full fit's and the fold
without Lian 2022's objectives at the version-4 Lian fold's optimum (a lasting MSC effect) and, with ``--durability
SHIFT``, optimises one start from the prior median with the durability coordinates at +SHIFT prior SD.

    PYTHONPATH=src python experiments/i16_modes/objective_at_points.py [--fold lian2022] [--durability 1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from t2dsim.calibration.cases import case_plan
from t2dsim.calibration.cold_loto import t2d_fit_cases
from t2dsim.calibration.evidence import t2d_targets
from t2dsim.calibration.fit import DURABILITY, CaseEvaluator, bias_names, prior_all, theta_names
from t2dsim.calibration.map_fit import MAX_NFEV, _one

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fold", default=None, help="held-out case (default: the full fit)")
    ap.add_argument("--durability", type=float, default=None, help="optimise from the durability start +SHIFT SD")
    a = ap.parse_args()
    fit_on = t2d_fit_cases(a.fold)
    plans = {c: case_plan(c, 0) for c in fit_on}
    use = [t for t in t2d_targets() if t.case in fit_on and t.scored]
    ev = CaseEvaluator(plans, use)
    mu, sd = prior_all()
    names = theta_names() + bias_names()

    def cost(x: np.ndarray) -> float:
        r = np.concatenate([ev.residuals(x), (x - mu) / sd])
        return 0.5 * float(r @ r)

    v4 = json.loads((HERE / "v4_lian_fold_optimum.json").read_text())
    print(f"fit {'without ' + a.fold if a.fold else 'all trials'}: objective at the v4 Lian-fold optimum "
          f"{cost(np.asarray(v4['x'])):.2f}")
    if a.durability is not None:
        z0 = np.array([a.durability if n in DURABILITY else 0.0 for n in names])
        t0 = time.perf_counter()
        r = _one(lambda z: ev.residuals(mu + sd * z), z0, np.full(mu.size, 3.0), MAX_NFEV, "probe", "durability")
        x = mu + sd * r.x
        shown = {n: round(float(v if n.startswith("bias") else np.exp(v)), 3) for n, v in zip(names, x, strict=True)}
        print(f"durability start +{a.durability} SD: objective {r.cost:.2f} ({r.nfev} evaluations, "
              f"{time.perf_counter() - t0:.0f} s) at {shown}")


if __name__ == "__main__":
    main()
