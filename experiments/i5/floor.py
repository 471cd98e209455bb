# ruff: noqa: E501
"""(c) Dose floor in the Bhansali 2014 RCT treated arm at the RCT-LOTO fit of a variant: share of patients whose
dose hit zero at week 52 and their HbA1c change vs the others.  Usage: PYTHONPATH=src python experiments/i5/floor.py VARIANT"""

import json
import sys
from pathlib import Path

import numpy as np

import t2dsim.calibration.trials as tr
from t2dsim.calibration.fit import params_from_theta, theta_names
from t2dsim.therapies.stemcells import BMMNCTherapy, PlaceboTrialEffect

sys.path.insert(0, str(Path(__file__).parent))
from loto import apply_variant  # noqa: E402

v = sys.argv[1]
apply_variant(v)
th = json.loads(Path(__file__).parent.joinpath("results", f"{v}.json").read_text())["fits"]["bhansali2014_rct"]["theta"]
P = params_from_theta(np.log([th[n] for n in theta_names()]))
pop = tr.population_for("bhansali2014_rct", 40, 0)
arm = tr.simulate_arm(
    pop,
    [
        PlaceboTrialEffect(params=P["placebo"]),
        BMMNCTherapy([1e9, 1e9], [0, 84], ["pancreatic_artery", "iv"], params=P["bmmnc"]),
    ],
    [364],
    "reduce_only",
)
d, a = arm.at("dose_rel", 364), arm.at("hba1c", 364) - arm.at("hba1c", 0)
z = d <= 1e-9
print(
    f"{v}: dose 0 at w52 in {z.mean():.2f}; HbA1c change: dose 0 {a[z].mean() if z.any() else np.nan:.2f}, "
    f"dose > 0 {a[~z].mean():.2f}, all {a.mean():.2f}; median dose_rel {np.median(d):.2f}"
)
