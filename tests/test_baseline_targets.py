"""Baseline targets (issue 14): a protocol requests baseline distributions on any preset and the enrolled cohort
holds them. Acceptance: achieved means within 0.1 requested SD and SDs within 10 % of the request; the report
shows the request beside the achievement. Expected values are the protocol's own requests (independent of the
code); tolerances are the issue's acceptance."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.population.baseline_targets import target_moments
from t2dsim.population.screening import screen
from t2dsim.report.html import build_report_html
from t2dsim.trial.analysis import analyse_run
from t2dsim.trial.protocol import ProtocolError, parse_protocol
from t2dsim.trial.runner import run_trial

_TEMPLATE = """
name = "targets"
duration_months = 3
visit_months = [0, 3]
[population]
preset = "{preset}"
{extra}
[population.distributions]
{dists}
[[arms]]
name = "a"
n = {n}
[[arms]]
name = "b"
n = {n}
[randomisation]
seed = 11
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 3
"""


def _protocol(preset: str, dists: str, n: int, extra: str = ""):
    return parse_protocol(_TEMPLATE.format(preset=preset, dists=dists, n=n, extra=extra))


@pytest.fixture(scope="module")
def newly_diagnosed_run():
    # HbA1c above the preset's (newly-diagnosed: median ≈ 6.9 %, SD ≈ 1.1) and BMI above its 28 kg/m²
    p = _protocol(
        "newly-diagnosed",
        'hba1c_percent = { dist = "normal", mean = 7.4, sd = 0.8, low = 6.0, high = 10.0 }\n'
        'bmi_kg_m2 = { dist = "normal", mean = 30.0, sd = 4.0 }',
        60,
    )
    run = run_trial(p)
    return p, run


def test_requested_means_and_sds_are_achieved_and_reported(newly_diagnosed_run):
    p, run = newly_diagnosed_run
    pts = run.patients
    assert len(pts) == 120
    for name, d in p.population.baseline_targets.items():
        m, s = target_moments(d)  # mean/SD of the requested (truncated) normal
        x = pts[name].to_numpy(float)
        assert abs(x.mean() - m) <= 0.1 * s, name
        assert abs(x.std(ddof=1) / s - 1.0) <= 0.10, name
    # the untruncated BMI request is the protocol's numbers themselves
    assert target_moments(p.population.baseline_targets["bmi_kg_m2"]) == pytest.approx((30.0, 4.0), rel=1e-3)
    # the baseline visit is the enrolled baseline (true values)
    t = run.true_results
    v0 = t[(t["measure"] == "hba1c_percent") & (t["visit_month"] == 0)].set_index("patient_id")["value"]
    np.testing.assert_allclose(v0.loc[pts["patient_id"]].to_numpy(), pts["hba1c_percent"].to_numpy())
    a = analyse_run(run.results, run.patients, p)
    tab = a.baseline_targets.set_index("covariate")
    assert set(tab.index) == {"hba1c_percent", "bmi_kg_m2"} and tab["within tolerance"].all()
    html = build_report_html(run.results, run.patients, p, analysis=a)
    assert "Requested vs achieved baseline" in html and "hba1c_percent" in html


def test_matching_is_deterministic_and_keyed_by_patient():
    p = _protocol("newly-diagnosed", 'bmi_kg_m2 = { dist = "normal", mean = 31.0, sd = 3.0 }', 15)
    c1, b1, _ = screen(p, 30, 5)
    c2, b2, _ = screen(p, 30, 5)
    np.testing.assert_array_equal(b1["patient_id"], b2["patient_id"])
    np.testing.assert_array_equal(c1.patient_id, b1["patient_id"])


def test_insulin_treated_cohort_is_placed_at_a_lower_hba1c():
    """Bhansali 2014 RCT baseline HbA1c median 6.9 %, inclusion < 7.5 % (Cell Transplant 2014, abstract; the SD
    0.3 is a design choice, data/validation/stem_cells/
    bhansali2014_rct.toml). The insulin-requiring preset sits at 8.5 ± 0.5 % (7.5-10),
    so no selection could reach it: the background insulin is re-titrated per patient."""
    p = _protocol(
        "insulin-requiring",
        'hba1c_percent = { dist = "normal", mean = 6.9, sd = 0.3, low = 6.0, high = 7.5 }',
        15,
        extra="baseline_pool_factor = 2",
    )
    c, base, _ = screen(p, 30, 2)
    m, s = target_moments(p.population.baseline_targets["hba1c_percent"])
    assert abs(base["hba1c_percent"].mean() - m) <= 0.1 * s
    assert abs(base["hba1c_percent"].std(ddof=1) / s - 1.0) <= 0.10
    np.testing.assert_allclose(c.state.hba1c_pct, base["hba1c_percent"])
    assert (base["insulin_u_per_day"] > 0).all()  # still on background insulin


def test_targets_refused_with_the_field_named():
    with pytest.raises(ProtocolError, match=r"population.distributions.hba1c_percent.dist.*needs a spread"):
        _protocol("newly-diagnosed", 'hba1c_percent = { dist = "fixed", value = 7.0 }', 5)
    p = _protocol("newly-diagnosed", 'weight_kg = { dist = "normal", mean = 80, sd = 10 }', 5)
    with pytest.raises(ValueError, match=r"population.distributions.weight_kg: not supported"):
        screen(p, 10, 1)
