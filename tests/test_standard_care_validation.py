"""Standard-care validation through protocol files (issue 14 acc. 4, issue 15 acc. 2): the protocols in
t2dsim/data/validation/standard_care run by the trial runner and compared with the published values of observed.csv
(sources and CI rules in that file and in docs/standard_care.md, "Validation rule (committed before the run)").
Small arms here; the table in the docs is made by `t2dsim validate-standard-care` at full size."""

from __future__ import annotations

import math
from importlib import resources

import pytest
from typer.testing import CliRunner

from t2dsim.calibration.standard_care import _verdict, observed_table, protocol_path, validate_standard_care
from t2dsim.cli import app
from t2dsim.trial.protocol import load_protocol


def test_observed_cis_follow_the_committed_rule():
    """The CI formulas of the rule, on two rows whose inputs are in the papers: DeFronzo 1995 end HbA1c 7.1 ± 0.1 %
    (mean ± SE, abstract) → 7.1 ± 1.96·0.1; LEAD-3 liraglutide 1.8 mg vs glimepiride ETD −0.62 % (95 % CI −0.83 to
    −0.42, abstract), arms 249/248 → arm SD (0.205/1.96)/√(1/249 + 1/248) ≈ 1.17 %, arm change ± 1.96·SD/√249."""
    t = observed_table().set_index(["protocol", "arm", "quantity"])
    d = t.loc[("defronzo1995", "metformin", "hba1c_percent")]
    assert (d.end_lo, d.end_hi) == pytest.approx((7.1 - 0.196, 7.1 + 0.196), abs=1e-3)
    lead3 = t.loc[("lead3", "lira18", "hba1c_percent")]
    sd = (0.205 / 1.96) / math.sqrt(1 / 249 + 1 / 248)
    assert 1.1 < sd < 1.25
    assert lead3.change_hi - lead3.change == pytest.approx(1.96 * sd / math.sqrt(249), abs=1e-3)


def test_hypoglycaemia_rows_follow_the_committed_rule():
    """Event rates and shares by the rule of commit 840bf04: 4-T basal arm 2.3 events/patient-year at 1 year
    (NEJM 2007 abstract), arm n 234 → 2.3 ± 1.96·√(2.3/(234·1)); LEAD-2 glimepiride minor hypoglycaemia 17 % of 242
    (abstract) → 17 ± 1.96·√(0.17·0.83/242)·100. Shares the trial runner does not produce are counted as misses."""
    t = observed_table().set_index(["protocol", "arm", "quantity"])
    r = t.loc[("fourt_basal", "basal", "hypo_documented_per_patient_year")]
    h = 1.96 * math.sqrt(2.3 / 234)
    assert (r.end_lo, r.end_hi) == pytest.approx((2.3 - h, 2.3 + h), abs=1e-3)
    g = t.loc[("lead2", "glimepiride", "hypo_minor_share_percent")]
    h = 100 * 1.96 * math.sqrt(0.17 * 0.83 / 242)
    assert (g.end_lo, g.end_hi) == pytest.approx((17 - h, 17 + h), abs=1e-2)
    assert _verdict(math.nan, math.nan, g.end_lo, g.end_hi) == "miss (not modelled)"
    assert _verdict(17.0, 0.1, g.end_lo, g.end_hi) == "pass"


def test_every_protocol_file_has_observed_rows_for_its_arms():
    """Each protocol is a valid `t2dsim trial` file and every observed row names one of its arms."""
    obs = observed_table()
    folder = resources.files("t2dsim.data").joinpath("validation", "standard_care")
    names = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))
    assert names == sorted(set(obs["protocol"]))
    for name in names:
        arms = {a.name for a in load_protocol(protocol_path(name)).arms}
        assert set(obs.loc[obs["protocol"] == name, "arm"]) <= arms, name


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="unknown standard-care protocol"):
        validate_standard_care(["no-such-trial"])
    r = CliRunner().invoke(app, ["validate-standard-care", "--only", "no-such-trial"])
    assert r.exit_code != 0 and "no-such-trial" in r.output and "sustain10" in r.output


@pytest.mark.xfail(
    strict=True,
    reason="known validation failure, named cause (docs/standard_care.md, cause D): the two calibration targets "
    "are inconsistent with this head-to-head trial. Semaglutide is fitted on SUSTAIN-1 (1.0 mg vs placebo −1.53 %) "
    "and liraglutide on LEAD-2 (1.2 mg vs placebo −1.1 %): a model reproducing both exactly implies a difference "
    "of −0.43 %, outside SUSTAIN-10's CI (−0.82 to −0.56); the model's glucose-dependent secretion term shrinks "
    "it further to about −0.3 % at the lower glucose of a metformin population.",
)
def test_sustain10_semaglutide_vs_liraglutide():
    """SUSTAIN-10 (Capehorn et al. Diabetes Metab 46:100, 2020) abstract: semaglutide 1.0 mg vs liraglutide 1.2 mg on
    1-3 oral drugs, baseline 8.2 %, 30 weeks: ETD −0.69 % (95 % CI −0.82 to −0.56). Used for no fit. The protocol
    file (metformin background with a 12-month run-in) at a third of its size, ~50 patients per arm: MC SE of the
    difference ~0.07 %."""
    t = validate_standard_care(["sustain10"], n_scale=1 / 3).set_index("arm")["sim_change"]
    etd = t["sema1"] - t["lira12"]
    assert -0.82 < etd < -0.56, etd
