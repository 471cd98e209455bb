"""Insulin: Riddle 2003 titration rules, absorption profiles, treat-to-target replication, and the
direction of hypoglycaemia between basal and basal-bolus (issue 4, acceptance 2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from therapy_trials import on_background, trial_cohort

from t2dsim.engine import ArmState, advance
from t2dsim.engine.meal_days import MealDayRun, run_with_meal_days, simulate_meal_day
from t2dsim.physiology.coupling import basal_insulin_u_per_day_to_pmol_kg_min
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.drugs import Metformin, Sulfonylurea, parameter
from t2dsim.therapies.insulin import BasalBolus, BasalInsulin, riddle_weekly_increase


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
    ins = BasalInsulin("glargine", 20.0, titration_adherence=1.0, fpg_day_cv=0.0)
    ins.setup(ctx)
    ins.record_glucose(np.array([120.0, 65.0, 50.0]))  # minima of the week: none, <72, <56
    ins.observe(ctx, 7, {"glucose_mgdl": np.array([200.0, 200.0, 200.0])})
    np.testing.assert_array_equal(ins.dose_u, [28.0, 20.0, 18.0])
    # only weekly: a second call on day 8 changes nothing
    ins.observe(ctx, 8, {"glucose_mgdl": np.array([200.0, 200.0, 200.0])})
    np.testing.assert_array_equal(ins.dose_u, [28.0, 20.0, 18.0])


def test_three_day_algorithm_adds_2u_every_3_days_above_target():
    ctx = _ctx(2)
    ins = BasalInsulin("glargine", 10.0, algorithm="3-day", titration_adherence=1.0, fpg_day_cv=0.0)
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


def test_titration_adherence_skips_increases_but_not_decreases():
    """Titration inertia: with adherence 0 no increase is ever made; a decrease after a glucose < 56 mg/dL
    still is. With a mean adherence m, the share of due increases carried out over many patient-weeks is
    close to m (per-patient probabilities logit-normal around m; keyed draws, so the same seed gives the
    same doses)."""
    ctx = _ctx(3)
    ins = BasalInsulin("glargine", 20.0, titration_adherence=0.0, fpg_day_cv=0.0)
    ins.setup(ctx)
    ins.record_glucose(np.array([120.0, 120.0, 50.0]))
    ins.observe(ctx, 7, {"glucose_mgdl": np.full(3, 200.0)})
    np.testing.assert_array_equal(ins.dose_u, [20.0, 20.0, 18.0])
    n = 2000
    big = PatientContext(n=n, body_weight_kg=np.full(n, 90.0), age_years=np.full(n, 55.0),
                         female=np.zeros(n, bool), seed=5)  # fmt: skip
    doses = []
    for _ in range(2):
        ins = BasalInsulin("glargine", 10.0, titration_adherence=0.3, fpg_day_cv=0.0)
        ins.setup(big)
        for week in range(1, 11):
            ins.observe(big, 7 * week, {"glucose_mgdl": np.full(n, 200.0)})  # +8 IU due every week
        doses.append(ins.dose_u.copy())
    np.testing.assert_array_equal(doses[0], doses[1])
    share_taken = float(np.mean((doses[0] - 10.0) / 80.0))
    assert 0.25 < share_taken < 0.35, share_taken
    assert np.std(doses[0]) > 10.0  # between-patient heterogeneity of titration


def test_titration_fatigue_stops_increases_after_visits_near_target():
    """Titration fatigue: each earlier visit with an SMBG mean ≤ target + 20 mg/dL multiplies the probability of
    the next due increase by exp(−λ_i). With λ 0 (the default) every due step is taken however long the patient
    has been near target (protocol-enforced titration, the previous behaviour); with a large λ the first
    near-target visit ends the increases even when glucose later rises. Decreases after a glucose < 56 mg/dL
    are still made."""
    ctx = _ctx(2)
    doses = {}
    for lam in (0.0, 10.0):
        ins = BasalInsulin("glargine", 20.0, titration_fatigue_per_visit=lam, fpg_day_cv=0.0)
        ins.setup(ctx)
        ins.observe(ctx, 7, {"glucose_mgdl": np.array([110.0, 200.0])})  # patient 0 near target (+2), 1 not (+8)
        ins.observe(ctx, 14, {"glucose_mgdl": np.array([200.0, 200.0])})
        doses[lam] = ins.dose_u.copy()
        np.testing.assert_array_equal(ins.near_target_visits, [1.0, 0.0])
        ins.record_glucose(np.array([50.0, 120.0]))
        ins.observe(ctx, 21, {"glucose_mgdl": np.array([200.0, 200.0])})
        assert ins.dose_u[0] == doses[lam][0] - 2.0  # reduction after < 56 mg/dL, fatigue or not
    np.testing.assert_array_equal(doses[0.0], [30.0, 36.0])
    # λ_i is exponential with mean 10 (so 37 % of patients draw λ_i ≥ 10); patient 0's keyed draw is 17.4, so it
    # stops after its near-target visit (the draw is keyed by (seed, id), hence fixed)
    np.testing.assert_array_equal(doses[10.0], [22.0, 36.0])


def test_titration_fatigue_between_patient_distribution():
    """λ_i is exponential between patients with mean ``titration_fatigue_per_visit`` (median ln 2 × mean), keyed by
    (seed, patient id): the same patient gets the same λ_i in a cohort of any size."""
    n = 20000
    big = PatientContext(n=n, body_weight_kg=np.full(n, 90.0), age_years=np.full(n, 55.0),
                         female=np.zeros(n, bool), seed=9)  # fmt: skip
    ins = BasalInsulin("glargine", 10.0, titration_fatigue_per_visit=1.5)
    ins.setup(big)
    assert abs(ins.fatigue.mean() - 1.5) < 0.05
    assert abs(np.median(ins.fatigue) - 1.5 * np.log(2.0)) < 0.05
    small = PatientContext(n=5, body_weight_kg=np.full(5, 90.0), age_years=np.full(5, 55.0),
                           female=np.zeros(5, bool), seed=9)  # fmt: skip
    ins5 = BasalInsulin("glargine", 10.0, titration_fatigue_per_visit=1.5)
    ins5.setup(small)
    np.testing.assert_array_equal(ins5.fatigue, ins.fatigue[:5])
    default = BasalInsulin("glargine", 10.0)
    default.setup(small)
    assert default.titration_fatigue_per_visit == 0.0 and not default.fatigue.any()


def test_fasting_readings_carry_day_to_day_variability():
    """SMBG fasting readings = fasting G × day-to-day variability (log-normal, CV fpg_day_cv) × meter
    error (CV smbg_cv 5 %): at G 100 mg/dL and CV 15 % the readings' CV is √(0.15² + 0.05²) ≈ 16 % and
    their mean stays 100 mg/dL."""
    n = 4000
    big = PatientContext(n=n, body_weight_kg=np.full(n, 90.0), age_years=np.full(n, 55.0),
                         female=np.zeros(n, bool), seed=2)  # fmt: skip
    ins = BasalInsulin("glargine", 10.0, fpg_day_cv=0.15)
    ins.setup(big)
    r = ins.smbg_readings(np.full(n, 100.0), 14)
    assert abs(r.mean() - 100.0) < 1.0
    assert 0.145 < r.std() / r.mean() < 0.175
    # a day's value is keyed by the calendar day: the reading of day 13 seen from day 14 and from day 15
    d14 = ins.daily_fasting(np.full(n, 100.0), 14, 2)
    d15 = ins.daily_fasting(np.full(n, 100.0), 15, 3)
    np.testing.assert_array_equal(d14[:, 1], d15[:, 1])


RIDDLE_BACKGROUND = (lambda: Metformin(2000.0), lambda: Sulfonylurea("glimepiride", 4.0))
#: Years on the oral agents before the insulin trials (D: the trials enrolled patients with diabetes for ~9 years,
#: 4-T median 9 years [V]; five years on metformin + SU spreads the on-treatment HbA1c over 7.5-10 % as in the
#: trials. One year, used until the SU recalibration of 2026-11-29, left the screened cohort at ~8.2 % instead of
#: 8.6 %: after one year the model's HbA1c on metformin + SU is bimodal, responders near 7-8 % and the rest > 12 %.)
RIDDLE_BACKGROUND_DAYS = 5 * 365


def _trial_insulin(cls=BasalInsulin, **kw):
    """Basal insulin of the trial replications: bedtime glargine from 10 IU, Riddle weekly algorithm, every due
    step taken until titration fatigue sets in (``titration_fatigue_trial``, calibrated on Riddle 2003)."""
    return cls("glargine", 10.0, titration_fatigue_per_visit=parameter("titration_fatigue_trial"), **kw)


def _riddle_cohort(n: int = 200, seed: int = 81, untreated_hba1c: float = 13.2, inclusion=(7.5, 10.0)):
    """Riddle 2003: overweight adults, HbA1c 7.5-10.0 % on one or two oral agents (abstract), mean baseline
    8.6 % (Strange, J Diabetes Sci Technol 7:771, 2013, Table 1 [S]). Untreated HbA1c drawn (mean
    ``untreated_hba1c``, SD 1.3 %) so that after ``RIDDLE_BACKGROUND_DAYS`` on metformin + glimepiride the
    screened cohort (baseline inside ``inclusion``) has a mean of ~8.5 %; screening keeps ~80 % of the drawn
    patients."""
    lo, hi = inclusion
    base = trial_cohort(n, seed, untreated_hba1c, 1.3, (lo + 2.5, hi + 5.5)).cohort
    c = on_background(base, [f() for f in RIDDLE_BACKGROUND], RIDDLE_BACKGROUND_DAYS)
    h0 = c.state.hba1c_pct
    return c.select(np.nonzero((h0 >= lo) & (h0 <= hi))[0])


@dataclass
class RiddleMealRun:
    """The Riddle 2003 replication run once for the module (:func:`riddle_meal_run`): baseline HbA1c (%), the
    baseline day's meal-model mean glucose and FPG (mg/dL, per patient, on metformin + SU before insulin acts),
    the arm and insulin after 24 weeks and the weekly meal days (:class:`MealDayRun`)."""

    baseline_hba1c: float
    baseline_meal_mean_mgdl: np.ndarray
    baseline_fpg_mgdl: np.ndarray
    arm: ArmState
    insulin: BasalInsulin
    meal_days: MealDayRun


@pytest.fixture(scope="module")
def riddle_meal_run() -> RiddleMealRun:
    """Riddle 2003 cohort on metformin + glimepiride + bedtime glargine, 24 weekly meal days (seed 3). Shared by
    the calibration check and the meal-day checks below (one run instead of three; the tests only read it)."""
    c = _riddle_cohort()
    ins = _trial_insulin()
    arm = ArmState(c, [*(f() for f in RIDDLE_BACKGROUND), ins])
    base = simulate_meal_day(arm, ((7 * 60, 45.0), (12 * 60, 70.0), (19 * 60, 70.0)))
    g0 = base["plasma_glucose_mgdl"][:, :-1].mean(axis=1)
    f0 = np.asarray(arm.last["glucose_mgdl"], dtype=float).copy()
    r = run_with_meal_days(arm, 24, seed=3)
    return RiddleMealRun(float(np.mean(c.state.hba1c_pct)), g0, f0, arm, ins, r)


def test_treat_to_target_riddle_2003_calibration(riddle_meal_run):
    """Riddle et al. Diabetes Care 26:3080 (2003), abstract (read): 24 weeks, bedtime glargine from 10 IU,
    Table 1 titration to FPG ≤ 100 mg/dL; endpoint FPG 117 mg/dL, HbA1c 6.96 %, ~60 % reached HbA1c
    ≤ 7 %. Baseline 8.6 % and confirmed hypoglycaemia 9.2 events/patient-year with glargine [S: Strange,
    J Diabetes Sci Technol 7:771, 2013, Table 1].

    Calibrated on this trial (so this is a calibration check, not a validation): titration fatigue
    (``titration_fatigue_trial`` λ 1.0 per near-target visit) and day-to-day fasting variability
    (``fpg_day_cv`` 0.24) jointly, as the minimum over a grid of ((FPG − 117)/6)² + ((HbA1c − 6.96)/0.2)² +
    ((lows − 9.2)/3)² (lows = days with glucose < 72 mg/dL; docs/standard_care.md), and earlier the
    progression model's insulin mean fraction φ (progression.py) to the endpoint FPG/HbA1c pair. Not
    fitted: the share reaching ≤ 7 % (set by the spread of the cohort and of fatigue) and the final dose.
    Tolerances: FPG ±6 mg/dL, HbA1c ±0.2 %, lows 9.2 ± 3 per patient-year, share ±15 points, dose 47 IU
    [U: from memory in the reference file, not verified] ±15 IU. Measured: FPG 118.6, HbA1c 6.91 %, 9.1
    lows/patient-year, 68 % ≤ 7 %, 40.6 IU (before the SU recalibration and the 5-year background of
    2026-11-29, with λ 1.5: 119.6, 6.79 %, 9.4, 74 %, 33.5 IU). With every step taken (λ 0) the model gives
    FPG 101.4 mg/dL, HbA1c 6.61 %, 93 % ≤ 7 %, 58.2 IU and 19 lows/patient-year."""
    run = riddle_meal_run
    assert abs(run.baseline_hba1c - 8.6) < 0.3
    arm, ins = run.arm, run.insulin
    fpg = float(np.mean(arm.last["glucose_mgdl"]))
    h = arm.last["hba1c_pct"]
    share = float(np.mean(h <= 7.0))
    dose = float(np.mean(ins.dose_u))
    lows = float(np.mean(ins.documented_lows)) / (168 / 365.25)
    assert abs(fpg - 117.0) < 6.0, fpg
    assert abs(float(np.mean(h)) - 6.96) < 0.2, float(np.mean(h))
    assert abs(lows - 9.2) < 3.0, lows
    assert abs(share - 0.60) < 0.15, share
    assert abs(dose - 47.0) < 15.0, dose


#: Riddle et al., Diabetes Care 34:2508 (2011), abstract: six treat-to-target trials pooled (1,699 patients, Riddle
#: 2003 among them), on oral agents before insulin: FPG 194 mg/dL with HbA1c 8.7 %; the GMI relation (Bergenstal
#: 2018) puts the mean glucose of HbA1c 8.7 % at (8.7 - 3.31)/0.02392 = 225 mg/dL, i.e. 31 mg/dL over fasting.
RIDDLE_2011_ORAL_MEAN_OVER_FPG_MGDL = (8.7 - 3.31) / 0.02392 - 194.0
#: LANMET (Yki-Järvinen et al., Diabetologia 49:442, 2006), abstract: glargine + metformin, FPG 5.75 mmol/L
#: (103.6 mg/dL) over the last 12 weeks and HbA1c 7.14 % at 36 weeks: GMI-implied mean 160 mg/dL, 56 over fasting.
#: Riddle 2011's pooled basal-insulin end point (FPG 117, HbA1c 7.0 %: mean 154, 37 over fasting) is lower.
LANMET_MEAN_OVER_FPG_MGDL = (7.14 - 3.31) / 0.02392 - 5.75 * 18.016


def test_meal_day_mean_over_fasting_on_oral_agents_matches_riddle_2011_baseline(riddle_meal_run):
    """The cause check (no insulin effect yet): the Riddle cohort's baseline meal-model day (three meals 45/70/70 g)
    lies RIDDLE_2011_ORAL_MEAN_OVER_FPG_MGDL (31 mg/dL) over its fasting glucose, ±12.5 mg/dL (0.3 %-point of
    HbA1c through the GMI slope). The TUNING TARGET of the capacity law's κ (coupling.CAPACITY_EXPONENT; scan in
    docs/capacity_law.md), not an independent check. Measured +31.2 mg/dL (FPG 186.5, mean 217.7); with the
    proportional gains before 2026-12-06, +55.6 (a strict xfail)."""
    r = riddle_meal_run
    excess = float(np.mean(r.baseline_meal_mean_mgdl) - np.mean(r.baseline_fpg_mgdl))
    assert abs(excess - RIDDLE_2011_ORAL_MEAN_OVER_FPG_MGDL) < 12.5, excess


def test_meal_day_mean_over_fasting_under_glargine_against_published_end_points(riddle_meal_run):
    """Meal model under glargine: the weekly meal days' mean glucose over the progression FPG at weeks 21-24 lies
    between Riddle 2011's pooled basal-insulin end point (+37 mg/dL, which includes Riddle 2003 itself) minus 12.5
    and LANMET's glargine + metformin (+56 mg/dL, LANMET_MEAN_OVER_FPG_MGDL, independent of Riddle 2003). A check
    of the capacity law (not tuned on it): measured +35.7 mg/dL; +62.8 with the proportional gains (strict xfail
    until 2026-12-06)."""
    r = riddle_meal_run
    fpg = float(np.mean(r.arm.last["glucose_mgdl"]))
    excess = float(np.mean(r.meal_days.mean_glucose_mgdl[:, -4:])) - fpg
    assert (154.3 - 117.0) - 12.5 <= excess <= LANMET_MEAN_OVER_FPG_MGDL, excess


def test_riddle_2003_share_at_target_from_meal_day_glucose(riddle_meal_run):
    """Riddle 2003 abstract: ~60 % ≤ 7 % at 24 weeks; here HbA1c built from the weekly meal-model days'
    mean glucose (GMI relation, glycation kinetics) instead of the progression model's HbA1c. ±15 points. Issue 15,
    acceptance 1 (was a strict xfail: 7.66 %, 6 % ≤ 7 % with the proportional gains). With the capacity law (κ 0.35,
    not tuned on this check) measured 0.47 with the first-order 30-day glycation filter; 0.55 (mean 7.03 %) with the
    100-day red-cell window of 2026-12-06 (physiology.glycation.WindowedHbA1c)."""
    share_meal = float(np.mean(riddle_meal_run.meal_days.hba1c_meal_pct <= 7.0))
    assert abs(share_meal - 0.60) < 0.15, share_meal


def _rosenstock_2008_arm() -> tuple[float, float]:
    """Rosenstock et al. Diabetologia 51:408 (2008), abstract (read via PubMed copy): insulin-naive, HbA1c
    7.5-10.0 %, 52 weeks, evening glargine titrated to FPG ≤ 6.0 mmol/L (108 mg/dL); glargine arm HbA1c
    8.6 → 7.1 %, FPG 10.8 → 7.0 mmol/L (195 → 126 mg/dL). About 75 % were on metformin + secretagogue
    (Table 2 of the paper, read in a text copy). Not used for any fitting; titration fatigue and fasting
    variability are the values calibrated on Riddle 2003. Approximation: the Riddle weekly bands with this
    trial's 108 mg/dL target stand in for its own algorithm. Returns (FPG mg/dL, HbA1c %) at 52 weeks."""
    c = _riddle_cohort(200, 101, 13.2)
    assert abs(float(np.mean(c.state.hba1c_pct)) - 8.6) < 0.3
    ins = _trial_insulin(target_fpg_mgdl=108.0)
    arm = ArmState(c, [*(f() for f in RIDDLE_BACKGROUND), ins])
    advance(arm, 364)
    return float(np.mean(arm.last["glucose_mgdl"])), float(np.mean(arm.last["hba1c_pct"]))


