"""Every protocol in examples/ parses and runs end to end; the default trial (stem cells vs standard care) also
shows each treatment arm's main effect in the direction, and within the range, that the evidence justifies."""

import re
from pathlib import Path

import pytest

from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial
from t2dsim.trial.statistics import analyse_endpoints

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.toml"))
DEFAULT = "stem-cells-vs-standard-care"


def _run(path: Path, n: int):
    protocol = parse_protocol(re.sub(r"(?m)^n = \d+", f"n = {n}", path.read_text()))
    return protocol, run_trial(protocol, chunk_size=64)


def test_there_are_examples():
    assert len(EXAMPLES) >= 2 and DEFAULT in {p.stem for p in EXAMPLES}


CGM_EXAMPLE = "basal-insulin-vs-glp1ra"


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.stem not in (DEFAULT, CGM_EXAMPLE)], ids=lambda p: p.stem)
def test_example_protocol_runs(path):
    """Arms shrunk to 8 patients; each arm yields its primary endpoint at the primary visit. (The default
    protocol is run by test_default_trial_effects_have_the_evidence_direction below and, through the CLI, by
    tests/test_report_browser.py.)"""
    protocol, run = _run(path, 8)
    r = run.results
    primary = protocol.endpoints.primary
    at = r[(r["measure"] == primary.measure) & (r["visit_month"] == primary.visit_month)]
    assert set(at["arm"]) == {a.name for a in protocol.arms}
    assert at["value"].notna().any()


@pytest.fixture(scope="module")
def default_effects():
    """The default protocol at its own size, 200 patients per arm (seeded, deterministic). Effects vs placebo at
    12 months
    are ANCOVA estimates (change from baseline, baseline as covariate) on the model's true values, i.e. without
    the trial's measurement error and dropout, so that the model's effect and not the noise is judged; 200 per
    arm gives SE about 0.06 %-point (HbA1c) and 0.5 U/day (insulin). (60 per arm, SE 0.95 U/day, let the UC-MSC
    insulin CI cross 0 for one cohort draw of the same model: -1.66 (-3.5 to +0.21) U/day.)"""
    protocol, run = _run(EXAMPLES[[p.stem for p in EXAMPLES].index(DEFAULT)], 200)
    assert set(run.results["arm"]) == {a.name for a in protocol.arms}  # the observed trial runs end to end
    eff = analyse_endpoints(run.true_results, [("hba1c_percent", 12), ("insulin_u_per_day", 12)], "placebo")
    out = {(row.arm, row.measure): row for row in eff.itertuples()}
    out["true_results"] = run.true_results
    return out


def test_default_trial_effects_have_the_evidence_direction(default_effects):
    """Directions and ranges, each from stem-cell-evidence.md / stem-cell-trials.csv (shared reference):

    * SC-islets vs placebo, HbA1c: clearly lower (95 % CI below -0.3 %-point, the smallest difference usually
      called clinically relevant) and not lower than -1.81 - 2 SE: -1.81 is the largest SC-islet HbA1c fall
      reported (zimislecel full dose, T1D without own insulin, Reichman 2025 NEJM, secondary summary), where
      the graft had to replace all insulin. Measured (seed 20261129, n = 200, session-12 calibration):
      -1.15 (-1.27 to -1.04).
    * SC-islets vs placebo, insulin dose: clearly lower (CI below 0): zimislecel -92 % (T1D, V), the one T2D
      autologous-islet patient off insulin from week 11 (E-islets, S). No T2D size exists, so none is asserted.
      Measured: -4.7 (-5.9 to -3.6) U/day.
    * UC-MSC vs placebo, insulin dose: clearly lower (CI below 0): T2D MSC trials pooled at 12 months
      -17.8 (-26.4 to -9.2) U/day (DHR-India review, 6 trials, low certainty), all-diabetes pooled
      -14.5 (-19.5 to -9.6), I2 0 % (Kashbour 2025). Measured: -8.7 (-9.8 to -7.5) U/day (session-12 calibration;
      -1.7 with v4's short-lived MSC effect): right direction, CI overlapping the T2D pooled CI, estimate
      outside it (strict xfail below).
    * UC-MSC vs placebo, HbA1c: the evidence justifies no direction at 12 months in T2D. The only placebo-
      controlled T2D MSC-type HbA1c data (Skyler 2015, single dose, week 12) are 0.0 +- 0.25 to -0.3 +- 0.25
      by dose, fading from week 8; the pooled -0.72 (-1.11 to -0.33) of Kashbour 2025 pools T1D with T2D and
      varied regimens (an open question of another issue, not asserted here). Asserted range: from that pooled
      lower limit -1.11 to +0.49, the upper 95 % limit of Skyler's least favourable dose (0.0 + 1.96 x 0.25).
      Measured: -0.97 (-1.09 to -0.86) with the session-12 calibration, whose MSC effect lasts (half-life
      5,100 days, driven by Hu 2016; docs/evidence_synthesis.md); +0.05 (-0.05 to +0.16) with v4's short-lived one.
    The placebo arm is the reference; its own change (usual-care taper plus trial effect) was calibrated to the
    Bhansali 2014 sham arm, so asserting it against that arm would be circular."""
    isl_a1c = default_effects[("sc_islets", "hba1c_percent")]
    assert isl_a1c.ci_high < -0.3 and isl_a1c.estimate >= -1.81 - 2 * isl_a1c.se, isl_a1c
    assert default_effects[("sc_islets", "insulin_u_per_day")].ci_high < 0
    assert default_effects[("uc_msc", "insulin_u_per_day")].ci_high < 0
    msc_a1c = default_effects[("uc_msc", "hba1c_percent")]
    assert -1.11 <= msc_a1c.estimate <= 0.0 + 1.96 * 0.25, msc_a1c


