"""Likelihood profile of Hu 2016 (WJ-MSC vs saline, insulin difference at 104 weeks) over MSC half-life and emax.

The other parameters are held at the MAP of the cold fold that left Hu 2016 out (the parameters the other trials
support); for each (half-life, emax) the Hu 2016 case is run and the prediction, its z = (pred − observed)/SE and
the other trials' support for that point are printed. Support: the fold's Laplace posterior, marginal over the two
coordinates, as a Mahalanobis distance d² (d² ≤ 5.99: inside its 95 % region). The persistent MSC component
(msc.persistent_fraction) is not in the model (docs/evidence_synthesis.md §5), so it has no axis here.

Usage: PYTHONPATH=src python scripts/hu2016_profile.py [results.json | fit.json --seed S]  (prints a Markdown table);
a fit.json is one job file of ``calibrate``'s checkpoint folder (``OUT/jobs/t2d-*.json``), used as the fit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from t2dsim.calibration import default_results_path
from t2dsim.calibration.cases import case_plan
from t2dsim.calibration.evidence import t2d_targets
from t2dsim.calibration.fit import CaseEvaluator, theta_names

HALF_LIVES = (40.0, 180.0, 365.0, 730.0, 1460.0)
EMAX = (0.29, 0.785, 1.77)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default_results_path()
    res = json.loads(path.read_text())
    if "loto" in res:
        fold = res["loto"]["hu2016"]
    else:  # one fit of the checkpoint folder
        fold, res = res, {"seed": int(sys.argv[3]) if len(sys.argv) > 3 else 0}
        print(f"fit: {path.name} (held out: {fold.get('held_out')})")
    names = theta_names()
    ih, ie = names.index("msc.half_life_days"), names.index("msc.emax_si")
    x0 = np.asarray(fold["x"], dtype=float)
    cov = np.asarray(fold["cov_all"], dtype=float)[np.ix_([ih, ie], [ih, ie])]
    prec = np.linalg.pinv(cov)
    t = next(t for t in t2d_targets() if t.case == "hu2016")
    ev = CaseEvaluator({"hu2016": case_plan("hu2016", int(res["seed"]))}, [t], soft=False)
    ed50 = np.exp(x0[names.index("msc.ed50_cells_per_kg")])
    print(
        f"Hu 2016 observed {t.observed:.1f} U/day (95 % CI {t.ci_low:.1f} to {t.ci_high:.1f}); fold MAP half-life "
        f"{np.exp(x0[ih]):.0f} d, emax {np.exp(x0[ie]):.3f}, ED50 {ed50:.3g}/kg"
    )
    print("\n| half-life (d) | emax_si | predicted (U/day) | z | other trials' support d² |\n|---|---|---|---|---|")
    for hl in HALF_LIVES:
        for em in EMAX:
            x = x0.copy()
            x[ih], x[ie] = np.log(hl), np.log(em)
            p = float(ev.predictions(x)[0])
            dv = np.array([x[ih] - x0[ih], x[ie] - x0[ie]])
            print(f"| {hl:.0f} | {em:.2f} | {p:.1f} | {(p - t.observed) / t.se:.1f} | {float(dv @ prec @ dv):.1f} |")


if __name__ == "__main__":
    main()
