"""Usual care (`standard_care` kind): baseline insulin continued from each patient's dose and titrated
(Riddle 2003 weekly steps while fasting glucose is above target); no insulin started for others."""

import numpy as np

from t2dsim.engine import ArmState, Cohort, advance
from t2dsim.physiology.coupling import dose_for_exogenous_insulin, insulin_scale
from t2dsim.population.presets import make_cohort
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.usual_care import UsualCareInsulin


def _arm(titrate: bool) -> tuple[ArmState, UsualCareInsulin, np.ndarray]:
    c = make_cohort("insulin-requiring", 8, seed=4)
    bw = np.full(8, 85.0)
    dose = dose_for_exogenous_insulin(np.asarray(c.effects.exog_insulin_uuml), bw, insulin_scale(c.params))
    dose[0] = 0.0  # one patient without insulin at baseline
    ctx = PatientContext(n=8, body_weight_kg=bw, age_years=c.age_years, female=np.zeros(8, bool),
                         covariates={"insulin_dose_u_per_day": dose})
    ins = UsualCareInsulin("glargine", 0.0, titrate=titrate, target_fpg_mgdl=100.0)
    return ArmState(Cohort(c.params, c.state, ctx, c.bmi_kg_m2, np.full(8, 172.0)), [ins]), ins, dose


def test_fixed_usual_care_keeps_the_baseline_steady():
    arm, ins, dose = _arm(titrate=False)
    g0 = arm.last["glucose_mgdl"].copy()
    advance(arm, 90)
    np.testing.assert_allclose(ins.dose_u, dose)
    # The preset placed patients at a steady state on their baseline insulin: FPG moves < 5 % in 3 months
    # for everyone but the patient whose insulin was withdrawn (glucose rises).
    assert np.all(np.abs(arm.last["glucose_mgdl"][1:] / g0[1:] - 1) < 0.05)
    assert arm.last["glucose_mgdl"][0] > g0[0] + 5


def test_titrated_usual_care_raises_doses_above_target_only_for_insulin_users():
    arm, ins, dose = _arm(titrate=True)
    advance(arm, 84)
    assert ins.dose_u[0] == 0.0 and ins.mask[0] == 0.0
    assert np.all(ins.dose_u[1:] >= dose[1:])
    assert np.any(ins.dose_u[1:] > dose[1:] + 10)  # 12 weeks of weekly steps of 2–8 IU
    assert np.all(np.isfinite(ins.dose_u))
