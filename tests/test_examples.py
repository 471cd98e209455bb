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


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.stem != DEFAULT], ids=lambda p: p.stem)
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
    return {(row.arm, row.measure): row for row in eff.itertuples()}


def test_default_trial_effects_have_the_evidence_direction(default_effects):
    """Directions and ranges, each from stem-cell-evidence.md / stem-cell-trials.csv (shared reference):

    * SC-islets vs placebo, HbA1c: clearly lower (95 % CI below -0.3 %-point, the smallest difference usually
      called clinically relevant) and not lower than -1.81 - 2 SE: -1.81 is the largest SC-islet HbA1c fall
      reported (zimislecel full dose, T1D without own insulin, Reichman 2025 NEJM, secondary summary), where
      the graft had to replace all insulin. Measured (seed 20261129, n = 200): -1.27 (-1.38 to -1.17).
    * SC-islets vs placebo, insulin dose: clearly lower (CI below 0): zimislecel -92 % (T1D, V), the one T2D
      autologous-islet patient off insulin from week 11 (E-islets, S). No T2D size exists, so none is asserted.
      Measured: -4.3 (-5.4 to -3.3) U/day.
    * UC-MSC vs placebo, insulin dose: clearly lower (CI below 0): T2D MSC trials pooled at 12 months
      -17.8 (-26.4 to -9.2) U/day (DHR-India review, 6 trials, low certainty), all-diabetes pooled
      -14.5 (-19.5 to -9.6), I2 0 % (Kashbour 2025). Measured: -1.7 (-2.7 to -0.6) U/day: right direction, but
      smaller than either pooled CI (strict xfail below).
    * UC-MSC vs placebo, HbA1c: the evidence justifies no direction at 12 months in T2D. The only placebo-
      controlled T2D MSC-type HbA1c data (Skyler 2015, single dose, week 12) are 0.0 +- 0.25 to -0.3 +- 0.25
      by dose, fading from week 8; the pooled -0.72 (-1.11 to -0.33) of Kashbour 2025 pools T1D with T2D and
      varied regimens (an open question of another issue, not asserted here). Asserted range: from that pooled
      lower limit -1.11 to +0.49, the upper 95 % limit of Skyler's least favourable dose (0.0 + 1.96 x 0.25).
      Measured: +0.05 (-0.05 to +0.16).
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
    reason="Known gap: the model's UC-MSC insulin sparing at 12 months is -1.7 (-2.7 to -0.6) U/day vs "
    "placebo, smaller than the T2D pooled -17.8 (-26.4 to -9.2) U/day (DHR-India review, 6 trials, low "
    "certainty) and the all-diabetes pooled -14.5 (-19.5 to -9.6) (Kashbour 2025); the trial effect in the "
    "placebo arm already removes most insulin in this model (usual-care taper).",
)
def test_default_trial_uc_msc_insulin_sparing_reaches_the_pooled_t2d_range(default_effects):
    est = default_effects[("uc_msc", "insulin_u_per_day")].estimate
    assert -26.4 <= est <= -9.2