@pytest.mark.xfail(
    strict=True,
    reason="Known gap: the model's UC-MSC insulin sparing at 12 months is -8.7 (-9.8 to -7.5) U/day vs "
    "placebo (session-12 calibration), smaller than the T2D pooled -17.8 (-26.4 to -9.2) U/day (DHR-India "
    "review, 6 trials, low certainty) and the all-diabetes pooled -14.5 (-19.5 to -9.6) (Kashbour 2025); "
    "the CIs overlap, the estimate lies outside.",
)
def test_default_trial_uc_msc_insulin_sparing_reaches_the_pooled_t2d_range(default_effects):
    est = default_effects[("uc_msc", "insulin_u_per_day")].estimate
    assert -26.4 <= est <= -9.2


#: Bhansali et al. 2014 RCT (Cell Transplant; shared reference stem-cell-trials.csv, abstract V), sham arm, n = 10:
#: insulin median 40.5 (IQR 31.8-44.3) -> 27.5 (23.5-33.3) IU/day at 12 months, -32 % in medians. 95 % interval of
#: the end median: SD ~ IQR/1.349 = 7.3, SE of a median ~ 1.2533 x 7.3/sqrt(10) = 2.9, 27.5 +- 1.96 x 2.9 =
#: 21.9-33.1 IU/day, i.e. -18 % to -46 % against the baseline median (within-patient change: the baseline median's
#: own uncertainty is left out). The only stem-cell trial in the reference with a control-arm insulin change.
BHANSALI_SHAM_CHANGE = (-0.46, -0.32, -0.18)


def _median_change(results, arm: str) -> float:
    """Change of the arm's median insulin dose, month 12 vs baseline (the statistic Bhansali 2014 reports)."""
    r = results[(results["measure"] == "insulin_u_per_day") & (results["arm"] == arm)]
    med = r.groupby("visit_month")["value"].median()
    return float(med[12.0] / med[0.0] - 1.0)


def test_default_trial_placebo_insulin_taper_not_faster_than_the_stem_cell_control_arms(default_effects):
    """Issue 15, acceptance 3. The default trial's placebo arm (conduct protocol_taper: down-only, with the day-to-day
    fasting variability of ``fpg_day_cv`` in the readings that trigger cuts) must not lower insulin faster than the
    control arm of the stem-cell trial it cites: its median dose change at 12 months lies between the lower 95 %
    limit of Bhansali 2014's sham arm (-46 %, see BHANSALI_SHAM_CHANGE) and 0 (never intensified). Measured
    (seed 20261129, n = 200 per arm): -15 % (median dose 17.9 -> 15.3 IU/day; mean per-patient change -23 %; mean
    dose 38.1 -> 21.2 IU/day, the highest doses are cut most). Placebo arm alone (experiments/i15/placebo_taper.py):
    median per-patient change -10 % as shipped, 0 % with the day-to-day variability off (mean per-patient -25 % vs
    -12 %): the noise does
    ratchet doses down, by less than the trial's own taper. The cohort is less well controlled than Bhansali's
    (HbA1c 8.7 vs 6.9 %), so less taper is expected."""
    change = _median_change(default_effects["true_results"], "placebo")
    assert BHANSALI_SHAM_CHANGE[0] <= change <= 0.0, change