def test_rosenstock_2008_glargine_52_week_fpg_check():
    """Rosenstock 2008 (see :func:`_rosenstock_2008_arm`): endpoint FPG 126 mg/dL at 52 weeks, ±10 mg/dL.
    NOT an independent validation: λ was fitted on Riddle 2003 only, but the *mechanism* (fatigue near
    target) was chosen among four candidates partly by their Rosenstock and 4-T results (docs/standard_care.md,
    titration section). What it checks: the titration plateaus — with inertia as a per-step probability only
    (the earlier calibration) the model's FPG kept falling to 107.9 mg/dL; with titration fatigue it stays near
    its week-16 level (123.0 → 123.9 mg/dL from week 16 to 52 before the 2026-11-29 SU recalibration;
    123.2 mg/dL at week 52 after it). An independent check needs a trial not used in
    the choice (AT.LANTUS, LANMET: cited only as motivation so far)."""
    fpg, _ = _rosenstock_2008_arm()
    assert abs(fpg - 126.0) < 10.0, fpg


def test_rosenstock_2008_glargine_52_week_hba1c_check():
    """Rosenstock 2008 (see :func:`_rosenstock_2008_arm`): endpoint HbA1c 7.1 % at 52 weeks, ±0.25 %. A check,
    not an independent validation (see the FPG test). Measured 6.94 % (FPG 123.2 mg/dL). Until 2026-11-29 a strict
    xfail at 6.82 %: the model's HbA1c ran ~0.2 % below the published value at the same FPG; the stronger SU of
    the background and the 5-year oral-agent history of the cohort (RIDDLE_BACKGROUND_DAYS) closed most of it."""
    _, h = _rosenstock_2008_arm()
    assert abs(h - 7.1) < 0.25, h


