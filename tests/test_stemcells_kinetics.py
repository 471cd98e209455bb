"""Stem-cell therapy kinetics and therapies: checks against analytic values and published numbers."""

import numpy as np
import pytest

from t2dsim.therapies.base import PatientContext, combine_effects
from t2dsim.therapies.stemcells import (
    UNREGULATED_CLINIC_WARNING,
    BMMNCTherapy,
    IsletGraft,
    MSCTherapy,
    PlaceboTrialEffect,
    TissueRegeneration,
    regeneration_hazard_modifiers,
)
from t2dsim.therapies.stemcells.kinetics import (
    IEQ_VOLUME_MM3,
    bateman,
    cells_to_beta_mg,
    ieq_to_beta_mg,
    infusion_activity,
    weibull_maturation,
)
from t2dsim.therapies.stemcells.params import IsletParams, MSCParams


def _ctx(n=6, seed=3):
    return PatientContext(
        n=n, body_weight_kg=np.full(n, 80.0), age_years=np.full(n, 55.0), female=np.zeros(n, bool), seed=seed
    )


def test_bateman_peak_and_half_life_analytic():
    # peak normalised to 1 at t* = ln(ka/kd)/(ka-kd); decays with the stated half-life long after the peak
    onset, hl = 7.0, 42.0
    kd, ka = np.log(2) / hl, 1 / onset
    tpk = np.log(ka / kd) / (ka - kd)
    assert bateman(tpk, onset, hl) == pytest.approx(1.0, abs=1e-12)
    t = np.array([200.0, 242.0])
    b = bateman(t, onset, hl)
    assert b[1] / b[0] == pytest.approx(0.5, rel=1e-6)  # exp(-ka t) negligible at 200 d
    assert bateman(-1.0, onset, hl) == 0.0


def test_ieq_conversion_matches_pisania_2010():
    # Pisania et al. Lab Invest 2010: 1 IEQ = 150-µm sphere; β cells 61.2 % of islet volume; 1140 β cells/IEQ
    vol = 4 / 3 * np.pi * 0.075**3
    assert IEQ_VOLUME_MM3 == pytest.approx(vol)
    assert ieq_to_beta_mg(1e6) == pytest.approx(0.612 * vol * 1e6, rel=0.01)  # mg at density 1 mg/mm³
    assert cells_to_beta_mg(1140, 1.0) * 1e3 == pytest.approx(ieq_to_beta_mg(1) * 1e3, rel=0.01)


def test_single_msc_dose_fades_and_repeated_dosing_holds():
    p = MSCParams(half_life_days=42.0, onset_days=7.0)
    days = np.arange(0, 365)
    single = infusion_activity(days, [0], [0.5], p.onset_days, p.half_life_days)
    monthly = infusion_activity(days, np.arange(0, 365, 28), [0.5], p.onset_days, p.half_life_days)
    peak = single.max()
    assert 7 <= single.argmax() <= 21  # effect builds over 1-3 weeks (Lian 2022: FPG lower by day 14)
    # fades: at 12 weeks (Skyler 2015 last visit) below the week-8 value, at 6 months < 25 % of peak
    assert single[84] < single[56] < peak
    assert single[182] < 0.25 * peak
    # repeated monthly dosing holds the activity at or above the single-dose peak through a year
    assert monthly[28:].min() >= 0.9 * peak
    assert monthly.max() < 1.0  # saturates


def test_msc_effects_and_risks():
    ctx = _ctx()
    m = MSCTherapy(2e6, [0], "MPC", params=MSCParams())
    e = m.daily_effects(ctx, np.array([0.0, 14.0, 365.0]))
    assert np.all(e["si_mult"][:, 0] == 1.0) and np.all(e["si_mult"][:, 1] > 1.0)
    assert np.all(e["si_mult"][:, 2] < e["si_mult"][:, 1])
    assert np.all(e["beta_protect"] == 0.0)  # default: no β-cell protection (largest RCT)
    assert UNREGULATED_CLINIC_WARNING in m.risks
    assert any("fever" in r.name for r in m.risks)
    arterial = MSCTherapy(1e6, [0], "WJ-MSC", route="pancreatic_artery")
    assert len(arterial.risks) > len(m.risks)
    with pytest.raises(ValueError, match="cells/kg"):
        MSCTherapy(1e9, [0])
    with pytest.raises(ValueError, match="product"):
        MSCTherapy(1e6, [0], "stem-juice")


