"""Issue 15, question 3: levels of the example trial (examples/basal-insulin-vs-glp1ra.toml) per arm and
visit, from the model's true values (no assay error, no dropout): progression HbA1c, FPG, CGM mean, GMI of
that CGM, and the HbA1c the ADAG line assigns to the CGM mean (the 'one glucose truth' gap).

Public API only: load the protocol text, optionally change visit months / arm sizes in the TOML, run_trial.

Run:  cd /work/wt15 && PYTHONPATH=src nice -n 10 /work/main/.venv/bin/python experiments/i15/example_levels.py \
          [--visits 0,1,2,3,6,12] [--n 150]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from t2dsim.physiology import glycation
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", default="0,3,6,12")
    ap.add_argument("--n", type=int, default=150, help="patients per arm")
    ap.add_argument("--out", default=str(ROOT / "experiments/i15/results/example_levels.csv"))
    a = ap.parse_args()
    text = (ROOT / "examples/basal-insulin-vs-glp1ra.toml").read_text()
    text = re.sub(r"visit_months = \[[^\]]*\]", f"visit_months = [{a.visits}]", text)
    text = re.sub(r"\nn = 150", f"\nn = {a.n}", text)
    text = text.replace('"cgm_tbr_percent",\n]', '"cgm_tbr_percent", "cgm_gmi_percent",\n]')
    proto = parse_protocol(text, "example")
    t0 = time.perf_counter()
    run = run_trial(proto)
    dt = time.perf_counter() - t0
    tr = run.true_results
    wide = tr.pivot_table(index=["arm", "patient_id", "visit_month"], columns="measure", values="value").reset_index()
    wide["hba1c_from_cgm_adag"] = glycation.hba1c_from_mean_glucose(wide["cgm_mean_glucose_mgdl"])
    wide["mean_from_fpg_wei"] = glycation.mean_glucose_from_fpg(wide["fpg_mgdl"])
    wide.to_csv(a.out, index=False)
    cols = ["hba1c_percent", "fpg_mgdl", "mean_from_fpg_wei", "cgm_mean_glucose_mgdl", "cgm_gmi_percent",
            "hba1c_from_cgm_adag", "cgm_tir_percent", "cgm_tbr_percent", "insulin_u_per_day"]
    g = wide.groupby(["arm", "visit_month"])[cols].mean().round(2)
    print(g.to_string())
    print(f"patients per arm {a.n}; simulation {dt:.0f} s; timings {run.timings}")


if __name__ == "__main__":
    main()