@pytest.mark.xfail(
    strict=True,
    reason="known validation failure: at 1 year the model's basal arm reaches HbA1c 6.82 % with 25 % of the "
    "patients ≤ 6.5 % (published 7.6 % and 8.1 %; per-step inertia alone gave 6.48 % and 61 %). The "
    "titration plateaus (FPG 119.2 mg/dL at week 52), so the remaining gap is not the titration's drift: "
    "detemir (twice daily if needed) and 4-T's own titration scheme are not modelled, and its population is "
    "approximated by five years on metformin + SU before screening (its median diabetes duration is 9 years; "
    "the years before the oral agents are not modelled).",
)
def test_4t_basal_arm_one_year_validation():
    """4-T (Holman et al. NEJM 357:1716, 2007) abstract (read; reference file V): 708 patients on maximal
    metformin + sulfonylurea, HbA1c 7.0-10.0 % (mean 8.5 %); basal detemir arm at 1 year: HbA1c 7.6 %,
    8.1 % of patients ≤ 6.5 %. Not used for any fitting. Approximations: the Riddle weekly algorithm with
    4-T's fasting target (≤ 99 mg/dL, 5.5 mmol/L) stands in for 4-T's titration; once-daily dosing;
    titration fatigue and fasting variability as calibrated on Riddle 2003. Tolerances: mean HbA1c ±0.3 %,
    share ≤ 6.5 % ±8 points."""
    c = _riddle_cohort(200, 91, 13.0, (7.0, 10.0))
    assert abs(float(np.mean(c.state.hba1c_pct)) - 8.5) < 0.3
    ins = _trial_insulin(target_fpg_mgdl=99.0)
    arm = ArmState(c, [*(f() for f in RIDDLE_BACKGROUND), ins])
    advance(arm, 365)
    h = arm.last["hba1c_pct"]
    assert abs(float(np.mean(h)) - 7.6) < 0.3, float(np.mean(h))
    assert abs(float(np.mean(h <= 6.5)) - 0.081) < 0.08, float(np.mean(h <= 6.5))


