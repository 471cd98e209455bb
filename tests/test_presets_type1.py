"""The ``type-1`` preset (issue 14): T1D virtual patients for the islet-transplant and SC-islet cases, usable by
any protocol."""

from __future__ import annotations

import numpy as np

from t2dsim.population.presets import make_cohort
from t2dsim.population.screening import fasting_cpeptide, screen
from t2dsim.trial.protocol import parse_protocol

#: Hering et al. (CIT-07), Diabetes Care 39:1230, 2016, inclusion: absent stimulated C-peptide, < 0.3 ng/mL
#: (× 331 pmol/L per ng/mL); the preset's patients must be below it even fasting.
CPEPTIDE_ABSENT_PMOL_L = 0.3 * 331.0


def test_type_1_patients_have_no_own_insulin_and_sit_at_their_drawn_hba1c():
    c = make_cohort("type-1", 120, seed=4)
    assert (fasting_cpeptide(c) < CPEPTIDE_ABSENT_PMOL_L).all()
    assert (c.background_effects.exog_insulin_uuml > 0).all()  # every patient on insulin
    # HbA1c placed at the drawn N(7.5, 0.6) clipped 6.5-10 (the preset's stated distribution): mean within 0.15,
    # SD within 15 % at n = 120 (sampling SE of the mean 0.055)
    a1c = c.state.hba1c_pct
    assert abs(a1c.mean() - 7.5) < 0.15 and abs(a1c.std() / 0.6 - 1) < 0.15


def test_type_1_patients_are_keyed_by_id():
    a = make_cohort("type-1", 10, seed=9, first_id=5)
    b = make_cohort("type-1", 4, seed=9, first_id=8)
    np.testing.assert_array_equal(a.state.to_matrix()[3:7], b.state.to_matrix())


def test_a_protocol_screens_type_1_patients():
    p = parse_protocol(
        """
duration_months = 3
visit_months = [0, 3]
[population]
preset = "type-1"
[population.inclusion]
insulin_use = "required"
hba1c_percent = { max = 9.0 }
[[arms]]
name = "a"
n = 12
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 3
"""
    )
    c, base, scr = screen(p, 12, 1)
    assert scr["preset"] == "type-1" and (base["insulin_use"] == "yes").all()
    assert (base["hba1c_percent"] <= 9.0).all() and c.n == 12


def test_islet_graft_in_a_type1_protocol_is_built_for_type1():
    """An autologous graft in the type-1 preset without immunosuppression meets T1D autoimmunity (the graft
    model's autologous_t1d_none setting), not the T2D setting a T2D cohort gets."""
    from t2dsim.core.registry import BuildContext
    from t2dsim.therapies.specs import build_arm
    from t2dsim.therapies.stemcells.specs import IsletGraftSpec
    from t2dsim.trial.protocol import parse_protocol
    from t2dsim.trial.runner import diabetes_type

    spec = IsletGraftSpec(kind="islet_graft", source="autologous_ipsc", immunosuppression=False)
    t1 = build_arm([spec], BuildContext(duration_days=365, diabetes_type="t1d"), "graft")[0]
    t2 = build_arm([spec], BuildContext(duration_days=365), "graft")[0]
    assert t1.setting == "autologous_t1d_none" and t2.setting == "autologous_t2d"
    text = """
name = "t1"
duration_months = 3
visit_months = [0, 3]
measurements = ["hba1c_percent"]
[population]
preset = "PRESET"
[[arms]]
name = "a"
n = 4
treatment = [{ kind = "islet_graft" }]
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 3
"""
    assert diabetes_type(parse_protocol(text.replace("PRESET", "type-1"))) == "t1d"
    assert diabetes_type(parse_protocol(text.replace("PRESET", "insulin-requiring"))) == "t2d"


def test_type_1_patients_have_no_stimulated_cpeptide_response():
    """CIT-07's inclusion (above) is about *stimulated* C-peptide: an MMTT of the preset's patients on their usual
    insulin must peak below 0.3 ng/mL. The meal model's secretion gains fall linearly to 0 below 0.1 of the T2D
    anchor's capacity (coupling.CAPACITY_FLOOR): highest peak 8.8 pmol/L; with capacity**0.35 all the way down (floor
    1e-9) it is 172.8 pmol/L in this cohort, above the threshold (measured 2026-12-06)."""
    from t2dsim.engine import ArmState, Cohort, run_meal_day
    from t2dsim.simulate import meal_inputs, mmtt_cho_g
    from t2dsim.therapies.base import PatientContext

    c = make_cohort("type-1", 40, seed=4)
    ctx = PatientContext(n=c.n, body_weight_kg=np.full(c.n, 75.0), age_years=c.age_years, female=np.zeros(c.n, bool))
    arm = ArmState(Cohort(c.params, c.state, ctx, c.bmi_kg_m2, np.full(c.n, 172.0)), [])
    grams = float(mmtt_cho_g(75.0))
    res = run_meal_day(arm, meal_inputs(240, [(0, grams)], rate_g_per_min=grams / 5.0))
    peak = res["cpeptide_pmol_l"].max(axis=1)
    assert (peak < CPEPTIDE_ABSENT_PMOL_L).all(), float(peak.max())
