"""Power and size of the committed cold-LOTO acceptance rule (calibration.loto_rule) for a calibration results file.

Datasets are simulated from the fitted model: each T2D MSC / BM-MNC endpoint's true effect is drawn from the FULL
fit's predictive (posterior draws with a new trial's efficacy offset, bias terms of uncontrolled rows included) and
the published observation noise N(0, SE²) is added; each simulated dataset is scored against the fixed fold
predictives of the model and the no-effect comparator and judged by the rule. The folds are not refitted per
dataset (that would take one cold LOTO per dataset), so the power ignores the refit's own variability. The size is
the share of datasets simulated from the no-effect comparator in which the rule's part 1 rejects it.

``--replicate R1 R2 ...`` also reports the power the rule would have with the held-out evidence repeated R times
(R new trials like each of the seven, same predictives and observation noise): how much more evidence of this kind
the rule needs to reach its power target.

Usage: PYTHONPATH=src python scripts/loto_power.py [results.json] [--draws 30] [--sims 2000] [--replicate 2 3 4]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from t2dsim.calibration import _t2d_plans, default_results_path
from t2dsim.calibration.loto_rule import LOTO_RULE, rule_power
from t2dsim.calibration.scored_validation import scored_rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", nargs="?", default=None)
    ap.add_argument("--draws", type=int, default=30)
    ap.add_argument("--sims", type=int, default=2000)
    ap.add_argument("--replicate", type=int, nargs="*", default=[])
    a = ap.parse_args()
    path = Path(a.results) if a.results else default_results_path()
    res = json.loads(path.read_text())
    seed = int(res["seed"])
    t0 = time.perf_counter()
    plans = _t2d_plans(seed)
    folds = scored_rows(res, plans, None, a.draws, seed)
    truth = scored_rows(res, plans, None, a.draws, seed, full=True)
    # the rule's endpoints: T2D MSC / BM-MNC trials (the pooled checks are not in the rule; the full-fit table
    # has no pooled rows)
    f = folds[folds["cell_class"].isin(["msc", "bmmnc"]) & ~folds["role"].str.startswith("check (pooled)")]
    t = truth[truth["cell_class"].isin(["msc", "bmmnc"])]
    assert list(f["endpoint"]) == list(t["endpoint"])
    parts = rule_power(
        list(f["case_key"]), list(f["model_draws"]), list(f["none_draws"]), list(t["model_draws"]),
        list(f["obs_se"]), n_sim=a.sims, seed=seed,
    )
    print(f"results {path}; rule v{LOTO_RULE['version']}: {LOTO_RULE['test']}; {LOTO_RULE['coverage']}")
    print(
        f"power to reject no effect = {parts['better_than_no_effect']:.3f} (size {parts['size']:.3f}); coverage holds"
        f" in {parts['coverage']:.3f}; whole rule passes in {parts['rule']:.3f}; over {a.sims} simulated datasets"
        f" ({len(f)} endpoints of {f['case_key'].nunique()} trials,"
        f" {a.draws} posterior draws per case; target >= {LOTO_RULE['power_target']}); {time.perf_counter() - t0:.0f} s"
    )

    cols = [
        list(f["case_key"]), list(f["model_draws"]), list(f["none_draws"]), list(t["model_draws"]), list(f["obs_se"]),
    ]
    for r in a.replicate:
        trial = [f"{k}#{i}" for i in range(r) for k in cols[0]]
        rep = [trial] + [c * r for c in cols[1:]]
        p = rule_power(*rep, n_sim=a.sims, seed=seed)
        print(
            f"evidence x{r} ({len(trial)} endpoints of {len(set(trial))} trials): power to reject no effect"
            f" {p['better_than_no_effect']:.3f} (size {p['size']:.3f}); coverage {p['coverage']:.3f};"
            f" rule {p['rule']:.3f}"
        )


if __name__ == "__main__":
    main()
