"""The OM2 simulator evaluated on living rows and patient-level parts gives the results of the
straightforward loop it replaced (every equation on every row, dead rows included).

``_reference_simulate`` is that loop as it stood before the speed-up (commit 4bb9dd8), built from the
public equation functions. Same seed, a few hundred heterogeneous patients (ages up to 95 so rows are
censored at ``max_age``, prior histories, binary factors, ethnicities, given paths and a callable,
hazard modifiers): event years identical, life years and QALYs equal to 1e-9.
"""

import math

import numpy as np
import pytest

from t2dsim.outcomes.equations import (
    annual_probability,
    linear_predictor,
    load_coefficients,
    model_covariates,
    rf_coefficients,
)
from t2dsim.outcomes.risk_factors import RiskFactorPaths
from t2dsim.outcomes.ukpds_om2 import (
    EVENT_GROUPS,
    OUTCOMES,
    OM2Inputs,
    row_keys,
    simulate,
    tissue_regeneration_modifiers,
    uniforms,
)
from t2dsim.outcomes.utilities import CONDITIONS, utility_set

_EVENT_EQUATIONS = (
    "mi1_male",
    "mi1_female",
    "mi2",
    "stroke1",
    "stroke2",
    "amp1_no_ulcer",
    "amp1_ulcer",
    "amp2",
    "ihd",
    "chf",
    "blind",
    "renal",
    "ulcer",
)
_EVENT_YEAR_SWITCH = ("mi", "ihd", "stroke", "chf", "amputation", "renal")
_DEATH_EQUATIONS = ("death_nhne", "death_nhye", "death_yhne", "death_yhye")


def _p_mod(p, mods, group):
    if mods is None or group not in mods.multipliers:
        return p
    m = mods.multipliers[group]
    return -np.expm1(m * np.log1p(-np.minimum(p, 1.0 - 1e-16)))


def _reference_simulate(cohort, horizon_years, n_mc, seed, *, max_age=100.0, utilities="ukpds62",
                        discount_rate=0.035, extend="ukpds90"):  # fmt: skip
    """The pre-vectorisation loop (all rows, all equations, every cycle); returns plain arrays."""
    us = utility_set(utilities) if isinstance(utilities, str) else utilities
    eqs = load_coefficients()
    n = cohort.n
    rows = n * n_mc
    rep = lambda x: np.repeat(x, n_mc)  # noqa: E731
    keys = row_keys(seed, rep(cohort.patient_id_arr), np.tile(np.arange(n_mc, dtype=np.int64), n))
    age0, dur0 = rep(cohort.age_arr), rep(cohort.duration_arr)
    female, afro, indian = rep(cohort.female_arr), rep(cohort.afro_arr), rep(cohort.indian_arr)
    n_years = horizon_years if horizon_years is not None else int(math.ceil(max_age - age0.min()))
    mods = cohort.hazard_modifiers
    paths = RiskFactorPaths(
        cohort.sources, cohort.female_arr, cohort.afro_arr, cohort.indian_arr, cohort.duration_arr,
        rf_coefficients(), n_mc, extend,
    )  # fmt: skip
    prob = lambda eq, cov, time: annual_probability(eq, linear_predictor(eq, cov), time)  # noqa: E731
    hist = {c: rep(cohort.history_arr[c]).copy() for c in CONDITIONS}
    first_year = {o: np.full(rows, -1, dtype=np.int16) for o in OUTCOMES}
    ly, ly_d, q, q_d = np.zeros(rows), np.zeros(rows), np.zeros(rows), np.zeros(rows)
    alive = np.ones(rows, dtype=bool)
    censored = np.zeros(rows, dtype=bool)
    censor_year = np.full(rows, -1, dtype=np.int16)
    for t in range(n_years):
        rf = paths.advance()
        age, dur = age0 + t, dur0 + t
        reached = alive & (age >= max_age)
        censored |= reached
        censor_year[reached] = t
        alive &= ~reached
        if not alive.any():
            break
        cov = model_covariates(age=age, duration=dur, female=female, afro=afro, indian=indian, history=hist, **rf)
        pr = {name: prob(eqs[name], cov, dur) for name in _EVENT_EQUATIONS}
        p = {
            "mi": np.where(hist["mi"], pr["mi2"], np.where(female, pr["mi1_female"], pr["mi1_male"])),
            "stroke": np.where(hist["stroke"], pr["stroke2"], pr["stroke1"]),
            "amputation": np.where(
                hist["amputation"], pr["amp2"], np.where(hist["ulcer"], pr["amp1_ulcer"], pr["amp1_no_ulcer"])
            ),
            "ihd": pr["ihd"],
            "chf": pr["chf"],
            "blindness": pr["blind"],
            "renal": pr["renal"],
            "ulcer": pr["ulcer"],
        }
        ev = {}
        for g in EVENT_GROUPS:
            eligible = alive if g in ("mi", "stroke", "amputation") else alive & ~hist[g]
            ev[g] = eligible & (uniforms(keys, t, g) < _p_mod(p[g], mods, g))
        any_hist = np.zeros(rows, dtype=bool)
        any_ev = np.zeros(rows, dtype=bool)
        for g in EVENT_GROUPS:
            any_hist |= hist[g]
        for g in _EVENT_YEAR_SWITCH:
            any_ev |= ev[g]
        ecov = dict(cov)
        ecov["MI_EVENT"] = ev["mi"].astype(np.float64)
        ecov["IHD_EVENT"] = ev["ihd"].astype(np.float64)
        ecov["STROKE_EVENT"] = ev["stroke"].astype(np.float64)
        ecov["RENAL_EVENT"] = ev["renal"].astype(np.float64)
        ecov["AMP_EVENT"] = (ev["amputation"] & ~hist["amputation"]).astype(np.float64)
        ecov["AMP2_EVENT"] = (ev["amputation"] & hist["amputation"]).astype(np.float64)
        pm = {name: prob(eqs[name], ecov, age) for name in _DEATH_EQUATIONS}
        p_death = np.where(
            any_hist,
            np.where(any_ev, pm["death_yhye"], pm["death_yhne"]),
            np.where(any_ev, pm["death_nhye"], pm["death_nhne"]),
        )
        died = alive & (uniforms(keys, t, "death") < p_death)
        for g in EVENT_GROUPS:
            first = ev[g] & ~hist[g]
            first_year[g][first & (first_year[g] < 0)] = t
        for g, o in (("mi", "mi2"), ("stroke", "stroke2"), ("amputation", "amputation2")):
            first_year[o][ev[g] & hist[g] & (first_year[o] < 0)] = t
        first_year["death"][died] = t
        frac = np.where(died, 0.5, 1.0) * alive
        u = us.annual_utility({c: hist[c] | ev[c] for c in CONDITIONS})
        df = (1.0 + discount_rate) ** (-t)
        ly += frac
        ly_d += frac * df
        q += frac * u
        q_d += frac * u * df
        for g in EVENT_GROUPS:
            hist[g] |= ev[g]
        alive &= ~died
    shape = (n, n_mc)
    return {
        "first_year": {k: v.reshape(shape) for k, v in first_year.items()},
        "life_years": ly.reshape(shape),
        "life_years_disc": ly_d.reshape(shape),
        "qalys": q.reshape(shape),
        "qalys_disc": q_d.reshape(shape),
        "alive_at_end": (alive | censored).reshape(shape),
        "censor_year": censor_year.reshape(shape),
    }


