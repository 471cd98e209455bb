"""The prior file of the stem-cell calibration (issue 16): parses, covers every fitted parameter exactly once,
cites no scored trial, keeps the durability priors wide, and refuses malformed entries naming the field."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from t2dsim.calibration.beta_replacement import ISLET_THETA
from t2dsim.calibration.evidence_roles import evidence_roles, scored_ids
from t2dsim.calibration.fit import theta_names
from t2dsim.calibration.priors import (
    check_against_evidence,
    load_priors,
    log_prior_arrays,
    prior_table_markdown,
    priors,
    priors_of_set,
)


def test_file_parses_and_every_entry_is_complete():
    table = priors()
    assert table, "no priors"
    for p in table:
        assert p.source and p.width and p.replaces and p.unit, p.name


@pytest.mark.parametrize(
    ("pset", "names"),
    [("THETA", theta_names()), ("ISLET_THETA", list(ISLET_THETA))],
)
def test_every_fitted_parameter_has_exactly_one_prior(pset, names):
    got = [p.name for p in priors() if p.set == pset]
    assert sorted(got) == sorted(names), f"{pset}: priors {sorted(got)} vs fitted {sorted(names)}"
    assert len(got) == len(set(got))
    mu, sd = log_prior_arrays(pset, names)
    assert mu.shape == sd.shape == (len(names),) and np.all(sd > 0)


def test_no_prior_cites_a_scored_trial():
    check_against_evidence()
    banned = scored_ids()
    for p in priors():
        assert not set(p.trials) & banned, p.name


@pytest.mark.parametrize("trial", ["skyler2015_w8", "bhansali2017_scd", "kashbour2025_ma"])
def test_a_prior_citing_a_scored_trial_is_refused(trial):
    # skyler2015_w8: a fit row; bhansali2017_scd: excluded itself but a listed member of the pooled MSC check;
    # kashbour2025_ma: the pooled check
    planted = list(priors())
    planted[0] = replace(planted[0], trials=(trial,))
    with pytest.raises(ValueError, match=rf"{planted[0].name}.*'trials'.*{trial}"):
        check_against_evidence(planted)


def test_a_bias_term_without_prior_is_refused():
    without = [p for p in priors() if p.name != "bias.uncontrolled_hba1c_pct"]
    with pytest.raises(ValueError, match="bias_term.*bias.uncontrolled_hba1c_pct"):
        check_against_evidence(without)


def test_scored_rows_cover_every_target_of_the_current_calibration():
    """A trial the calibration scores must be marked scored, else a prior could cite it unnoticed."""
    from t2dsim.calibration.beta_replacement import beta_targets
    from t2dsim.calibration.evidence import T2D_CASES, t2d_targets

    banned = scored_ids()
    assert {t.source_id for t in t2d_targets()} <= banned
    scored_cases = {r.case for r in evidence_roles().values() if r.scored}
    assert set(T2D_CASES) | {"hu2016"} <= scored_cases
    assert {t.case for t in beta_targets()} <= scored_cases


def test_durability_priors_let_the_data_decide():
    """Issue 16: the MSC half-life prior must span weeks to years (the old 28-56 days ruled out a lasting
    effect); BM-MNC effect loss and graft failure likewise cover months to many years."""
    by = priors_of_set("THETA")
    lo, hi = by["msc.half_life_days"].interval()
    assert lo < 14 and hi > 2 * 365
    lo, hi = by["bmmnc.half_life_days"].interval()
    assert lo < 60 and hi > 5 * 365
    lo, hi = priors_of_set("ISLET_THETA")["failure_per_year.allogeneic_immunosuppressed"].interval()
    assert math.log(2) / hi < 3 and math.log(2) / lo > 20  # median graft survival from < 3 to > 20 years


def test_densities_match_scipy():
    """Log densities against SciPy's own parametrisations (independent formulas)."""
    by = {p.name: p for p in priors()}
    p = by["msc.half_life_days"]
    x = np.array([5.0, 60.0, 900.0])
    want = stats.lognorm.logpdf(x, s=p.spread, scale=p.centre)
    np.testing.assert_allclose(p.logpdf(x), want, rtol=1e-12)
    assert p.interval() == pytest.approx(stats.lognorm.ppf([0.025, 0.975], s=p.spread, scale=p.centre), rel=1e-9)
    q = by["bias.uncontrolled_hba1c_pct"]
    np.testing.assert_allclose(q.logpdf(x - 60), stats.norm.logpdf(x - 60, q.centre, q.spread), rtol=1e-12)
    r = by["msc.persistent_fraction"]  # a logit-normal density integrates to 1 on (0, 1)
    total, _ = integrate.quad(lambda u: float(np.exp(r.logpdf(u))), 0, 1, points=[r.centre], limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)
    assert r.logpdf(1.5) == -np.inf and p.logpdf(-1.0) == -np.inf


def test_table_prints_every_prior():
    md = prior_table_markdown()
    for p in priors():
        assert f"`{p.name}`" in md


_GOOD = """
[[prior]]
set = "THETA"
name = "msc.emax_si"
distribution = "lognormal"
median = 0.25
log_sd = 1.0
unit = "fraction"
tag = "H"
source = "s"
width = "w"
trials = []
references = []
replaces = "r"
"""


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("log_sd = 1.0", "log_sd = -1.0"), "log_sd"),
        (("median = 0.25", "median = 0.0"), "median"),
        (('tag = "H"', 'tag = "maybe"'), "tag"),
        (('source = "s"', 'source = ""'), "source"),
        (("trials = []", 'trials = ["no_such_trial"]'), "trials"),
        (('replaces = "r"', 'replaces = "r"\nsd = 3.0'), "sd"),
        (('set = "THETA"', 'set = "OTHER"'), "set"),
        (('distribution = "lognormal"', 'distribution = "gamma"'), "distribution"),
    ],
)
def test_malformed_prior_is_refused_naming_the_field(tmp_path: Path, edit, field):
    assert load_priors(_write(tmp_path, _GOOD))[0].name == "msc.emax_si"
    bad = _GOOD.replace(*edit)
    with pytest.raises(ValueError, match=f"field '{field}'"):
        load_priors(_write(tmp_path, bad))


def test_duplicate_prior_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="declared twice"):
        load_priors(_write(tmp_path, _GOOD + _GOOD))


def test_missing_prior_for_a_fitted_parameter_is_an_error(tmp_path: Path):
    table = load_priors(_write(tmp_path, _GOOD))
    with pytest.raises(KeyError, match="msc.half_life_days"):
        log_prior_arrays("THETA", ["msc.emax_si", "msc.half_life_days"], table)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "priors.toml"
    path.write_text(text)
    return path


def test_the_fits_read_their_priors_from_the_file_only():
    # one set of priors: THETA / ISLET_THETA carry names only, the medians and SDs come from priors.toml
    from t2dsim.calibration.beta_replacement import islet_prior_log
    from t2dsim.calibration.fit import THETA, prior_log

    assert all(len(t) == 2 for t in THETA) and all(isinstance(t, str) for t in ISLET_THETA)
    mu, sd = prior_log()
    hl = priors_of_set("THETA")["msc.half_life_days"]
    i = theta_names().index("msc.half_life_days")
    assert mu[i] == pytest.approx(np.log(hl.centre)) and sd[i] == hl.spread
    mu_i, sd_i = islet_prior_log()
    mat = priors_of_set("ISLET_THETA")["maturation_days.sc_islet"]
    j = list(ISLET_THETA).index("maturation_days.sc_islet")
    assert mu_i[j] == pytest.approx(np.log(mat.centre)) and sd_i[j] == mat.spread
