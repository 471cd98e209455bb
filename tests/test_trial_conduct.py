"""Trial conduct as named settings of ``standard_care`` (issue 14): each case states the conduct its paper reports."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.specs import build_therapy, parse_spec
from t2dsim.therapies.usual_care import CONDUCTS


def _ctx(dose: float, n: int = 20) -> PatientContext:
    return PatientContext(
        n=n, body_weight_kg=np.full(n, 80.0), age_years=np.full(n, 55.0), female=np.zeros(n, bool), seed=1,
        covariates={"insulin_dose_u_per_day": np.full(n, dose), "insulin_scale": np.ones(n)},
    )  # fmt: skip


def test_named_conducts_carry_their_published_values():
    g = parse_spec({"kind": "standard_care"}).settings()
    # Riddle 2003 Table 1: target FPG <= 100 mg/dL, no increase after a glucose < 72 mg/dL
    assert g.name == "guideline_treat_to_target"
    assert (g.target_fpg_mgdl, g.intensify, g.documented_low_mgdl) == (100, True, 72)
    t = parse_spec({"kind": "standard_care", "conduct": "protocol_taper"}).settings()
    # ADA preprandial goal 80-130 mg/dL (upper end), level-1 hypoglycaemia < 70 mg/dL; never intensified
    assert (t.target_fpg_mgdl, t.intensify, t.documented_low_mgdl) == (130, False, 70)
    assert all(c.source for c in CONDUCTS.values())
    o = parse_spec({"kind": "standard_care", "conduct": "protocol_taper", "target_fpg_mgdl": 120}).settings()
    assert o.target_fpg_mgdl == 120 and not o.intensify  # explicit fields override the conduct


def test_taper_never_raises_a_dose_and_guideline_follows_riddle():
    hot = {"glucose_mgdl": np.full(20, 300.0)}  # far above either target
    doses = {}
    for conduct in CONDUCTS:
        ins = build_therapy({"kind": "standard_care", "conduct": conduct})
        ctx = _ctx(30.0)
        ins.setup(ctx)
        ins.observe(ctx, 7, hot)
        doses[conduct] = ins.dose_u
    assert np.all(doses["protocol_taper"] <= 30.0)
    # Riddle 2003 Table 1: mean FPG >= 180 mg/dL -> +8 IU/day at the weekly visit
    np.testing.assert_allclose(doses["guideline_treat_to_target"], 38.0)


def test_unknown_conduct_is_refused_with_the_field_named():
    with pytest.raises(ValueError, match=r"standard_care.conduct"):
        parse_spec({"kind": "standard_care", "conduct": "aggressive"})
    with pytest.raises(ValueError, match=r"standard_care.documented_low_mgdl.*allowed range \[50, 90\]"):
        parse_spec({"kind": "standard_care", "documented_low_mgdl": 20})
