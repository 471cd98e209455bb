"""Insulin: Riddle 2003 titration rules, absorption profiles, treat-to-target replication, and the
direction of hypoglycaemia between basal and basal-bolus (issue 4, acceptance 2)."""

from __future__ import annotations

import numpy as np
import pytest
from therapy_trials import on_background, trial_cohort

from t2dsim.engine import ArmState
from t2dsim.physiology.coupling import basal_insulin_u_per_day_to_pmol_kg_min
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.drugs import Metformin, Sulfonylurea
from t2dsim.therapies.insulin import BasalBolus, BasalInsulin, riddle_weekly_increase, run_with_meal_days


def _ctx(n=4, seed=0):
    return PatientContext(
        n=n, body_weight_kg=np.full(n, 90.0), age_years=np.full(n, 55.0), female=np.zeros(n, bool), seed=seed
    )


def test_riddle_table1_bands():
    """Riddle et al. Diabetes Care 26:3080 (2003) Table 1 (read via the journal table page): weekly
    increase by mean FPG of the preceding 2 days: ≥180 +8, 140–180 +6, 120–140 +4, 100–120 +2, ≤100 0."""
    g = np.array([250.0, 180.0, 179.9, 140.0, 139.9, 120.0, 119.9, 100.1, 100.0, 80.0])
    np.testing.assert_array_equal(riddle_weekly_increase(g), [8, 8, 6, 6, 4, 4, 2, 2, 0, 0])


def test_titration_holds_on_low_glucose_and_reduces_below_56():
    ctx = _ctx(3)
    ins = BasalInsulin("glargine", 20.0)
    ins.setup(ctx)
    ins.record_glucose(np.array([120.0, 65.0, 50.0]))  # minima of the week: none, <72, <56
    ins.observe(ctx, 7, {"glucose_mgdl": np.array([200.0, 200.0, 200.0])})
    np.testing.assert_array_equal(ins.dose_u, [28.0, 20.0, 18.0])
    # only weekly: a second call on day 8 changes nothing
    ins.observe(ctx, 8, {"glucose_mgdl": np.array([200.0, 200.0, 200.0])})
    np.testing.assert_array_equal(ins.dose_u, [28.0, 20.0, 18.0])


def test_three_day_algorithm_adds_2u_every_3_days_above_target():
    ctx = _ctx(2)
    ins = BasalInsulin("glargine", 10.0, algorithm="3-day")
    ins.setup(ctx)
    for day in (3, 6, 9):
        ins.observe(ctx, day, {"glucose_mgdl": np.array([160.0, 80.0])})
    np.testing.assert_array_equal(ins.dose_u, [16.0, 10.0])


@pytest.mark.parametrize("insulin", ["glargine", "nph"])
def test_absorption_profile_mean_and_shape(insulin):
    """Profile integrates to the daily dose; NPH peaks 4.5 h after a 22:00 injection (Lepore et al.
    Diabetes 49:2142, 2000: peak 4.5 ± 0.5 h); glargine is flat (max/min < 2.5, no peak per Lepore)."""
    ctx = _ctx(1)
    ins = BasalInsulin(insulin, 40.0)
    ins.setup(ctx)
    p = ins.profile_u_per_min()[0]
    assert p.sum() == pytest.approx(40.0, rel=1e-9)
    # mean rate equals the meal model's steady-state basal infusion u2ss
    u2ss = basal_insulin_u_per_day_to_pmol_kg_min(40.0, 90.0)
    assert p.mean() * 6000.0 / 90.0 == pytest.approx(float(u2ss), rel=1e-9)
    if insulin == "nph":
        peak_h = ((np.argmax(p) - 22 * 60) % 1440) / 60.0
        assert 4.0 <= peak_h <= 5.0
    else:
        assert p.max() / p.min() < 2.5


def _riddle_cohort():
    # Riddle 2003: overweight, HbA1c 7.5-10 % on one or two oral agents (abstract). Untreated HbA1c
    # drawn so that after one year on metformin + glimepiride the baseline is ~8 %.
    base = trial_cohort(120, 81, 11.5, 1.0, (9.0, 13.0)).cohort
    return on_background(base, [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0)], 365)


