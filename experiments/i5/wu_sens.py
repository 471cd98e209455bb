# ruff: noqa: E501
"""Wu 2014 C-peptide AUC prediction at a LOTO fit (from results/VARIANT.json) as response_sd / emax vary.
Usage: PYTHONPATH=src python experiments/i5/wu_sens.py VARIANT"""

import json
import sys
from pathlib import Path

import numpy as np

import t2dsim.calibration.trials as tr
from t2dsim.calibration.fit import params_from_theta, theta_names

sys.path.insert(0, str(Path(__file__).parent))
from loto import apply_variant  # noqa: E402

v = sys.argv[1]
apply_variant(v)
th = json.loads(Path(__file__).parent.joinpath("results", f"{v}.json").read_text())["fits"]["wu2014"]["theta"]
names = theta_names()
pop = tr.population_for("wu2014", 40, 0)
for sd in (th["bmmnc.response_sd"], 0.8, 0.5):
    x = np.log([th[n] for n in names])
    x[names.index("bmmnc.response_sd")] = np.log(sd)
    st = tr.run_case("wu2014", params_from_theta(x), pop)["cpeptide_auc_pct_w52"]
    per = 100 * (st.x / st.y - 1)
    print(
        f"emax {th['bmmnc.emax_sec']:.2f} resp_sd {sd:.2f}: pct_of_means {st.value():.1f}  median per-patient {np.median(per):.1f}"
        f"  mean r-multiplier exp(sd^2/2)={np.exp(sd**2 / 2):.2f}"
    )
