"""Simulated replications of landmark drug trials (issue 4, acceptance 1).

Each test builds a virtual trial population (tests/therapy_trials.py: newly-diagnosed preset advanced
along its untreated course to the trial's baseline HbA1c), runs drug and placebo arms on the same
virtual patients for the trial's duration, and compares the placebo-adjusted HbA1c change with the
published number. Which trial each drug parameter was *fitted* to is in
src/t2dsim/therapies/parameters/standard_care.csv (tag C); tests named ``*_validation`` use a trial
that was not used for fitting; tests named ``*_calibration`` only confirm the fit (they can fail if
the progression model underneath changes).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from therapy_trials import on_background, placebo_adjusted, trial_cohort

from t2dsim.engine import ArmState, advance, run_meal_day
from t2dsim.engine.meal_days import run_with_meal_days
from t2dsim.simulate import meal_inputs
from t2dsim.therapies.drugs import GLP1RA, Metformin, SGLT2Inhibitor, Sulfonylurea, parameter_table

N = 150  # virtual patients per trial (tests stay at a few seconds each)


def test_parameter_table_has_source_unit_and_tag_for_every_row():
    t = parameter_table()
    assert t.index.is_unique
    assert t["source"].str.len().min() > 5 and t["unit"].notna().all()
    assert set(t["tag"]) <= {"V", "S", "U", "C", "D"}


def test_metformin_defronzo_1995_protocol1_validation():
    """DeFronzo & Goodman (Multicenter Metformin Study Group), NEJM 333:541 (1995), abstract (read via
    PubMed copy, PMID 7623902): protocol 1, diet-treated moderately obese NIDDM, 29 weeks, metformin
    titrated to 2550 mg/day vs placebo; end-of-study HbA1c 7.1 ± 0.1 vs 8.6 ± 0.2 % (mean ± SE,
    n = 143/146). Difference −1.5 %, 95 % CI −1.5 ± 1.96·√(0.1² + 0.2²) = (−1.94, −1.06) (derived from
    the published SEs). Baseline HbA1c not in the abstract: 8.4 ± 1.2 % assumed [U].
    Not used for fitting (metformin Emax set from Hundal 2000, dose shape from Garber 1997)."""
    c = trial_cohort(N, 12, 8.4, 1.2, (7.0, 12.0)).cohort
    r = placebo_adjusted(c, lambda: [Metformin(2500.0)], 203)
    assert -1.94 < r.diff_hba1c < -1.06, r.diff_hba1c


def test_metformin_dose_response_is_monotone_and_sub_linear():
    """Garber et al. Am J Med 103:491 (1997) abstract: benefit rises with dose 500→2000 mg, maximal at
    the upper recommended dose. Shape check only (the 11-week magnitudes are discussed in docs)."""
    c = trial_cohort(60, 11, 8.7, 1.2, (7.0, 12.0)).cohort
    diffs = [placebo_adjusted(c, lambda d=d: [Metformin(d)], 77).diff_hba1c for d in (500.0, 1000.0, 2000.0, 2500.0)]
    assert all(a > b for a, b in zip(diffs, diffs[1:], strict=False))
    steps = -np.diff(diffs) / np.diff([500.0, 1000.0, 2000.0, 2500.0])
    assert steps[-1] < steps[0]


@pytest.mark.xfail(
    strict=True,
    reason="known failure since the SU effect was fitted on Hirst 2013's pooled monotherapy estimate: as add-on "
    "to metformin the model gives −1.35 % against LEAD-2's −1.1 % (±0.2); in the model add-on and monotherapy "
    "effects are alike (−1.35 at 26 weeks, −1.24 at 16 weeks vs −1.51 % at 16 weeks), as in Hirst 2013's pooled "
    "estimates (−1.62 vs −1.51 %), so LEAD-2's glimepiride arm sits at the low end of its class "
    "(docs/standard_care.md).",
)
def test_sulfonylurea_lead2_glimepiride_addon_validation():
    """LEAD-2 (Nauck et al. Diabetes Care 32:84, 2009) abstract: glimepiride 4 mg + metformin −1.0 % vs
    placebo + metformin +0.1 % at 26 weeks → −1.1 % placebo-adjusted. No 95 % CI for this comparison in
    the text read, so the tolerance is ±0.2 %. Until 2026-11-29 this trial alone set the SU effect size; it is
    now a validation of the add-on setting (the SU emax is fitted on Hirst 2013's pooled monotherapy estimate)."""
    base = on_background(trial_cohort(N, 51, 9.0, 1.1, (7.5, 12.0)).cohort, [Metformin(2000.0)], 365)
    assert 7.5 < float(np.mean(base.state.hba1c_pct)) < 8.8  # LEAD-2 baseline ~8.4 % [U]
    r = placebo_adjusted(base, lambda: [Sulfonylurea("glimepiride", 4.0)], 182, lambda: [Metformin(2000.0)])
    assert abs(r.diff_hba1c - (-1.1)) < 0.2, r.diff_hba1c


def test_sulfonylurea_hirst_2013_pooled_monotherapy_calibration():
    """Hirst et al. Diabetologia 56:973 (2013), abstract (read, PMC3622755): nine double-blind placebo-controlled
    trials of fixed-dose SU monotherapy, median 16 weeks: HbA1c −1.51 % vs placebo (95 % CI −1.78 to −1.25); "higher
    sulfonylurea doses did not reduce HbA1c more than lower doses". Replicated as a drug-naive 16-week trial of
    glimepiride 4 mg at baseline 8.5 ± 1.0 % (7–11 %; D: the pooled trials' baselines are not in the abstract).
    A calibration check: this estimate alone sets su_secretion_emax (0.95 reproduces −1.51 %; standard_care.csv),
    so besides the CI the fitted value is held to ±0.1 %."""
    c = trial_cohort(N, 77, 8.5, 1.0, (7.0, 11.0)).cohort
    r = placebo_adjusted(c, lambda: [Sulfonylurea("glimepiride", 4.0)], 112)
    assert -1.78 < r.diff_hba1c < -1.25, r.diff_hba1c
    assert abs(r.diff_hba1c - (-1.51)) < 0.1, r.diff_hba1c
    # "higher doses did not reduce HbA1c more": 8 mg adds little to 4 mg (< 0.15 %-points, D tolerance)
    r8 = placebo_adjusted(c, lambda: [Sulfonylurea("glimepiride", 8.0)], 112)
    assert 0.0 <= r.diff_hba1c - r8.diff_hba1c < 0.15, (r.diff_hba1c, r8.diff_hba1c)


def test_sulfonylurea_hirst_2013_pooled_addon_validation():
    """Hirst 2013 (above): SU added to oral glucose-lowering treatment, four trials: −1.62 % vs the other
    treatment alone (95 % CI −2.24 to −1.0). Not used for fitting. Replicated on the LEAD-2-like population
    (one year on metformin 2000 mg, baseline ~8 %), glimepiride 4 mg added for 16 weeks (Hirst's median).
    Simulated −1.24 %. A weak test: the CI is wide (the previous emax 0.7 gave −1.01 %, also inside), so it
    does not discriminate between the old and the new SU effect; it only excludes a much larger or smaller one."""
    base = on_background(trial_cohort(N, 51, 9.0, 1.1, (7.5, 12.0)).cohort, [Metformin(2000.0)], 365)
    r = placebo_adjusted(base, lambda: [Sulfonylurea("glimepiride", 4.0)], 112, lambda: [Metformin(2000.0)])
    assert -2.24 < r.diff_hba1c < -1.0, r.diff_hba1c


def _goldberg_course(dose_mg: float) -> list[Sulfonylurea]:
    """Goldberg 1996 forced titration (FDA label §14.1): all start at 1 mg; the 4- and 8-mg arms step up
    weekly (1 → 4 → 8 mg) until the randomised dose is reached, then stay on it to week 14."""
    steps = [d for d in (1.0, 4.0, 8.0) if d <= dose_mg]
    return [
        Sulfonylurea("glimepiride", d, start_day=7 * i, stop_day=7 * (i + 1) if i < len(steps) - 1 else None)
        for i, d in enumerate(steps)
    ]


@lru_cache(maxsize=1)
def _goldberg_cohort():
    """Goldberg 1996 population: patients already treated with a sulfonylurea, taken off it for a 3-week
    placebo washout before randomisation. Virtual patients: untreated HbA1c drawn (mean 8.5, SD 1.2 %; 8.2
    until the SU recalibration of 2026-11-29, whose stronger prior SU lowered the randomised baseline to 7.74 %)
    so that after one year on a prior SU (glipizide 10 mg/day; the agents and doses used before the
    trial are not in the text read [U]) and the 3-week washout the randomised baseline is ~8.0 %
    (label Table 3: 8.0 / 7.9 / 7.9 / 8.0 %)."""
    c0 = trial_cohort(N, 91, 8.5, 1.2, (7.0, 13.0)).cohort
    on_su = on_background(c0, [Sulfonylurea("glipizide", 10.0)], 365)
    return on_background(on_su, [], 21)


@pytest.mark.parametrize(
    ("dose_mg", "ci"),
    [
        (1.0, (-1.5, -0.8)),
        (4.0, (-2.1, -1.4)),
        (8.0, (-2.2, -1.5)),
    ],
)
def test_sulfonylurea_goldberg_1996_washout_check(dose_mg, ci):
    """Goldberg, Holvey & Schneider, Diabetes Care 19:849 (1996) — the 14-week monotherapy trial of the
    glimepiride (Amaryl) US label, section 14.1, Table 3 (read via a public copy of the label, medlibrary.org):
    304 patients previously treated with a sulfonylurea, 3-week placebo washout, then placebo or glimepiride
    1, 4 or 8 mg once daily for 14 weeks (forced weekly titration to 4/8 mg); HbA1c difference from placebo
    (LS mean, ITT with LOCF) −1.2 % (95 % CI −1.5, −0.8), −1.8 % (−2.1, −1.4), −1.8 % (−2.2, −1.5);
    placebo arm +1.5 %. FPG difference from placebo 2.4 / 3.9 / 4.1 mmol/L (abstract, PubMed copy; baseline
    FPG not in the text read). Sister trial of the same sponsor and design (Rosenstock et al. Diabetes Care
    19:1194, 1996, abstract: previously treated, 3-week washout, 14 weeks): baseline FPG 12.4–13.0 mmol/L
    at HbA1c 7.7–8.1 %, placebo FPG 13.0 → 14.5 mmol/L and HbA1c 7.7 → 9.7 %. Both are reported by the
    failure message (diff_fpg, mg/dL), not asserted.
    Role: a check, not an independent validation. The size is not fitted to this trial (su_secretion_emax is
    fitted on Hirst 2013's pooled monotherapy estimate, standard_care.csv), but Goldberg 1996 is probably one
    of Hirst's nine trials, and the 1-mg/8-mg ratio of this trial's abstract set the dose shape (su_ed50_rel).
    Simulated −1.25/−1.53/−1.59 % (baseline 8.05 %). (With the earlier emax 0.7, fitted on LEAD-2 alone,
    −0.96/−1.20/−1.25 %: 4 and 8 mg outside; docs/standard_care.md.)"""
    c = _goldberg_cohort()
    assert 7.7 < float(np.mean(c.state.hba1c_pct)) < 8.3
    r = placebo_adjusted(c, lambda: _goldberg_course(dose_mg), 98)
    assert ci[0] < r.diff_hba1c < ci[1], (dose_mg, r.diff_hba1c, r.placebo_change, r.diff_fpg)


def test_glp1_davies_2017_sc_semaglutide_validation():
    """Davies et al. JAMA 318:1460 (2017), oral-semaglutide phase 2 trial with an open-label subcutaneous
    semaglutide 1.0 mg/week arm, Table 2 (read, PMC5817971): 26 weeks, patients on diet and exercise alone
    or a stable dose of metformin (randomisation stratified by metformin use; abstract); ETD of SC
    semaglutide 1.0 mg vs placebo −1.6 % (95 % CI −1.8 to −1.3). Baseline HbA1c 7.9 % (Table 2: week-26
    level minus change, both arms). Inclusion range 7.0–9.5 % and the share on metformin were not in the
    text read [U], so the simulated effect must fall inside the CI in *both* strata (diet only; metformin
    2000 mg/day background), which covers any mixing share.
    Not used for fitting (semaglutide was fitted to SUSTAIN-1)."""
    sema = lambda: [GLP1RA("semaglutide", 1.0)]  # noqa: E731
    diet = trial_cohort(N, 81, 7.8, 0.7, (7.0, 9.5)).cohort
    met = on_background(trial_cohort(N, 82, 8.7, 0.8, (7.0, 11.0)).cohort, [Metformin(2000.0)], 365)
    h = met.state.hba1c_pct
    met = met.select(np.nonzero((h >= 7.0) & (h <= 9.5))[0])
    for name, cohort, background in (("diet", diet, lambda: ()), ("metformin", met, lambda: [Metformin(2000.0)])):
        assert 7.7 < float(np.mean(cohort.state.hba1c_pct)) < 8.1, name
        r = placebo_adjusted(cohort, sema, 182, background)
        assert -1.8 < r.diff_hba1c < -1.3, (name, r.diff_hba1c)


def test_glp1_lead5_liraglutide_validation():
    """LEAD-5 met+SU (Russell-Jones et al. Diabetologia 52:2046, 2009), abstract (read via PubMed copy,
    PMID 19688338): 26 weeks, liraglutide 1.8 mg/day vs placebo, both on metformin 1 g twice daily +
    glimepiride 4 mg/day; inclusion HbA1c 7.0–10 % (prior combination therapy; 7.5–10 % on prior
    monotherapy); placebo-adjusted HbA1c −1.09 % (95 % CI −1.28 to −0.90). Baseline HbA1c 8.2 % [S: LEAD
    programme overview, P T 35:498 (2010), Table 1, PMC2957743]. Virtual patients: five years on the
    background (metformin 2000 mg + glimepiride 4 mg; D: years on oral agents before the trial, for patients
    with diabetes for ~9 years as in 4-T, median 9 years [V]) from an untreated draw (mean 11.0, SD 1.3 %; 12.2
    with one year on the background before 2026-11-29), then
    screened on 7.0–10 %; the trial's run-in is not modelled (docs give the effect of one). (One year on the
    background, used until the SU recalibration of 2026-11-29, leaves too few patients at 8–10 %: the model's
    HbA1c on metformin + SU is bimodal after one year, responders near 7–8 % and non-responders above 12 %.)
    Not used for fitting (liraglutide was fitted to LEAD-2)."""
    background = lambda: [Metformin(2000.0), Sulfonylurea("glimepiride", 4.0)]  # noqa: E731
    c = on_background(trial_cohort(200, 101, 11.0, 1.3, (8.0, 16.0)).cohort, background(), 5 * 365)
    h = c.state.hba1c_pct
    c = c.select(np.nonzero((h >= 7.0) & (h <= 10.0))[0])
    assert c.n > 150 and 8.0 < float(np.mean(c.state.hba1c_pct)) < 8.4
    r = placebo_adjusted(c, lambda: [GLP1RA("liraglutide", 1.8)], 182, background)
    assert -1.28 < r.diff_hba1c < -0.90, r.diff_hba1c


def test_glp1_sustain1_semaglutide_calibration():
    """SUSTAIN-1 (Sorli et al. Lancet Diabetes Endocrinol 5:251, 2017): drug-naive, baseline HbA1c
    8.1 (SD 0.9) %, FPG 175.7 mg/dL (pooled SUSTAIN Table 1, PMC6099440, read), 30 weeks; placebo-
    adjusted HbA1c −1.43 % (0.5 mg) and −1.53 % (1.0 mg) [S: review table PMC6709822, read]. The 95 %
    CIs could not be checked (tagged U in the reference), so the fitted 1.0-mg value is checked to
    ±0.15 % and the 0.5-mg value (dose shape) to ±0.2 %."""
    c = trial_cohort(N, 31, 8.1, 0.9, (7.0, 10.0)).cohort
    assert abs(float(np.mean(c.state.glucose_mgdl)) - 175.7) < 20.0
    r1 = placebo_adjusted(c, lambda: [GLP1RA("semaglutide", 1.0)], 210)
    r05 = placebo_adjusted(c, lambda: [GLP1RA("semaglutide", 0.5)], 210)
    assert abs(r1.diff_hba1c - (-1.53)) < 0.15, r1.diff_hba1c
    assert abs(r05.diff_hba1c - (-1.43)) < 0.2, r05.diff_hba1c
    # weight: placebo-adjusted −3.56 kg of 91.9 kg (−3.9 %) at 30 weeks [S]; BMI falls accordingly
    dw = np.mean(r1.active["bmi_kg_m2"] / r1.active["bmi0"] - 1.0)
    assert -0.045 < dw < -0.025, dw


def test_sglt2_empareg_mono_calibration_and_extension_validation():
    """EMPA-REG MONO (Roden et al. Lancet Diabetes Endocrinol 1:208, 2013): drug-naive, baseline
    HbA1c 7.9 %, 24 weeks; placebo-adjusted −0.7 (97.5 % CI −0.9 to −0.6) at 10 mg and −0.9 (−1.0 to
    −0.7) at 25 mg (label table, PMC4665046, read) — the 24-week values were used for fitting.
    Validation: the 76-week extension (Roden et al. Cardiovasc Diabetol 14:154, 2015 abstract, read):
    −0.78 % (95 % CI −0.94 to −0.63) at 10 mg and −0.89 % (−1.04 to −0.73) at 25 mg."""
    c = trial_cohort(N, 41, 7.9, 0.9, (7.0, 10.0)).cohort
    for dose, ci24, ci76 in ((10.0, (-0.9, -0.6), (-0.94, -0.63)), (25.0, (-1.0, -0.7), (-1.04, -0.73))):
        r24 = placebo_adjusted(c, lambda d=dose: [SGLT2Inhibitor("empagliflozin", d)], 168)
        r76 = placebo_adjusted(c, lambda d=dose: [SGLT2Inhibitor("empagliflozin", d)], 532)
        assert ci24[0] < r24.diff_hba1c < ci24[1], (dose, r24.diff_hba1c)
        assert ci76[0] < r76.diff_hba1c < ci76[1], (dose, r76.diff_hba1c)
        # urinary glucose excretion within the dapagliflozin dose-ranging range 52-85 g/day
        # (List et al. Diabetes Care 32:650, 2009, abstract) — an independent check of the renal term
        uge = float(np.mean(r24.active["uge_g_per_day"]))
        assert 52.0 < uge < 85.0, uge


def test_sglt2_meal_day_glucosuria_matches_progression_estimate():
    """The meal-model renal modifiers (ke1 up, ke2 down) give a daily urinary glucose loss of the same
    size as the progression model's estimate (within a factor 1.6) on a three-meal day."""
    c = trial_cohort(40, 41, 7.9, 0.9, (7.0, 10.0)).cohort
    drug = SGLT2Inhibitor("empagliflozin", 25.0)
    arm = ArmState(c, [drug])
    advance(arm, 28)
    cho = meal_inputs(1440, [(7 * 60, 45.0), (12 * 60, 70.0), (19 * 60, 70.0)])
    day = run_meal_day(arm, cho)
    uge_meal = day["renal_mg_kg_min"][:, :-1].sum(axis=1) * c.ctx.body_weight_kg / 1000.0  # g/day
    uge_prog = drug.uge_g_per_day(c.ctx, arm.last["glucose_mgdl"])
    ratio = float(np.median(uge_meal / uge_prog))
    assert 1 / 1.6 < ratio < 1.6, ratio


def test_sulfonylurea_causes_more_hypoglycaemia_than_metformin():
    """ADOPT (Kahn et al. NEJM 355:2427, 2006; Herman ADA 2007 abstract): hypoglycaemia 39 % glyburide vs
    12 % metformin — direction only: after 14 weeks on drug, 26 weekly meal-model days with day-to-day
    variability (insulin.run_with_meal_days: carbohydrate and insulin-action variability, keyed per patient
    and week) give more level-1 events (< 70 mg/dL for ≥ 15 min) in the SU arm than in the metformin arm.

    Mechanism: the SU amplifies glucose-stimulated secretion on the way up (K and β_Y above threshold,
    as its ``secretion_mult`` amplifies Ha's ISR in the progression model) and keeps a glucose-independent
    part (Sfix) on the way down, so late post-meal glucose undershoots. Measured (200 patients × 26 meal
    days = 14 patient-years of meal days): glibenclamide 15 mg 5 events in 4 patients (0.35/patient-year,
    none < 54 mg/dL), metformin 2000 mg 0. Before β_Y was amplified above threshold (until 2026-11-29)
    neither arm had any event. Thin in absolute numbers, so only the direction is asserted; the level is
    below ADOPT's (missed or delayed meals and exercise, the usual precipitants, are not modelled)."""
    c = trial_cohort(200, 71, 7.4, 0.6, (6.5, 9.0)).cohort
    events = {}
    for name, therapy in (("su", Sulfonylurea("glibenclamide", 15.0)), ("met", Metformin(2000.0))):
        arm = ArmState(c, [therapy])
        advance(arm, 98)
        events[name] = int(run_with_meal_days(arm, 26, seed=5).hypo.level1.sum())
    assert events["su"] > events["met"], events


@pytest.mark.parametrize(
    ("make", "msg"),
    [
        (lambda: Metformin(-5.0), "dose_mg_per_day must lie in \\[0, 3000\\]"),
        (lambda: Sulfonylurea("tolbutamide", 500.0), "must be one of"),
        (lambda: GLP1RA("semaglutide", 3.0), "dose_mg for semaglutide must lie in \\[0, 2\\]"),
        (lambda: SGLT2Inhibitor("empagliflozin", 50.0), "must lie in \\[0, 25\\]"),
    ],
)
def test_bad_drug_arguments_are_refused(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


def test_sulfonylurea_fixed_secretion_keeps_insulin_up_when_glucose_falls():
    """Mechanism (Proks/Ashcroft: K-ATP closure acts downstream of glucose metabolism): with the same
    patients, a large insulin challenge (40 U s.c. at minute 0, no food, 8 hours) drives glucose into the
    hypoglycaemic range, where the glucose-dependent secretion is fully switched off; the SU arm then keeps
    more secretion at the nadir (its glucose-independent part Sfix does not switch off) and reaches a lower
    nadir. (Above that range the SU and no-drug arms secrete alike, since SU no longer scales the
    bidirectional gain beta_Y; a 4-U challenge, nadir ~144 mg/dL, cannot tell them apart.)"""
    c = trial_cohort(30, 71, 7.4, 0.6, (6.5, 9.0)).cohort
    out, nadir = {}, {}
    for name, therapy in (("su", Sulfonylurea("glibenclamide", 15.0)), ("none", Metformin(0.0))):
        arm = ArmState(c, [therapy])
        ins = np.zeros(480)
        ins[0] = 40.0
        day = run_meal_day(arm, np.zeros(480), ins)
        g = day["plasma_glucose_mgdl"]
        k = np.argmin(g, axis=1)
        nadir[name] = g.min(axis=1)
        out[name] = day["secretion_pmol_kg_min"][np.arange(c.n), k] / day["secretion_pmol_kg_min"][:, 0]
    assert float(np.median(nadir["none"])) < 70.0  # the regime the mechanism is about
    assert np.all(out["su"] > out["none"])
    assert np.all(nadir["su"] <= nadir["none"])