@pytest.mark.xfail(
    strict=True,
    reason="known failure of the coupled models, not of the titration rules: after 24 weeks fasting glucose is "
    "98.6 mg/dL (published 117: every virtual patient reaches the ≤ 100 target) and the progression-model "
    "HbA1c 6.35 % (published 6.96 %; with the insulin mean fraction φ = 0.6 calibrated on this trial's "
    "endpoint), so all patients are ≤ 7 % (published ~60 %); the meal-day mean glucose gives ~8.9 %. Final "
    "dose 56.6 IU (47 ± 15 passes). The model titrates too well (no titration inertia, hypoglycaemia too rare "
    "to hold doses); see docs/standard_care.md.",
)
def test_treat_to_target_riddle_2003_replication():
    """Riddle et al. Diabetes Care 26:3080 (2003) abstract (read): 24 weeks, bedtime glargine from 10 IU,
    Table 1 titration, endpoint FPG 117 mg/dL, HbA1c 6.96 %, ~60 % reached HbA1c ≤ 7 %. Tolerances:
    share ±15 points; final dose 47 IU [U: from memory in the reference file, could not be verified]
    ±15 IU."""
    c = _riddle_cohort()
    ins = BasalInsulin("glargine", 10.0)
    arm = ArmState(c, [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0), ins])
    r = run_with_meal_days(arm, 24, seed=3)
    share_prog = float(np.mean(arm.last["hba1c_pct"] <= 7.0))
    share_meal = float(np.mean(r.hba1c_meal_pct <= 7.0))
    assert abs(share_prog - 0.60) < 0.15 and abs(share_meal - 0.60) < 0.15, (share_prog, share_meal)
    assert abs(float(np.mean(ins.dose_u)) - 47.0) < 15.0


def test_basal_bolus_has_more_hypoglycaemia_than_basal():
    """4-T (Holman et al. NEJM 357:1716, 2007, abstract): hypoglycaemia 12.0 (prandial) vs 2.3 (basal)
    events/patient-year at 1 year; Giugliano 2011 meta-analysis: more hypoglycaemia with prandial/
    biphasic regimens than basal. Direction only: the basal-bolus arm has more level-1 events than the
    basal arm on the same virtual patients (same titration, same meal days). Measured: basal 0.0 vs
    basal-bolus 0.25 events/patient-year — the direction holds, the rates are far below 4-T's (the meal
    model has no counter-regulation and titration stops at the FPG target; see docs/standard_care.md)."""
    c = _riddle_cohort()
    rates = {}
    for cls in (BasalInsulin, BasalBolus):
        ins = cls("glargine", 10.0)
        arm = ArmState(c, [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0), ins])
        rates[cls.__name__] = run_with_meal_days(arm, 24, seed=3).hypo.rate_per_patient_year(1)
    assert rates["BasalBolus"] > rates["BasalInsulin"], rates


def test_basal_bolus_ratios_follow_walsh_rules():
    ctx = _ctx(1)
    bb = BasalBolus("glargine", 25.0)
    bb.setup(ctx)
    icr, cf = bb.ratios()  # TDD = 25/0.5 = 50 U → ICR 10 g/U, CF 36 mg/dL/U
    assert icr[0] == pytest.approx(10.0) and cf[0] == pytest.approx(36.0)
    assert bb.bolus_u(np.array([60.0]), np.array([192.0]))[0] == pytest.approx(6.0 + 2.0)


@pytest.mark.parametrize(
    ("kw", "msg"),
    [({"insulin": "detemirx"}, "insulin must be one of"), ({"start_dose_u": -1.0}, "start_dose_u must lie in"),
     ({"target_fpg_mgdl": 40.0}, "target_fpg_mgdl must lie in")],
)  # fmt: skip
def test_bad_insulin_arguments(kw, msg):
    with pytest.raises(ValueError, match=msg):
        BasalInsulin(**kw)
