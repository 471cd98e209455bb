"""Coupling of the progression state to the meal model (issue 3).

1. The anchors pinned in coupling.py are recomputed from the two models.
2. At the anchors the mapping returns the Dalla Man 2007 subjects exactly.
3. The error of not running every day at minute scale: over a year in which the disease progresses
   (Ha 2016 natural history, days 800–1165), mean plasma glucose from minute-scale days run *every day*
   versus run only on monthly visit days (linearly interpolated between visits); measured: max 0.46
   mg/dL (monthly), 0.10 (fortnightly), 0.02 (weekly). The bias of a single 14-day CGM fortnight against
   the quarter it stands for is printed (28 mg/dL in the fastest-progressing quarter).
4. Structural comparison reported (not asserted beyond ADAG's published scatter): the progression
   model's mean glucose (Wei 2014 fasting→mean line) vs the meal model's three-meal-day mean glucose.
"""

import numpy as np
import pytest

from t2dsim.physiology import coupling
from t2dsim.physiology.meal import dallaman_2007
from t2dsim.physiology.progression import ha2016_initial_state, ha2016_params, simulate_progression
from t2dsim.simulate import THREE_MEALS, meal_inputs, simulate


@pytest.fixture(scope="module")
def natural_history():
    days = np.arange(1, 1301)
    return simulate_progression(ha2016_params(1), ha2016_initial_state(1), 1300, record_days=days)


def test_anchor_constants_recomputed(natural_history):
    r = natural_history
    g = r["glucose_mgdl"][0]
    i = int(np.argmax(g >= 159.23))  # Dalla Man 2007 T2D subject's derived Gb
    assert abs(r["si_eff"][0, i] - coupling.SI_T2D) / coupling.SI_T2D < 0.01
    cap = r["beta_mass_mg"][0, i] * r["sigma"][0, i]
    assert abs(cap - coupling.CAPACITY_T2D) / coupling.CAPACITY_T2D < 0.01
    ins_t2d = r["insulin_endo_uuml"][0, i]
    ratio = np.sqrt((25.59 / 9.025) * (59.85 / ins_t2d))
    assert abs(ratio - coupling.INSULIN_PMOL_PER_HA_UNIT) < 0.02


@pytest.mark.parametrize(
    "subject,state",
    [
        ("normal", (91.8, 25.59, coupling.SI_NORMAL, 1000.423, 536.67)),
        ("t2d", (159.23, 59.85, coupling.SI_T2D, 959.26, 371.65)),
    ],
)
def test_mapping_reproduces_dallaman_subjects(subject, state):
    g, ib_pmol, si, beta, sigma = state
    p = coupling.meal_params_from_progression(
        g,
        ib_pmol / coupling.INSULIN_PMOL_PER_HA_UNIT,
        si,
        beta,
        sigma,
        body_weight_kg=78,
        age_years=56,
        female=False,
        height_cm=175,
    )
    ref = dallaman_2007(subject)
    for k in ("Vmx", "kp3", "Km0", "p2u", "K", "beta_Y", "alpha_Y", "kabs", "VG", "k1", "Ib", "Sb", "Vm0", "kp1"):
        np.testing.assert_allclose(p[k], ref[k], rtol=2e-3, err_msg=k)


def _daily_mean_glucose(r, day_idx):
    p = coupling.meal_params_from_progression(
        r["glucose_mgdl"][0, day_idx],
        r["insulin_endo_uuml"][0, day_idx],
        r["si_eff"][0, day_idx],
        r["beta_mass_mg"][0, day_idx],
        r["sigma"][0, day_idx],
        body_weight_kg=80,
        age_years=50,
        female=False,
    )
    res = simulate(p, meal_inputs(1440, list(THREE_MEALS)))
    return res["plasma_glucose_mgdl"][:, :1440].mean(axis=1)


