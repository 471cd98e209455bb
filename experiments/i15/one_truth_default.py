"""Issue 15: cost and level shift of meal-day glycation on the default trial (examples/stem-cells-vs-standard-care),
both settings, n per arm from argv (default 100). Arm-mean HbA1c by visit, runtime, and the ANCOVA HbA1c effects at
12 months vs placebo (true values).
Run: PYTHONPATH=src nice -n 10 /work/main/.venv/bin/python experiments/i15/one_truth_default.py 100
"""

import re
import sys
import time
from pathlib import Path

from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial
from t2dsim.trial.statistics import analyse_endpoints

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
text = re.sub(r"(?m)^n = \d+", f"n = {N}", Path("examples/stem-cells-vs-standard-care.toml").read_text())
for mode in ("fasting_line", "meal_days"):
    t = text.replace("\nduration_months", f'\nglycation = "{mode}"\nduration_months', 1)
    t0 = time.perf_counter()
    r = run_trial(parse_protocol(t), chunk_size=512).true_results
    dt = time.perf_counter() - t0
    a1c = r[r.measure == "hba1c_percent"].groupby(["arm", "visit_month"])["value"].mean().unstack()
    eff = analyse_endpoints(r, [("hba1c_percent", 12), ("insulin_u_per_day", 12)], "placebo")
    print(f"== glycation = {mode}: {dt:.1f} s for {N} per arm (3 arms)")
    print(a1c.round(2).to_string())
    print(eff[["arm", "measure", "estimate", "ci_low", "ci_high"]].round(2).to_string())
