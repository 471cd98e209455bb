"""The calibration refuses instead of falling back silently (issue 16, first part): a non-finite prediction is
an error, not a zero residual; a missing results file, a missing leave-one-trial-out fold and a population
with too few eligible patients (a case protocol's screening) each raise an error that names the fix."""

from __future__ import annotations

import json

import pytest

from t2dsim.calibration import ResultsMismatch, default_results_path, validate
from t2dsim.calibration import fit as fit_module
from t2dsim.calibration.evidence import t2d_targets
from t2dsim.therapies.stemcells import params


def test_nan_prediction_is_refused_not_scored_as_a_perfect_fit(monkeypatch):
    class NaNStat:
        def value(self, rng=None):
            return float("nan")

    targets = [t for t in t2d_targets() if t.scored][:2]
    stats = {t.endpoint: NaNStat() for t in targets}
    monkeypatch.setattr(fit_module, "run_case", lambda case, P, pop, soft=False: stats)
    mu, _ = fit_module.prior_all()
    ev = fit_module.CaseEvaluator({t.case: None for t in targets}, targets)
    with pytest.raises(ValueError, match="non-finite prediction.*narrow the prior bounds"):
        ev.residuals(mu)


def test_missing_results_file_is_an_error_naming_the_fix(monkeypatch):
    params._results.cache_clear()
    monkeypatch.setattr(params, "_results", lambda: None)
    with pytest.raises(FileNotFoundError, match="t2dsim calibrate"):
        params.calibrated()
    with pytest.raises(FileNotFoundError, match="t2dsim calibrate"):
        params.calibrated_ensemble()


def test_missing_loto_fold_is_refused(tmp_path):
    res = json.loads(default_results_path().read_text())
    res["loto"].pop("wu2014")
    f = tmp_path / "no_wu_fold.json"
    f.write_text(json.dumps(res))
    with pytest.raises(ResultsMismatch, match="no leave-one-trial-out fold for 'wu2014'.*t2dsim calibrate"):
        validate(f, n_draws=2)


def test_too_few_eligible_patients_is_refused():
    # an impossible criterion in a case protocol: no candidate has a basal insulin dose of 2.5-3 U/kg/day
    from t2dsim.calibration.cases import case_protocol
    from t2dsim.trial.runner import plan_trial

    p = case_protocol("bhansali2017", n_per_arm=4)
    data = p.model_dump(mode="python")
    data["population"]["inclusion"]["insulin_u_per_kg_day"] = {"min": 2.5, "max": 3.0}
    data["population"]["max_screening_factor"] = 2
    with pytest.raises(ValueError, match=r"population.inclusion: only 0 of \d+ .*max_screening_factor"):
        plan_trial(type(p).model_validate(data))


def test_an_undefined_homa_b_drops_that_patient_and_any_other_nan_stays_nan():
    # HOMA1-%B = 20·FPI/(FPG − 3.5) (Matthews 1985) is undefined at FPG ≤ 3.5 mmol/L: such a patient has no value
    # (as in a lab report) and the arm's mean is over the others; a NaN of any other measure is a failure and
    # stays NaN, so the fit and validate raise on it (found: a posterior draw with msc.emax_si 3.17 in lian2022)
    import numpy as np
    import pandas as pd

    from t2dsim.calibration.endpoints import CaseEndpoints, case_stats

    rows = []
    for pid, (b0, b1, h0, h1) in enumerate([(30.0, 45.0, 8.0, 7.0), (30.0, np.nan, 8.0, np.nan)]):
        for month, hb, a1c in ((0.0, b0, h0), (1.0, b1, h1)):
            rows += [
                {"arm": "a", "patient_id": pid, "visit_month": month, "measure": m, "value": v}
                for m, v in (("homa_b_progression_percent", hb), ("hba1c_percent", a1c))
            ]
    spec = CaseEndpoints.model_validate(
        {
            "case": "t",
            "endpoints": [
                {"name": "hb", "kind": "mean", "measure": "homa_b_progression_percent", "value": "pct_change",
                 "arm": "a", "visit_month": 1.0, "n_trial": [2], "evidence": "x"},
                {"name": "a1c", "kind": "mean", "measure": "hba1c_percent", "value": "change",
                 "arm": "a", "visit_month": 1.0, "n_trial": [2], "evidence": "x"},
            ],
        }
    )  # fmt: skip
    stats = case_stats(pd.DataFrame(rows), spec)
    assert stats["hb"].value() == 50.0  # patient 0 only: 30 → 45
    assert np.isnan(stats["a1c"].value())