def test_basal_bolus_has_more_hypoglycaemia_than_basal():
    """4-T (Holman et al. NEJM 357:1716, 2007, abstract): hypoglycaemia 12.0 (prandial) vs 2.3 (basal)
    events/patient-year at 1 year; Giugliano 2011 meta-analysis: more hypoglycaemia with prandial/
    biphasic regimens than basal. Direction: the basal-bolus arm has more level-1 meal-day events than
    the basal arm on the same virtual patients (same titration, same meal days and the same day-to-day
    fasting glucose, so the difference is the boluses').

    Level (reported, not asserted): each meal day's fasting glucose carries the day-to-day variability
    (``fpg_day_cv``) that was calibrated with titration fatigue on Riddle 2003's documented hypoglycaemia,
    9.2 confirmed events ≤ 72 mg/dL per patient-year with glargine (Strange, J Diabetes Sci Technol 7:771,
    2013, Table 1 [S]), so the level is calibrated rather than predicted, and the meal days' definition
    (< 70 mg/dL for ≥ 15 min, also post-meal and with varying insulin action) differs from it; 4-T's basal
    rate (2.3) is ~7× below the model's. Measured: basal 16.2, basal-bolus 21.7 events/
    patient-year; level 2 (< 54 mg/dL) 1.0 vs 1.9. The basal-bolus excess is much smaller than 4-T's
    (5×): boluses from the Walsh rules on meal-model days whose post-meal glucose stays high rarely
    overshoot (see docs/standard_care.md)."""
    c = _riddle_cohort()
    rates = {}
    for cls in (BasalInsulin, BasalBolus):
        ins = _trial_insulin(cls)
        arm = ArmState(c, [*(f() for f in RIDDLE_BACKGROUND), ins])
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
     ({"target_fpg_mgdl": 40.0}, "target_fpg_mgdl must lie in"),
     ({"titration_fatigue_per_visit": -0.1}, "titration_fatigue_per_visit must lie in")],
)  # fmt: skip
def test_bad_insulin_arguments(kw, msg):
    with pytest.raises(ValueError, match=msg):
        BasalInsulin(**kw)