def test_bhansali_like_sham_arm_insulin_course_within_the_published_interval():
    """Issue 15, acceptance 3, like for like: examples/bmmnc-vs-sham.toml places its cohort at the Bhansali 2014 RCT
    baseline (HbA1c 6.9 %, insulin >= 0.4 IU/kg/day) with the same protocol_taper conduct and day-to-day fasting
    variability; its sham arm's median insulin change at 12 months must lie inside the published sham arm's 95 %
    interval, -46 % to -18 % (BHANSALI_SHAM_CHANGE). Not independent: the trial-participation effect was fitted to
    this sham arm (therapies/stemcells/placebo.py); what it checks is that the example, run through the trial
    engine with noisy SMBG-triggered cuts, does not ratchet below the published course. Measured (n = 100 per
    arm, seed 2014): -38 %."""
    path = EXAMPLES[[p.stem for p in EXAMPLES].index("bmmnc-vs-sham")]
    _, run = _run(path, 100)
    change = _median_change(run.true_results, "sham")
    assert BHANSALI_SHAM_CHANGE[0] <= change <= BHANSALI_SHAM_CHANGE[2], change


@pytest.fixture(scope="module")
def cgm_example_run():
    """examples/basal-insulin-vs-glp1ra.toml at 40 patients per arm (seeded)."""
    return _run(EXAMPLES[[p.stem for p in EXAMPLES].index(CGM_EXAMPLE)], 40)


def test_cgm_example_endpoints_are_analysed(cgm_example_run):
    """Every endpoint of the CGM example gets its ANCOVA, including CGM time below range, whose baseline (before the
    first dose, nobody on insulin) is 0 % for every patient: a constant baseline is left out of the model instead of
    making the design singular (which hid the whole endpoint table of this example's report, 2026-12-06)."""
    from t2dsim.trial.analysis import analyse_run

    protocol, run = cgm_example_run
    analysis = analyse_run(run.results, run.patients, protocol)
    assert "endpoints" not in analysis.problems, analysis.problems
    assert {e.measure for e in protocol.endpoints.secondary} <= set(analysis.endpoints["measure"])


@pytest.fixture(scope="module")
def cgm_example(cgm_example_run):
    """The CGM example's visits, true values: arm means per visit and measure."""
    protocol, run = cgm_example_run
    r = run.true_results
    primary = protocol.endpoints.primary
    at = r[(r["measure"] == primary.measure) & (r["visit_month"] == primary.visit_month)]
    assert set(at["arm"]) == {a.name for a in protocol.arms} and at["value"].notna().all()
    return r.groupby(["arm", "visit_month", "measure"])["value"].mean().unstack()


def _hba1c_minus_gmi(means):
    """Arm-mean HbA1c minus the GMI (Bergenstal 2018: 3.31 + 0.02392 x mean glucose) of the arm-mean CGM glucose."""
    return means["hba1c_percent"] - (3.31 + 0.02392 * means["cgm_mean_glucose_mgdl"])


def test_cgm_example_hba1c_and_gmi_tell_one_glucose_truth(cgm_example):
    """Issue 15, acceptance 1, at every CGM visit (months 0, 3, 6, 12): each arm's mean HbA1c and the GMI of its mean
    CGM glucose agree within 0.3 %-points. The example drives glycation by weekly meal-model days (glycation =
    "meal_days") through the 100-day red-cell window (physiology.glycation.WindowedHbA1c, Tahara & Shima 1995); at
    month 0 HbA1c is the screened (progression-model) value and the CGM is measured before the first dose. Measured
    here (40 per arm): glargine -0.20 / +0.16 / +0.10 / +0.06, semaglutide -0.15 / +0.13 / +0.08 / +0.06; at 150 per
    arm (experiments/i15/one_truth_example.py) -0.19 / +0.16 / +0.10 / +0.04 and -0.15 / +0.14 / +0.09 / +0.06.
    Month 3 missed with the first-order 30-day half-life filter used before 2026-12-06 (+0.302 / +0.305 at 150 per
    arm): its exponential tail kept 12.5 % of the weight beyond 90 days (docs/glucose_truth.md)."""
    d = _hba1c_minus_gmi(cgm_example)
    assert len(d) == 8 and (d.abs() < 0.3).all(), d.round(3).to_dict()
