"""Issue 15, acceptance 1: arm-mean HbA1c vs the GMI of the arm-mean CGM glucose at every CGM visit of
examples/basal-insulin-vs-glp1ra.toml, with glycation from the fasting line (as shipped before) and from weekly
meal-model days (``glycation = "meal_days"``). True values (no assay error, no dropout). Also times the runs.
Run: PYTHONPATH=src nice -n 10 /work/main/.venv/bin/python experiments/i15/one_truth_example.py [n per arm] [protocol]
(a protocol without CGM measures, e.g. the default trial, gets the CGM measures added at its visits)
"""

import re
import sys
import time
from pathlib import Path

from t2dsim.physiology.markers import gmi_pct
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

N = int(sys.argv[1]) if len(sys.argv) > 1 else 150
PATH = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("examples/basal-insulin-vs-glp1ra.toml")
text = re.sub(r"(?m)^n = \d+", f"n = {N}", PATH.read_text())
text = re.sub(r'(?m)^glycation = "\w+"\n', "", text)
if "cgm_mean_glucose_mgdl" not in text:  # the default trial has no CGM visits: add the CGM measures for this check
    text = text.replace("measurements = [", 'measurements = [\n  "cgm_mean_glucose_mgdl", "cgm_tir_percent",', 1)
for mode in ("fasting_line", "meal_days"):
    t = text.replace("\nduration_months", f'\nglycation = "{mode}"\nduration_months', 1)
    t0 = time.perf_counter()
    r = run_trial(parse_protocol(t), chunk_size=512).true_results
    dt = time.perf_counter() - t0
    m = r.groupby(["arm", "visit_month", "measure"])["value"].mean().unstack()
    m["gmi_of_mean_cgm"] = gmi_pct(m["cgm_mean_glucose_mgdl"])
    m["hba1c_minus_gmi"] = m["hba1c_percent"] - m["gmi_of_mean_cgm"]
    cols = ["hba1c_percent", "gmi_of_mean_cgm", "hba1c_minus_gmi", "cgm_mean_glucose_mgdl", "fpg_mgdl"]
    cols += [c for c in ("insulin_u_per_day", "cgm_tir_percent") if c in m]
    share = r[r.measure == "hba1c_percent"].groupby(["arm", "visit_month"])["value"].apply(lambda v: (v < 7).mean())
    m["share_lt7"] = share
    print(f"== glycation = {mode}: {dt:.1f} s for {N} per arm")
    print(m[cols + ["share_lt7"]].round(2).to_string())
