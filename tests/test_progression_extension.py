"""t2dsim extension of the progression model: therapy effects, inflammation index, HbA1c vs ADAG."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.physiology.progression import (
    EFFECT_NAMES,
    Effects,
    ha2016_initial_state,
    ha2016_params,
    simulate_progression,
    t2dsim_initial_state,
    t2dsim_params,
)


def _t2d(n: int = 1):
    """A hyperglycaemic t2dsim patient state (run 8 y from healthy with a low SI target)."""
    p = t2dsim_params(n).replace(SI_target=0.2, tSI=1 / 1500)
    r = simulate_progression(p, t2dsim_initial_state(n), 8 * 365, bmi_kg_m2=30.0, record_days="end")
    return p, r.state


def test_neutral_effects_equal_no_effects() -> None:
    p, st = _t2d(3)
    a = simulate_progression(p, st, 200, bmi_kg_m2=30.0)
    b = simulate_progression(p, st, 200, bmi_kg_m2=30.0, effects=Effects.neutral(3))
    for name, v in a.outputs.items():
        np.testing.assert_array_equal(v, b.outputs[name])


@pytest.mark.parametrize(
    ("name", "value"),
    [("si_mult", 1.5), ("hgp_mult", 0.8), ("secretion_mult", 1.5), ("glucose_loss_per_day", 0.3),
     ("exog_insulin_uuml", 10.0), ("graft_beta_mass_mg", 300.0), ("inflammation_mult", 0.0)],
)  # fmt: skip
def test_each_glucose_lowering_effect_lowers_glucose(name: str, value: float) -> None:
    p, st = _t2d(1)
    base = simulate_progression(p, st, 365, bmi_kg_m2=30.0, record_days="end")
    treated = simulate_progression(p, st, 365, bmi_kg_m2=30.0, record_days="end", effects=Effects(**{name: value}))
    assert treated["glucose_mgdl"][0, 0] < base["glucose_mgdl"][0, 0] - 1.0
    assert treated["hba1c_pct"][0, 0] < base["hba1c_pct"][0, 0]


def test_beta_protect_reduces_beta_cell_loss() -> None:
    p, st = _t2d(1)
    base = simulate_progression(p, st, 3 * 365, bmi_kg_m2=30.0, record_days="end")
    prot = simulate_progression(p, st, 3 * 365, bmi_kg_m2=30.0, record_days="end", effects=Effects(beta_protect=0.8))
    assert prot["beta_mass_mg"][0, 0] > base["beta_mass_mg"][0, 0]


def test_quasi_steady_glucose_balance_holds_each_day() -> None:
    """At a slowly changing state the daily G satisfies R0·hgp = (EG0 + loss + SIe·(I + I_exo))·G
    (dG/dt ≈ 0), checked from the recorded outputs by hand."""
    p, st = _t2d(1)
    eff = Effects(hgp_mult=0.9, glucose_loss_per_day=0.2, exog_insulin_uuml=5.0)
    r = simulate_progression(p, st, 100, bmi_kg_m2=30.0, effects=eff, record_days=[99, 100])
    g, i_tot, sie = r["glucose_mgdl"][0, 1], r["insulin_total_uuml"][0, 1], r["si_eff"][0, 1]
    lhs = 864.0 * 0.9
    rhs = (1.44 + 0.2 + sie * i_tot) * g
    dg = r["glucose_mgdl"][0, 1] - r["glucose_mgdl"][0, 0]  # backward-Euler residual = dG/dt·1 day
    assert lhs - rhs == pytest.approx(dg, abs=1e-3)
    assert abs(dg) < 0.5


def test_inflammation_relaxes_to_bmi_target() -> None:
    """Φ∞ = f·b·ln(BMI/25) + Φ0 (hand value for BMI 35, f 0.3, b 3: 0.9·ln 1.4 = 0.30283), reached with
    time constant τΦ = 180 d; anti-inflammatory effect (mult 0) removes it; SIe gains exp(Φ)."""
    p = t2dsim_params(2)
    st = t2dsim_initial_state(2)
    eff = Effects(inflammation_mult=np.array([1.0, 0.0]))
    r = simulate_progression(p, st, 5 * 365, bmi_kg_m2=35.0, effects=eff, record_days=[180, 5 * 365])
    phi = r["inflammation"]
    assert phi[0, 1] == pytest.approx(0.9 * np.log(1.4), rel=1e-4)
    assert phi[0, 0] == pytest.approx(0.9 * np.log(1.4) * (1 - np.exp(-1.0)), rel=1e-3)
    assert phi[1, 1] == 0.0
    ratio = r["si_eff"][1, 1] / r["si_eff"][0, 1] * r["si_state"][0, 1] / r["si_state"][1, 1]
    assert ratio == pytest.approx(np.exp(0.9 * np.log(1.4)), rel=1e-4)


def test_pure_ha_ignores_bmi_and_age() -> None:
    p, st = ha2016_params(2), ha2016_initial_state(2)
    r = simulate_progression(p, st, 300, bmi_kg_m2=np.array([22.0, 40.0]), age_years=np.array([30.0, 70.0]))
    np.testing.assert_array_equal(r["glucose_mgdl"][0], r["glucose_mgdl"][1])


# UKPDS 16 (UK Prospective Diabetes Study Group, Diabetes 44:1249-1258, 1995, abstract; PMID 7589820; read in
# the pages corpus and tagged V in reference physiology-models.md 6.6): median fasting plasma glucose (mmol/L) and
# median HbA1c (%) of newly diagnosed T2D, conventional vs intensive therapy, at 1 and 6 years.
UKPDS16_FPG_MMOL_HBA1C = (
    (6.8, 6.1),  # intensive, 1 y
    (8.2, 6.8),  # conventional, 1 y
    (7.8, 7.1),  # intensive, 6 y
    (9.5, 8.0),  # conventional, 6 y
)


def test_steady_state_hba1c_at_ukpds16_fasting_glucose_matches_ukpds16_hba1c() -> None:
    """Hold patients at the UKPDS 16 median fasting glucoses (via hgp_mult) for 2 years: the simulated HbA1c
    state must match the UKPDS 16 median HbA1c at that fasting glucose within 0.5 %-point.

    Independent of the model's construction: the fasting -> mean glucose line was fitted to Wei, Zheng & Nathan
    2014 (ADAG participants' fasting SMBG against the ADAG regression, glycation.py), and the HbA1c steady
    state is the ADAG regression; UKPDS 16 is a different cohort (UK, newly diagnosed, 1977-1991, laboratory FPG),
    so nothing here was fitted to it. A test against the Wei 2014 table itself (removed) only re-read the fit
    points. Tolerance 0.5 %-point: UKPDS measured HbA1c by HPLC with a non-diabetic range of 4.5-6.2 % (UKPDS 33,
    Lancet 352:837, 1998) against 4.0-6.0 % for the DCCT/NGSP scale used by ADAG (offset up to ~0.3-0.5 %-point),
    the values are group medians rounded to 0.1, and FPG is converted at 18.0 mg/dL per mmol/L.
    Measured (simulated, 2 y): 5.98, 7.01, 6.72, 7.96 vs 6.1, 6.8, 7.1, 8.0
    (largest gap -0.38 at intensive 6 y)."""
    fpg_targets = np.array([row[0] * 18.0 for row in UKPDS16_FPG_MMOL_HBA1C])
    ukpds_a1c = np.array([row[1] for row in UKPDS16_FPG_MMOL_HBA1C])
    n = len(fpg_targets)
    p, st = _t2d(n)
    # choose hgp_mult so that the quasi-steady G equals each target with today's insulin/SI (approx.)
    r0 = simulate_progression(p, st, 1, bmi_kg_m2=30.0, record_days="end")
    sie, ins = r0["si_eff"][:, 0], r0["insulin_total_uuml"][:, 0]
    hgp = (1.44 + sie * ins) * fpg_targets / 864.0
    # re-solve a few times because insulin responds to G
    for _ in range(6):
        r = simulate_progression(p, st, 2, bmi_kg_m2=30.0, effects=Effects(hgp_mult=hgp), record_days="end")
        hgp = hgp * fpg_targets / r["glucose_mgdl"][:, 0]
    r = simulate_progression(
        p.replace(tau_beta=1e9, tSI=0.0, tau_sigma=1e9),
        st,
        730,
        bmi_kg_m2=30.0,
        effects=Effects(hgp_mult=hgp),
        record_days="end",
    )
    g = r["glucose_mgdl"][:, 0].astype(float)
    a1c = r["hba1c_pct"][:, 0].astype(float)
    np.testing.assert_allclose(g, fpg_targets, atol=3.0)
    np.testing.assert_allclose(a1c, ukpds_a1c, atol=0.5)


def test_effect_validation_names_field() -> None:
    p, st = _t2d(1)
    for name in EFFECT_NAMES:
        with pytest.raises(ValueError, match=name):
            simulate_progression(p, st, 5, effects=Effects(**{name: -1.0}))
    with pytest.raises(ValueError, match="bmi_kg_m2"):
        simulate_progression(p, st, 5, bmi_kg_m2=5.0)
    with pytest.raises(ValueError, match="n_days"):
        simulate_progression(p, st, 0)


def test_daily_effect_arrays_switch_on_the_given_day() -> None:
    """Effects given per day (n, n_days) act from their day on; (n,) arrays are constant."""
    p, st = _t2d(2)
    daily = np.zeros((2, 60))
    daily[:, 30:] = 5.0
    r = simulate_progression(
        p, st, 60, bmi_kg_m2=30.0, effects=Effects(exog_insulin_uuml=daily), record_days=[30, 31, 60]
    )
    ref = simulate_progression(p, st, 30, bmi_kg_m2=30.0, record_days="end")
    np.testing.assert_array_equal(r["glucose_mgdl"][:, 0], ref["glucose_mgdl"][:, 0])
    assert np.all(r["glucose_mgdl"][:, 1] < r["glucose_mgdl"][:, 0] - 1.0)
    np.testing.assert_allclose(r["insulin_total_uuml"][:, 1] - r["insulin_endo_uuml"][:, 1], 5.0, rtol=1e-6)
    with pytest.raises(ValueError, match="exog_insulin_uuml"):
        simulate_progression(p, st, 60, effects=Effects(exog_insulin_uuml=np.zeros((2, 7))))
