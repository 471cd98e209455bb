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
