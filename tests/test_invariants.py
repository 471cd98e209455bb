"""Invariants under random physiology (issue 18): a seeded, few-hundred-draw version of
benchmarks/invariants.py (10^5 draws, summary in benchmarks/results/invariants.json), and one regression
test per violation that script found."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from t2dsim.physiology import meal as mm
from t2dsim.physiology import progression as pr
from t2dsim.simulate import simulate
from t2dsim.solvers import integrate_meal

_spec = importlib.util.spec_from_file_location("invariants", Path(__file__).parents[1] / "benchmarks" / "invariants.py")
iv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(iv)


def test_meal_model_invariants_under_random_physiology() -> None:
    res = iv.check_meal(300, seed=7)
    assert res["feasible_simulated"] > 250
    assert res["violations"] == dict.fromkeys(res["violations"], 0), res["examples"]


def test_progression_model_invariants_under_random_physiology() -> None:
    res = iv.check_progression(300, seed=7)
    assert res["violations"] == dict.fromkeys(res["violations"], 0), res["examples"]


def _rhs(x: np.ndarray, params: mm.MealParams) -> tuple[np.ndarray, np.ndarray]:
    dx, aux = np.empty(mm.N_STATES), np.empty(mm.N_AUX)
    mm.meal_rhs(x, params.to_matrix()[0], 0.0, 0.0, 0.0, dx, aux)
    return dx, aux


def test_utilisation_never_negative_when_insulin_action_falls_far_below_basal() -> None:
    """Found: Vm0 + Vmx·X < 0 when plasma insulin drops well under Ib made tissues release glucose."""
    p = mm.dallaman_2007("t2d")
    x = mm.basal_state(p)[0]
    x[6] = -2.0 * p["Vm0"][0] / p["Vmx"][0]
    assert _rhs(x, p)[1][3] == 0.0
    x[6] = 0.0  # at basal the published expression is untouched
    assert _rhs(x, p)[1][3] == np.float64(p["Vm0"][0] * x[4] / (p["Km0"][0] + x[4]))


def test_insulin_independent_uptake_ramps_to_zero_only_below_20_mgdl() -> None:
    """Found: a constant Fsnc drove plasma glucose below 0 in severe hypoglycaemia."""
    p = mm.dallaman_2007("t2d")
    p0 = p.replace(Fsnc=0.0)
    x = mm.basal_state(p)[0]
    vg, fsnc = p["VG"][0], p["Fsnc"][0]
    for g_mgdl, share in ((25.0, 1.0), (20.0, 1.0), (10.0, 0.5), (0.0, 0.0)):
        x[3] = g_mgdl * vg
        assert np.isclose(_rhs(x, p)[0][3] - _rhs(x, p0)[0][3], -share * fsnc, rtol=1e-12, atol=1e-15)
    # a large insulin bolus with no food no longer drives glucose below zero
    ins = np.zeros(600)
    ins[0] = 60.0  # U over one minute
    g = simulate(p, np.zeros(600), ins)["plasma_glucose_mgdl"]
    assert np.all(np.isfinite(g)) and g.min() > 0.0


def test_stiff_hepatic_extraction_gets_more_substeps_and_stays_stable() -> None:
    """Found: with m6 ≥ 0.95 hepatic extraction reaches its 0.95 cap when secretion stops, liver insulin
    decays at 20·m1 per minute and RK4 at 1 min blew up (|values| ~ 1e14)."""
    assert mm.stable_substeps(mm.dallaman_2007("t2d").to_matrix())[0] == 1
    assert mm.stable_substeps(mm.dallaman_2007("normal").to_matrix())[0] == 1
    base = mm.dallaman_2007("t2d")
    stiff = mm.MealParams(
        mm.derive_basal({**base.values, "HEb": np.array([0.77]), "m1": np.array([0.68])}, [True]), base.names
    )
    assert stiff["m6"][0] > 0.95 and mm.stable_substeps(stiff.to_matrix())[0] > 1
    ins = np.zeros(600)
    ins[0] = 10.0
    r = simulate(stiff, np.zeros(600), ins)
    assert np.all(np.isfinite(r["plasma_insulin_pmol_l"])) and r["plasma_insulin_pmol_l"].min() >= 0.0


def test_hba1c_target_is_clamped_to_4_20_percent() -> None:
    """Found: the ADAG line extrapolated to HbA1c 1.4 % (FPG 2 mg/dL) and 37 % (900 mg/dL)."""
    n = 2
    st = pr.t2dsim_initial_state(n)
    low = pr.Effects(exog_insulin_uuml=np.full(n, 300.0), si_mult=np.full(n, 5.0))
    r = pr.simulate_progression(pr.t2dsim_params(n), st, 730, effects=low, record_days="end")
    assert r["glucose_mgdl"].max() < 60.0 and np.allclose(r["hba1c_pct"], pr.HBA1C_FLOOR_PCT, atol=1e-3)
    high = pr.Effects(hgp_mult=np.full(n, 5.0), secretion_mult=np.zeros(n))
    r = pr.simulate_progression(pr.t2dsim_params(n), st, 730, effects=high, record_days="end")
    assert r["glucose_mgdl"].min() > 600.0 and np.allclose(r["hba1c_pct"], pr.HBA1C_CEIL_PCT, atol=1e-3)


#: Draw 20920 of benchmarks/invariants.py (seed 0): 45 kg, low insulin-independent tissue uptake (Vm0/Km0).
_LOW_VM0 = {"BW": 45.4164, "VG": 1.31693, "k1": 0.0343507, "k2": 0.0797997, "VI": 0.0406612, "m1": 0.1637, "m2": 0.588775, "m4": 0.151908, "m5": 0.0364609, "m6": 0.592285, "HEb": 0.545347, "kmax": 0.0449969, "kmin": 0.00567656, "kabs": 0.0817168, "f": 0.940641, "b": 0.571714, "d": 0.120955, "kp1": 3.08442, "kp2": 0.00168219, "kp3": 0.0104984, "kp4": 0.0473318, "ki": 0.00819048, "Fsnc": 1.24539, "Vm0": 0.518992, "Vmx": 0.0419856, "Km0": 95.9416, "p2u": 0.0286045, "K": 2.63177, "alpha_Y": 0.0532603, "beta_Y": 0.208635, "gamma": 0.619826, "h": 268.931, "Sb": 1.28735, "Gb": 268.931, "Ib": 78.8711, "EGPb": 1.56233, "ke1": 0.00037572, "ke2": 349.774, "ka1": 0.00165751, "ka2": 0.0143438, "kd": 0.0185022, "ksc": 0.0930545, "u2ss": 0.931593, "cp_k1": 0.0663032, "cp_k2": 0.047586, "cp_k3": 0.0572168, "cp_V": 3.30751, "Sfix": 0.0, "beta_Y_up": 2.70113}  # fmt: skip  # noqa: E501


def test_massive_bolus_gets_stable_substeps_for_tissue_glucose() -> None:
    """Found: a 0.8 U/kg bolus raised insulin action X to ~1e4 pmol/L, tissue glucose then decays at
    (Vm0 + Vmx·X)/Km0 ≈ 4/min and RK4 at 1 min blew up (glucose −226 … 5.8e5 mg/dL); such minutes now get
    more sub-steps."""
    p = mm.MealParams({k: np.array([v]) for k, v in _LOW_VM0.items()}, ("low-vm0",))
    cho = np.zeros(1440)
    cho[480:510] = 5.0  # 150 g
    ins = np.full(1440, p.basal_insulin_u_per_min[0])
    ins[480] += 37.5  # U, 150 g at 4 g/U
    r = simulate(p, cho, ins)
    g = r["plasma_glucose_mgdl"]
    assert np.all(np.isfinite(g)) and g.min() > 0.0 and g.max() < 1000.0
    assert r["uid_mg_kg_min"].min() >= 0.0


def test_meal_results_do_not_depend_on_batching() -> None:
    """Sub-steps are chosen per patient (parameters and state), so a patient's day is the same in any batch."""
    rng = np.random.default_rng([3, 1])
    params, treated = iv._meal_rows(rng, 60)
    cho, ins = iv._meal_inputs(rng, params, treated)
    x0, pm = mm.basal_state(params), params.to_matrix()
    whole = integrate_meal(x0, pm, cho, ins)
    k = params.n // 3
    parts = [integrate_meal(x0[s], pm[s], cho[s], ins[s]) for s in (slice(0, k), slice(k, None))]
    assert (mm.stable_substeps(pm) > 1).any()  # the batch mixes patients with 1 and more sub-steps
    for j in range(3):
        np.testing.assert_array_equal(whole[j], np.concatenate([p[j] for p in parts]))
