"""Treatment plan: per-patient stepwise intensification and combination effects."""

from __future__ import annotations

import numpy as np
import pytest
from therapy_trials import trial_cohort

from t2dsim.core.calendar import DAYS_PER_MONTH
from t2dsim.engine import ArmState, advance
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.drugs import Metformin, SGLT2Inhibitor, Sulfonylurea
from t2dsim.therapies.insulin import BasalInsulin
from t2dsim.therapies.plan import TreatmentPlan


def _ctx(n):
    return PatientContext(n=n, body_weight_kg=np.full(n, 85.0), age_years=np.full(n, 55.0), female=np.zeros(n, bool))


def test_step_added_only_after_months_above_target():
    ctx = _ctx(3)
    plan = TreatmentPlan([Metformin(2000.0), Sulfonylurea("glimepiride", 4.0)], hba1c_target_pct=7.0, months_above=3.0)
    plan.setup(ctx)
    a1c = np.array([8.0, 6.5, 8.0])
    for day in range(0, 91, 7):
        state = {"hba1c_pct": a1c if day < 28 else np.array([8.0, 6.5, 6.8]), "glucose_mgdl": np.full(3, 150.0)}
        plan.observe(ctx, day, state)
    # patient 0 above target for 91 days → SU added; patient 1 never above; patient 2 fell below on day 28
    np.testing.assert_array_equal(plan.stage, [1, 1, 1])
    plan.observe(ctx, 92, {"hba1c_pct": np.array([8.0, 6.5, 6.8]), "glucose_mgdl": np.full(3, 150.0)})
    assert 92 >= 3.0 * DAYS_PER_MONTH
    np.testing.assert_array_equal(plan.stage, [2, 1, 1])
    su = plan.steps[1]
    np.testing.assert_array_equal(su.mask, [1.0, 0.0, 0.0])
    sec = plan.effects(ctx, 92)["secretion_mult"]
    assert sec[0] > 1.0 and sec[1] == 1.0 and sec[2] == 1.0


def test_plan_effects_equal_the_same_drugs_given_directly():
    """With every step on from the start, a plan acts exactly like its drugs listed in the arm."""
    c = trial_cohort(40, 5, 8.0, 0.8, (7.0, 10.0)).cohort
    direct = ArmState(c, [Metformin(2000.0), SGLT2Inhibitor("empagliflozin", 10.0)])
    plan = ArmState(c, [TreatmentPlan([Metformin(2000.0), SGLT2Inhibitor("empagliflozin", 10.0)], n_initial=2)])
    a = advance(direct, 120, record_days=[120])
    b = advance(plan, 120, record_days=[120])
    np.testing.assert_allclose(a["hba1c_pct"], b["hba1c_pct"], rtol=1e-6)


def test_stepwise_plan_intensifies_uncontrolled_patients_over_years():
    """Metformin → SU → basal insulin, target 7 %, 3 months: over 6 years the share on ≥ 2 steps grows,
    the plan keeps mean HbA1c below metformin alone, and insulin is titrated only where it was added."""
    c = trial_cohort(80, 6, 7.6, 0.8, (6.5, 10.0)).cohort
    plan = TreatmentPlan(
        [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0), BasalInsulin("glargine", 10.0)],
        hba1c_target_pct=7.0, months_above=3.0,
    )  # fmt: skip
    arm = ArmState(c, [plan])
    days = [365, 1095, 2191]
    tr = advance(arm, 2191, record_days=days)
    stage = tr["plan_stage"]
    assert np.all(np.diff(stage, axis=1) >= 0)
    assert np.mean(stage[:, -1] >= 2) > np.mean(stage[:, 0] >= 2)
    ins = plan.steps[2]
    assert np.all(ins.dose_u[ins.mask == 0] == 10.0)
    assert np.all(tr["insulin_dose_u_per_day"][ins.mask == 0, -1] == 0.0)
    met = advance(ArmState(c, [Metformin(2000.0)]), 2191, record_days=[2191])
    assert float(np.mean(tr["hba1c_pct"][:, -1])) < float(np.mean(met["hba1c_pct"][:, -1]))


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="each therapy kind may appear once"):
        TreatmentPlan([Metformin(), Metformin(1000.0)])
    with pytest.raises(ValueError, match="months_above must lie in \\[0.5, 24\\]"):
        TreatmentPlan([Metformin()], months_above=0.0)
    with pytest.raises(ValueError, match="steps must list at least one therapy"):
        TreatmentPlan([])