def _heterogeneous_cohort(n: int, mods=None) -> OM2Inputs:
    g = np.random.default_rng(2024)
    age = g.uniform(40, 95, n)
    dur = np.minimum(g.uniform(0, 25, n), age - 10)
    hist = {c: (g.uniform(size=n) < 0.08).astype(int) for c in CONDITIONS}
    hba1c_path = np.clip(g.uniform(6.0, 11.0, n)[:, None] + g.normal(0, 0.3, (n, 3)), 4.0, 16.0)
    sbp0 = g.uniform(110, 170, n)
    return OM2Inputs(
        age=age,
        duration=dur,
        female=(g.uniform(size=n) < 0.45).astype(int),
        ethnicity=g.integers(0, 3, n),
        patient_id=np.arange(n) * 7 + 3,
        hba1c=hba1c_path,
        sbp=lambda t: sbp0 + t if t < 4 else None,
        ldl=g.uniform(1.5, 5.0, n),
        hdl=g.uniform(0.7, 1.8, n),
        bmi=g.uniform(17, 42, n),
        egfr=g.uniform(25, 120, n),
        heart_rate=g.uniform(55, 95, n),
        wbc=g.uniform(4, 11, n),
        haemoglobin=g.uniform(11, 16, n),
        smoker=(g.uniform(size=n) < 0.2).astype(int),
        mmalb=(g.uniform(size=n) < 0.25).astype(int),
        atfib=(g.uniform(size=n) < 0.05).astype(int),
        pvd=(g.uniform(size=n) < 0.1).astype(int),
        history=hist,
        hazard_modifiers=mods,
    )


@pytest.mark.parametrize(
    "mods, kw",
    [
        (None, dict(horizon_years=None, seed=17)),
        (
            tissue_regeneration_modifiers("optimistic"),
            dict(horizon_years=30, seed=3, max_age=90.0, extend="constant", utilities="advance_hayes2016"),
        ),
    ],
    ids=["lifetime-default", "modifiers-max_age-90"],
)
def test_simulate_matches_the_all_rows_reference_loop(mods, kw):
    cohort = _heterogeneous_cohort(300, mods)
    horizon = kw.pop("horizon_years")
    seed = kw.pop("seed")
    new = simulate(cohort, horizon, n_mc=12, seed=seed, **kw)
    ref = _reference_simulate(cohort, horizon, 12, seed, **kw)
    for o in OUTCOMES:
        np.testing.assert_array_equal(new.first_year[o], ref["first_year"][o], err_msg=o)
    np.testing.assert_array_equal(new.censor_year, ref["censor_year"])
    np.testing.assert_array_equal(new.alive_at_end, ref["alive_at_end"])
    for k in ("life_years", "life_years_disc", "qalys", "qalys_disc"):
        np.testing.assert_allclose(getattr(new, k), ref[k], rtol=0, atol=1e-9, err_msg=k)
    # the cohort exercises what the shortcuts skip: deaths, censoring, repeat events
    assert (new.censor_year >= 0).any() and (new.first_year["death"] >= 0).any()
    assert (new.first_year["mi2"] >= 0).any() and (new.first_year["stroke2"] >= 0).any()