def test_msc_response_is_keyed_per_patient():
    # the same patient gets the same response whatever the cohort it is simulated in
    a = MSCTherapy(1e6, [0])
    b = MSCTherapy(1e6, [0])
    ctx_a = _ctx(6)
    ctx_b = PatientContext(
        n=2,
        body_weight_kg=np.full(2, 80.0),
        age_years=np.full(2, 55.0),
        female=np.zeros(2, bool),
        seed=3,
        patient_ids=np.array([4, 5]),
    )
    ea = a.daily_effects(ctx_a, np.array([20.0]))["si_mult"][4:, 0]
    eb = b.daily_effects(ctx_b, np.array([20.0]))["si_mult"][:, 0]
    np.testing.assert_array_equal(ea, eb)


def test_bmmnc_raises_secretion_and_combines():
    ctx = _ctx()
    t = BMMNCTherapy(1e9, [0])
    e = t.effects(ctx, 90)
    assert np.all(e["secretion_mult"] > 1.0)
    comb = combine_effects(ctx.n, [e, PlaceboTrialEffect().effects(ctx, 90)])
    assert np.all(np.asarray(comb.si_mult) > 1.0) and np.all(np.asarray(comb.secretion_mult) > 1.0)
    mods = t.meal_modifiers(ctx, 90)
    # second-phase gain only (Bhansali 2017: clamp 2nd-phase C-peptide up, glucagon-stimulated unchanged)
    assert set(mods) == {"K", "beta_Y"} and np.all(mods["beta_Y"] > 1.0) and np.all(mods["K"] == 1.0)


def test_islet_graft_kinetics_and_immune_settings():
    ctx = _ctx(200)
    p = IsletParams()
    allo = IsletGraft("sc_islet", cells=0.8e9, diabetes_type="t1d", params=p)
    m = allo.graft_mass(ctx, np.array([1.0, 90.0, 365.0]))
    alive = allo.failure_day(ctx) > 365
    assert alive.mean() > 0.8  # allogeneic + immunosuppression: failure hazard 0.1/yr
    assert np.all(m[alive, 0] < m[alive, 1])  # maturation
    mat = weibull_maturation(np.array([140.0]), 140.0, 2.0)
    assert mat[0] == pytest.approx(1 - np.exp(-1))
    none = IsletGraft("sc_islet", cells=0.8e9, immunosuppression=False, diabetes_type="t1d", params=p)
    # allogeneic without immunosuppression: rejection hazard 26/yr -> almost all failed by day 90
    assert np.mean(none.graft_mass(ctx, np.array([90.0]))[:, 0] > 0) < 0.05
    auto = IsletGraft("sc_islet", cells=0.8e9, origin="autologous", immunosuppression=False, params=p)
    assert np.all(auto.failure_day(ctx) == np.inf)  # autologous in T2D: no immune failure (hypothesis)
    assert any("teratoma" in r.name for r in allo.risks)
    assert any("infection" in r.name for r in allo.risks)
    rep = allo.report(ctx, 180)
    assert set(rep) == {"graft_functional_mass_mg", "immunosuppressed"}
    with pytest.raises(ValueError, match="exactly one"):
        IsletGraft("sc_islet", cells=1e9, ieq_per_kg=1000.0)


def test_tissue_regeneration_is_off_by_default_and_labelled():
    assert regeneration_hazard_modifiers() is None
    t = TissueRegeneration("central")
    hm = t.hazard_modifiers()
    assert "hypothesis" in hm.label
    for k, (lo, hi) in hm.uncertainty.items():
        assert lo <= hm.multipliers[k] <= hi and hi == 1.0  # range includes no effect
    assert t.effects(_ctx(), 0) == {}
    with pytest.raises(ValueError):
        regeneration_hazard_modifiers("miracle")


def test_from_protocol_specs():
    from t2dsim.therapies.stemcells.specs import IsletGraftSpec, PlaceboInfusionSpec, UCMSCSpec, from_spec

    m = from_spec(UCMSCSpec(kind="uc_msc", cells_per_kg_per_infusion=1e6, n_infusions=3, interval_months=1.0))
    assert isinstance(m, MSCTherapy) and m.infusion_days.tolist() == [0, 30, 61]
    g = from_spec(
        IsletGraftSpec(
            kind="islet_graft",
            source="autologous_ipsc",
            ieq_per_kg=10000,
            site="anterior_rectus_sheath",
            immunosuppression=False,
        )
    )
    assert isinstance(g, IsletGraft) and g.setting == "autologous_t2d" and g.site == "muscle"
    assert isinstance(from_spec(PlaceboInfusionSpec(kind="placebo_infusion")), PlaceboTrialEffect)
    with pytest.raises(ValueError, match="stem-cell"):
        from_spec(object())