def test_error_of_visit_day_sampling(natural_history):
    r = natural_history
    days = np.arange(800, 1165)  # indices of days 801..1165
    daily = _daily_mean_glucose(r, days)  # minute scale every day (365 runs, vectorised as 365 "patients")
    visits = np.r_[days[::30], days[-1]]  # monthly visits, including the last day
    interp = np.interp(days, visits, _daily_mean_glucose(r, visits))
    quarterly_truth = [daily[q * 91 : (q + 1) * 91].mean() for q in range(4)]
    # 14-day CGM fortnight at the end of each quarter.
    cgm = [daily[(q + 1) * 91 - 14 : (q + 1) * 91].mean() for q in range(4)]
    err_interp = np.abs(interp - daily).max()
    err_cgm = np.abs(np.array(cgm) - np.array(quarterly_truth)).max()
    print(
        f"\nmax |monthly-visit interpolation − daily| = {err_interp:.2f} mg/dL; "
        f"max |14-day CGM − quarter mean| = {err_cgm:.2f} mg/dL; glucose rose {daily[-1] - daily[0]:.1f} mg/dL"
    )
    assert daily[-1] - daily[0] > 20  # a year of real progression, not a flat line
    # Tolerances: 2 mg/dL is below the 5 mg/dL CGM accuracy band of consensus metrics (Battelino 2019 uses
    # whole mg/dL thresholds) and ~0.07 %-points of HbA1c (ADAG slope 28.7 mg/dL per %).
    assert err_interp < 2.0
    # The fortnight-vs-quarter gap (printed) is a property of the trial's sampling during fast
    # progression, not of the coupling; it is reported here, not asserted.


def test_structural_difference_within_adag_scatter(natural_history):
    """Mean glucose of the meal model's three-meal day vs the progression model's Wei 2014 line, at the
    fasting glucose range of the Dalla Man T2D subject. ADAG (Nathan 2008, Table 2) 95 % interval of mean
    glucose at HbA1c 7 %: 123–185 mg/dL around 154, i.e. about ±31 mg/dL (tag U in the reference: the
    abstract gives only the regression), used here as the bound."""
    r = natural_history
    g = r["glucose_mgdl"][0]
    idx = np.array([int(np.argmax(g >= x)) for x in (110.0, 130.0, 150.0)])
    meal_mean = _daily_mean_glucose(r, idx)
    wei = 1.1502 * g[idx] - 15.24
    print("\nFPG", np.round(g[idx], 1), "Wei mean", np.round(wei, 1), "meal-model mean", np.round(meal_mean, 1))
    assert np.all(np.abs(meal_mean - wei) < 31.0)
    assert np.all(meal_mean > g[idx])  # meals raise mean glucose above fasting


def test_meal_model_insulin_equals_progression_insulin_for_t2dsim_cohort():
    """One insulin scale across the two models: the visit-day meal model's fasting plasma insulin equals
    the progression model's fasting insulin (t2dsim µU/mL) × 6 pmol/L per µU/mL, within 1 %."""
    from t2dsim.engine import ArmState, Cohort, advance, meal_params_today
    from t2dsim.population.presets import make_cohort
    from t2dsim.therapies.base import PatientContext

    c = make_cohort("newly-diagnosed", 5, seed=1)
    ctx = PatientContext(n=5, body_weight_kg=np.full(5, 85.0), age_years=c.age_years, female=np.zeros(5, bool))
    arm = ArmState(Cohort(c.params, c.state, ctx, c.bmi_kg_m2, np.full(5, 172.0)), [])
    advance(arm, 30)
    p = meal_params_today(arm)
    np.testing.assert_allclose(p["Ib"], arm.last["insulin_total_uuml"] * 6.0, rtol=0.01)


def _gains(cap_mult, si, cap0=coupling.CAPACITY_T2D):
    """K and beta_Y of the coupling for capacity cap0·cap_mult (β = 1000 mg, σ chosen) at insulin
    sensitivity si (Ha units), glucose 140 mg/dL, insulin 15 Ha units."""
    cap = cap0 * np.asarray(cap_mult, dtype=float)
    p = coupling.meal_params_from_progression(
        np.full(cap.shape, 140.0), np.full(cap.shape, 15.0), np.full(cap.shape, si), np.full(cap.shape, 1000.0),
        cap / 1000.0, body_weight_kg=80.0, age_years=55.0, female=False,
    )  # fmt: skip
    return p["K"], p["beta_Y"]


