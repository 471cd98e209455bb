"""Issue 15: do a trial's month-0 (baseline) measures depend on the arm a patient is randomised to?

Runs every arm of a protocol on the SAME patients (the whole screened cohort, not each arm's share) and prints the
month-0 mean of each measure per arm. Baseline is measured before the first dose, so on identical patients every
arm must give identical month-0 values; a difference is the arm's treatment leaking into the baseline visit.

    PYTHONPATH=src python experiments/i15/baseline_visit_by_arm.py PROTOCOL.toml [N]
"""

import sys

import pandas as pd

from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.runner import plan_trial, simulate_chunk

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
protocol = load_protocol(path)
protocol = protocol.model_copy(update={"arms": [a.model_copy(update={"n": n}) for a in protocol.arms]})
plan = plan_trial(protocol)
cohort = plan.cohort  # every screened patient (all arms' shares), run through each arm
out = {}
for arm in protocol.arms:
    r = simulate_chunk(protocol, plan.seed, arm.name, cohort)
    out[arm.name] = r[r.visit_month == 0].groupby("measure")["value"].mean()
t = pd.DataFrame(out)
t["max_minus_min"] = t.max(axis=1) - t.min(axis=1)
print(f"{path}: month-0 means on the same {cohort.n} patients")
print(t.round(3).to_string())
