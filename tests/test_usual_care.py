"""Usual care (`standard_care` kind): baseline insulin continued from each patient's dose and titrated
(Riddle 2003 weekly steps while fasting glucose is above target); no insulin started for others."""

import numpy as np

from t2dsim.engine import ArmState, Cohort, advance
from t2dsim.physiology.coupling import dose_for_exogenous_insulin, insulin_scale
from t2dsim.population.presets import make_cohort
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.usual_care import UsualCareInsulin


def _arm(
    titrate: bool, target_fpg_mgdl: float = 100.0, extra: tuple = (), first_without_insulin: bool = True
) -> tuple[ArmState, UsualCareInsulin, np.ndarray]:
    """8 insulin-requiring patients (85 kg) on usual-care glargine at their baseline dose (U/day); optionally the
    first patient without insulin at baseline and extra therapies in the arm."""
    c = make_cohort("insulin-requiring", 8, seed=4)
    bw = np.full(8, 85.0)
    dose = dose_for_exogenous_insulin(np.asarray(c.effects.exog_insulin_uuml), bw, insulin_scale(c.params))
    if first_without_insulin:
        dose[0] = 0.0  # one patient without insulin at baseline
    ctx = PatientContext(
        n=8,
        body_weight_kg=bw,
        age_years=c.age_years,
        female=np.zeros(8, bool),
        covariates={"insulin_dose_u_per_day": dose},
    )
    ins = UsualCareInsulin("glargine", 0.0, titrate=titrate, target_fpg_mgdl=target_fpg_mgdl)
    cohort = Cohort(c.params, c.state, ctx, c.bmi_kg_m2, np.full(8, 172.0))
    return ArmState(cohort, [ins, *extra]), ins, dose


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
    g0 = arm.last["glucose_mgdl"].copy()
    advance(arm, 84)
    assert ins.dose_u[0] == 0.0 and ins.mask[0] == 0.0
    high = g0[1:] > 130.0  # well above the 100 mg/dL target at baseline: titrated up
    assert np.all(ins.dose_u[1:][high] > dose[1:][high] + 10)  # 12 weeks of weekly steps of 2–8 IU
    assert np.mean(arm.last["glucose_mgdl"][1:][high]) < np.mean(g0[1:][high]) - 20
    assert np.all(np.isfinite(ins.dose_u))


def test_doses_come_down_when_fasting_glucose_is_low():
    """A strong insulin-sensitising effect lets endogenous secretion carry more of the load (FPG falls below
    the 110 mg/dL taper line of a 130 mg/dL target): doses are cut 10 % a week (ADA) until glucose is back
    in the band."""
    from t2dsim.therapies.base import Therapy

    class Sensitiser(Therapy):
        kind = "test_sensitiser"

        def effects(self, ctx, day):
            return {"si_mult": np.full(ctx.n, 4.0)}

    # target 130 mg/dL: tapers below 110 mg/dL
    arm, ins, dose = _arm(True, target_fpg_mgdl=130.0, extra=(Sensitiser(),), first_without_insulin=False)
    advance(arm, 365)
    assert np.mean(ins.dose_u) < 0.5 * np.mean(dose)
    # Doses settle where fasting glucose sits inside the band (taper line 110, target 130 mg/dL).
    assert np.all((arm.last["glucose_mgdl"] > 90) & (arm.last["glucose_mgdl"] < 135))
    assert np.all((ins.dose_u == 0) | (ins.dose_u >= 2.0))