def _gains_graft(native_mult, graft_mult, si):
    """K and beta_Y for native capacity c_T2D·native_mult plus a graft of c_T2D·graft_mult (σ shared)."""
    sigma = np.full(np.shape(native_mult), 400.0)
    beta = coupling.CAPACITY_T2D * np.asarray(native_mult, dtype=float) / sigma
    graft = coupling.CAPACITY_T2D * np.asarray(graft_mult, dtype=float) / sigma
    n = beta.shape
    p = coupling.meal_params_from_progression(
        np.full(n, 140.0), np.full(n, 15.0), np.full(n, si), beta, sigma, graft_beta_mass_mg=graft,
        body_weight_kg=80.0, age_years=55.0, female=False,
    )  # fmt: skip
    return p["K"], p["beta_Y"]


@pytest.mark.parametrize("si", [0.08, coupling.SI_T2D, 0.4, coupling.SI_NORMAL])
def test_secretion_gains_follow_the_capacity_law_with_floor_and_proportional_graft(si):
    """coupling.capacity_gain_factor at fixed insulin sensitivity, from the definitions (hand values, κ = 0.35,
    floor 0.1): proportional to native capacity r at and above the T2D anchor (Ha 2016's secretion is linear in
    β·σ; both anchors close, test_mapping_reproduces_dallaman_subjects), r**κ between the floor and the anchor,
    linear through 0 below the floor and continuous there; a graft's capacity adds proportionally; a therapy's
    secretion multiplier m multiplies both gains by m (secretion_gain_multipliers)."""
    assert (coupling.CAPACITY_EXPONENT, coupling.CAPACITY_FLOOR) == (0.35, 0.1)
    r = np.array([0.02, 0.05, 0.1, 0.2, 0.43, 1.0, 1.5, 3.0])
    expect = np.where(r >= 1, r, np.where(r >= 0.1, r**0.35, 0.1**0.35 * r / 0.1))
    k, by = _gains_graft(r, np.zeros_like(r), si)
    np.testing.assert_allclose(k / k[5], expect, rtol=1e-12)
    np.testing.assert_allclose(by / by[5], expect, rtol=1e-12)
    # continuity at the floor and monotone increase everywhere
    below = coupling.capacity_gain_factor(np.array([0.1 - 1e-9]))
    np.testing.assert_allclose(below, 0.1**0.35, rtol=1e-6)
    assert np.all(np.diff(coupling.capacity_gain_factor(np.linspace(0, 3, 301))) > 0)
    # graft additive: native 0.3 + graft 0.5 of the anchor's capacity gives f(0.3) + 0.5
    kg, _ = _gains_graft(np.array([0.3, 1.0]), np.array([0.5, 0.0]), si)
    assert kg[0] / kg[1] == pytest.approx(0.3**0.35 + 0.5, rel=1e-12)
    m = coupling.secretion_gain_multipliers(np.array([1.37]))
    assert float(m["K"][0]) == float(m["beta_Y"][0]) == 1.37


def test_secretion_gains_follow_the_disease_stage_read_from_insulin_sensitivity():
    """Documented behaviour (coupling.py): the anchor-closing factor ρ^w uses the same disease weight w
    (from SIe) as every interpolated constant, so at fixed capacity an insulin-sensitivity gain alone
    raises the gains — modestly (SI ×1.4 from the T2D anchor: K ×1.10) — and never above the normal
    anchor's ratio; below the T2D anchor's SIe it has no effect (w clipped at 0)."""
    k_t2d, _ = _gains(np.array([1.0]), coupling.SI_T2D)
    k_up, _ = _gains(np.array([1.0]), 1.4 * coupling.SI_T2D)
    k_low, _ = _gains(np.array([1.0]), 0.5 * coupling.SI_T2D)
    k_n, _ = _gains(np.array([1.0]), coupling.SI_NORMAL)
    assert 1.05 < float((k_up / k_t2d)[0]) < 1.15
    assert float((k_low / k_t2d)[0]) == pytest.approx(1.0, rel=1e-12)
    a = coupling.anchors()
    rho_k = (a.normal["K"] / a.t2d["K"]) / (coupling.CAPACITY_NORMAL / coupling.CAPACITY_T2D)
    assert float((k_n / k_t2d)[0]) == pytest.approx(rho_k, rel=1e-9)
