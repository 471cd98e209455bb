"""Issue 15 experiment (session 11): the CGM fortnight with each day's own weekly physiology instead of the visit
day's for all 14 days (monkeypatched, meal_days protocols only). Run with the capacity-law patch applied:
  PYTHONPATH=src python experiments/i15/cgm_fortnight_weekly_states.py N visit|weekly
"""
import re
import sys
from pathlib import Path

import numpy as np

import t2dsim.engine.glycation_days as gd
import t2dsim.engine.visits as visits
from t2dsim.engine.arm import meal_params_today
from t2dsim.physiology.markers import gmi_pct
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

MODE = sys.argv[2]
orig_update = gd.MealGlycation.update
def update(self, arm, dt):
    hist = arm.__dict__.setdefault("_hist", [])
    hist.append((arm.day, meal_params_today(arm)))
    del hist[:-4]
    return orig_update(self, arm, dt)
gd.MealGlycation.update = update

def cgm_fortnight(arm, seed, visit, days=14):
    n = arm.cohort.n
    ids = arm.cohort.ctx.patient_ids
    now = visits.meal_params_today(arm)
    hist = arm.__dict__.get("_hist", [])
    trace = np.empty((n, 1440 * days), dtype=np.float32)
    x0 = None
    for d in range(days):
        cal = arm.day - days + d
        params = now
        if MODE == "weekly":
            later = [p for (day, p) in hist if day > cal]  # the state at the end of the week containing day cal
            params = later[0] if later else now
        f = 0.8 + 0.4 * visits.keyed_uniform(seed, ids, "cgm:meal", visit * 100 + d)
        res = visits.cgm_day(arm, params, cal, f, x0)
        x0 = res.final_state
        trace[:, d * 1440 : (d + 1) * 1440] = res["cgm_glucose_mgdl"][:, 1:]
    noisy = visits.CGMSensor().measure(trace, seed * 1000 + visit, ids)
    m = visits.markers.cgm_metrics(noisy)
    return {"cgm_mean_glucose_mgdl": m["mean_mgdl"], "cgm_tir_percent": m["tir_70_180_pct"],
            "cgm_tbr_percent": m["tbr_70_pct"], "cgm_gmi_percent": m["gmi_pct"]}
visits.cgm_fortnight = cgm_fortnight

N = int(sys.argv[1])
text = re.sub(r"(?m)^n = \d+", f"n = {N}", Path("examples/basal-insulin-vs-glp1ra.toml").read_text())
r = run_trial(parse_protocol(text), chunk_size=64).true_results
m = r.groupby(["arm", "visit_month", "measure"])["value"].mean().unstack()
print(MODE, N, (m["hba1c_percent"] - gmi_pct(m["cgm_mean_glucose_mgdl"])).round(4).to_dict())
