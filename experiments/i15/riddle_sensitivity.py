"""Issue 15 (third session): which meal-model term carries the Riddle cohort's excess. The cohort's baseline
(metformin + SU) and week-24 glargine meal days, with one group of coupling outputs changed at a time: secretion
gains K, beta_Y at the Dalla Man T2D anchor's values; insulin action (Vmx, kp3, Km0, p2u) at the anchor's (this
also moves the start state off steady state); absorption rate kabs x0.5; bioavailability f x0.6; EGPb without
metformin's hgp_mult. 7-point columns: 07:00, 09:00, 12:00, 14:00, 19:00, 21:00, 03:00 (meals 07:00/12:00/19:00).

Run: cd /work/wt_glucose && PYTHONPATH=src:tests nice -n 10 /work/main/.venv/bin/python \
     experiments/i15/riddle_sensitivity.py
"""

from __future__ import annotations

import numpy as np
from test_therapies_insulin import RIDDLE_BACKGROUND, _riddle_cohort, _trial_insulin

from t2dsim.engine import ArmState
from t2dsim.engine.arm import meal_params_today
from t2dsim.engine.meal_days import run_with_meal_days
from t2dsim.physiology.coupling import anchors
from t2dsim.simulate import THREE_MEALS, meal_inputs, simulate

BASE = meal_inputs(1440, list(THREE_MEALS))
A = anchors().t2d


def run(p, label: str, fpg: float) -> None:
    r = simulate(p, np.broadcast_to(BASE, (p.n, BASE.size)).copy(), None)
    g = r["plasma_glucose_mgdl"][:, 1:]
    pts = " ".join(f"{g[:, m].mean():5.0f}" for m in (420, 540, 719, 840, 1139, 1260, 180))
    print(f"  {label:30s} mean {g.mean():6.1f} (mean - FPG {g.mean() - fpg:+5.1f})  7-point {pts}")


def variants(arm: ArmState, tag: str) -> None:
    p = meal_params_today(arm)
    fpg = float(np.mean(arm.last["glucose_mgdl"]))
    print(f"{tag}: FPG {fpg:.1f}, K / K(T2D anchor) {np.mean(p['K']) / A['K']:.2f}")
    full = np.ones(p.n)
    run(p, "as shipped", fpg)
    run(p.replace(K=full * A["K"], beta_Y=full * A["beta_Y"]), "gains at T2D anchor", fpg)
    run(p.replace(**{k: full * A[k] for k in ("Km0", "Vmx", "kp3", "p2u")}), "insulin action at anchor", fpg)
    run(p.replace(kabs=p["kabs"] * 0.5), "kabs x0.5", fpg)
    run(p.replace(f=p["f"] * 0.6), "f x0.6", fpg)
    run(p.replace(EGPb=full * A["EGPb"]), "EGPb at anchor (no hgp_mult)", fpg)


def main() -> None:
    c = _riddle_cohort()
    ins = _trial_insulin()
    arm = ArmState(c, [*(f() for f in RIDDLE_BACKGROUND), ins])
    variants(arm, "baseline")
    run_with_meal_days(arm, 24, seed=3)
    variants(arm, "week 24")


if __name__ == "__main__":
    main()