def test_meal_day_with_its_own_fasting_glucose_starts_in_that_steady_state():
    """simulate_meal_day(fasting_mgdl=...): with no meals and no exogenous insulin, the day holds the given
    fasting glucose exactly (a steady state of the Dalla Man basal relations re-derived at it) and hepatic
    glucose output stays at the patient's EGPb (the day's uptake and secretion threshold move instead)."""
    from t2dsim.engine import meal_params_today
    from t2dsim.engine.meal_days import simulate_meal_day

    c = trial_cohort(6, 7, 7.5, 0.5, (6.5, 9.0)).cohort
    arm = ArmState(c, [Metformin(1000.0)])
    advance(arm, 28)
    smooth = np.asarray(arm.last["glucose_mgdl"], dtype=float)
    egpb = meal_params_today(arm)["EGPb"]
    for factor in (0.6, 1.0, 1.3):
        day = simulate_meal_day(arm, (), fasting_mgdl=factor * smooth)
        g = day["plasma_glucose_mgdl"]
        np.testing.assert_allclose(g, np.repeat(factor * smooth[:, None], g.shape[1], axis=1), rtol=1e-6)
        np.testing.assert_allclose(day["egp_mg_kg_min"][:, 1:], np.repeat(egpb[:, None], g.shape[1] - 1, 1), rtol=1e-6)
