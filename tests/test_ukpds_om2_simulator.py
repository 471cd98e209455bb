"""UKPDS OM2 simulator: exact bookkeeping, determinism, published comparisons.

Tolerances are stated next to each assertion. Monte Carlo checks use 4 standard errors.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_ukpds_om2_equations import REFERENCE_PATIENT

from t2dsim.outcomes.compare import compare_arms, format_comparison
from t2dsim.outcomes.risk_factors import RiskFactorPaths, normalise_factor
from t2dsim.outcomes.ukpds_om2 import (
    EVENT_GROUPS,
    HYPOTHESIS_LABEL,
    HazardModifiers,
    OM2Inputs,
    rf_coefficients,
    row_keys,
    simulate,
    tissue_regeneration_modifiers,
    uniforms,
)

R = REFERENCE_PATIENT  # complication-models.md 6.4 (shared with the equation tests)
NO_EVENTS = {g: 0.0 for g in EVENT_GROUPS}


def gompertz_q(lam: float, phi: float, age: float) -> float:
    return 1.0 - math.exp(math.exp(lam) / phi * (math.exp(phi * age) - math.exp(phi * (age + 1.0))))


def test_mortality_only_matches_closed_form_gompertz():
    """All complications switched off: survival is the 'no history, no event' Gompertz equation
    (Hayes 2013 ESM: lambda -10.908, phi 0.098; male non-smoker), computed here by hand."""
    n_mc = 20000
    c = OM2Inputs(female=0, hazard_modifiers=HazardModifiers(NO_EVENTS), **R)
    res = simulate(c, None, n_mc=n_mc, seed=11, max_age=100.0, extend="constant", discount_rate=0.035)
    s, le, le_d, dead10 = 1.0, 0.0, 0.0, None
    for t in range(40):  # ages 60..99 (simulation censors at age 100)
        q = gompertz_q(-10.908, 0.098, 60.0 + t)
        le += s * (1 - q / 2)
        le_d += s * (1 - q / 2) * 1.035**-t
        s *= 1 - q
        if t == 9:
            dead10 = 1 - s
    ly = res.life_years[0]
    se = ly.std() / math.sqrt(n_mc)
    assert abs(ly.mean() - le) < 4 * se, (ly.mean(), le)
    assert abs(res.life_years_disc[0].mean() - le_d) < 4 * res.life_years_disc[0].std() / math.sqrt(n_mc)
    d10 = res.incidence("death", 10)[0]
    assert abs(d10 - dead10) < 4 * math.sqrt(dead10 * (1 - dead10) / n_mc)
    # no complication ever -> utility is the UKPDS 62 baseline 0.785 in every year lived
    np.testing.assert_allclose(res.qalys, 0.785 * res.life_years, rtol=1e-12)
    for o in ("mi", "stroke", "renal", "blindness"):
        assert (res.first_year[o] < 0).all()


def test_single_complication_recursion_with_mortality_switch():
    """Only blindness enabled (hazard x20 via the modifier p' = 1-(1-p)^20). Exact two-state
    recursion by hand. Blindness does not switch to the event-year (logistic) equations but
    does count as history: no-history Gompertz (nhne) up to and including the year of
    blindness, with-history Gompertz (yhne) afterwards. Coefficients: Hayes 2013 ESM Tables 5-6."""
    mult = 20.0
    mods = HazardModifiers({**NO_EVENTS, "blindness": mult})
    c = OM2Inputs(female=0, hazard_modifiers=mods, **R)
    n_mc = 20000
    res = simulate(c, None, n_mc=n_mc, seed=5, extend="constant", discount_rate=0.0)
    xb_b = -11.607 + 0.047 * 52 + 0.171 * 7.5 + 0.080 * 7.5 + 0.068 * 14.0 + 0.052 * 7.0
    p_b = 1 - (1 - (1 - math.exp(-math.exp(xb_b)))) ** mult
    a_, b_, inc10, le = 1.0, 0.0, 0.0, 0.0
    for t in range(40):
        age = 60.0 + t
        q_nh = gompertz_q(-10.908, 0.098, age)
        q_yh = gompertz_q(-9.207 - 0.293 + 0.048 * 7.0, 0.073, age)
        if t < 10:
            inc10 += a_ * p_b
        le += a_ * (1 - q_nh / 2) + b_ * (1 - q_yh / 2)
        a_, b_ = a_ * (1 - p_b) * (1 - q_nh), b_ * (1 - q_yh) + a_ * p_b * (1 - q_nh)
    got = res.incidence("blindness", 10)[0]
    assert abs(got - inc10) < 4 * math.sqrt(inc10 * (1 - inc10) / n_mc), (got, inc10)
    ly = res.life_years[0]
    assert abs(ly.mean() - le) < 4 * ly.std() / math.sqrt(n_mc), (ly.mean(), le)


def test_event_year_mortality_after_first_mi():
    """Only MI enabled with hazard x200 (almost certain in year 0): the death probability in that
    year is the logistic 'first event, no history' equation (Hayes 2013 ESM: -6.916 + 0.058 age
    + 0.042 duration + 0.124 HR/10 + 1.309 MI_EVENT), here 0.29713 (complication-models.md 6.4)."""
    mods = HazardModifiers({**NO_EVENTS, "mi": 200.0})
    c = OM2Inputs(female=0, hazard_modifiers=mods, **R)
    n_mc = 20000
    res = simulate(c, 1, n_mc=n_mc, seed=8, extend="constant")
    p_mi = 1 - (1 - 0.008938) ** 200
    q_ev = 1 / (1 + math.exp(-(-6.916 + 0.058 * 60 + 0.042 * 8 + 0.124 * 7.5 + 1.309)))
    q_nh = gompertz_q(-10.908, 0.098, 60.0)
    expected = p_mi * q_ev + (1 - p_mi) * q_nh
    got = res.incidence("death", 1)[0]
    assert abs(got - expected) < 4 * math.sqrt(expected * (1 - expected) / n_mc), (got, expected)
    assert q_ev == pytest.approx(0.297130, abs=1e-6)


def _cohort(n: int, shift: float = 0.0, ids=None, mods=None) -> OM2Inputs:
    g = np.random.default_rng(12345)
    i = np.arange(n)
    hb = g.uniform(6.5, 9.5, n)
    return OM2Inputs(
        age=g.uniform(45, 70, n),
        duration=g.uniform(0, 10, n),
        female=(i % 2),
        hba1c=lambda t, hb=hb: hb - shift,
        sbp=g.uniform(120, 160, n),
        ldl=g.uniform(2.0, 4.5, n),
        hdl=g.uniform(0.9, 1.5, n),
        bmi=g.uniform(24, 36, n),
        egfr=g.uniform(40, 100, n),
        heart_rate=g.uniform(60, 90, n),
        wbc=g.uniform(5, 9, n),
        haemoglobin=g.uniform(12.5, 15.5, n),
        smoker=(i % 5 == 0),
        mmalb=(i % 4 == 0),
        ethnicity=np.array(["white", "afro_caribbean", "asian_indian"])[i % 3],
        patient_id=i if ids is None else ids,
        hazard_modifiers=mods,
    )


def _arrays(n: int) -> dict:
    g = np.random.default_rng(99)
    i = np.arange(n)
    return dict(
        age=g.uniform(45, 70, n),
        duration=g.uniform(0, 10, n),
        female=(i % 2),
        hba1c=g.uniform(6.5, 9.5, n),
        sbp=g.uniform(120, 160, n),
        ldl=g.uniform(2.0, 4.5, n),
        hdl=g.uniform(0.9, 1.5, n),
        bmi=g.uniform(24, 36, n),
        egfr=g.uniform(40, 100, n),
        heart_rate=g.uniform(60, 90, n),
        wbc=g.uniform(5, 9, n),
        haemoglobin=g.uniform(12.5, 15.5, n),
        smoker=(i % 5 == 0),
        patient_id=np.arange(100, 100 + n),
    )


def test_results_do_not_depend_on_chunking_and_follow_the_seed():
    d = _arrays(8)
    a = simulate(OM2Inputs(**d), None, n_mc=50, seed=3)
    chunks = (np.arange(0, 3), np.arange(3, 8))
    parts = [simulate(OM2Inputs(**{k: v[idx] for k, v in d.items()}), None, n_mc=50, seed=3) for idx in chunks]
    for o in a.first_year:
        np.testing.assert_array_equal(a.first_year[o], np.concatenate([p.first_year[o] for p in parts]))
    np.testing.assert_array_equal(a.life_years, np.concatenate([p.life_years for p in parts]))
    np.testing.assert_array_equal(a.qalys_disc, np.concatenate([p.qalys_disc for p in parts]))
    b = simulate(OM2Inputs(**d), None, n_mc=50, seed=4)
    assert not np.array_equal(a.life_years, b.life_years)


def test_counter_rng_is_uniform_and_keyed():
    keys = row_keys(9, np.arange(50000), np.zeros(50000, dtype=np.int64))
    u = uniforms(keys, 3, "mi")
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u, uniforms(keys, 3, "death"))[0, 1]) < 0.02  # slots independent
    assert abs(np.corrcoef(u, uniforms(keys, 4, "mi"))[0, 1]) < 0.02  # years independent
    k2 = row_keys(9, np.arange(10, 20), np.zeros(10, dtype=np.int64))
    np.testing.assert_array_equal(uniforms(k2, 3, "mi"), u[10:20])  # depends only on own key


def test_risk_factor_equation_extension_by_hand():
    """HbA1c after the given path follows the UKPDS-90-form equation (coefficients as carried by
    the public OM2 implementations): woman, white, X0 = 7.0, X_{t-1} = 7.0, duration 10 y."""
    src = {"hba1c": normalise_factor("hba1c", np.array([7.0]), 1)}
    paths = RiskFactorPaths(
        src, np.array([True]), np.array([False]), np.array([False]), np.array([9.0]), rf_coefficients(), n_rep=1
    )
    assert paths.advance()["hba1c"][0] == 7.0
    expected = 1.4195 + 0.7235 * 7.0 + 0.0810 * 7.0 + 0.1420 * math.log(10.0) + 0.0543
    assert paths.advance()["hba1c"][0] == pytest.approx(expected, rel=1e-12)


def test_given_path_array_and_callable_are_equivalent():
    n = 6
    path = np.linspace(9.0, 6.0, 12)[None, :].repeat(n, axis=0)
    base = _cohort(n)
    kw = {
        k: getattr(base, k)
        for k in (
            "age",
            "duration",
            "female",
            "sbp",
            "ldl",
            "hdl",
            "bmi",
            "egfr",
            "heart_rate",
            "wbc",
            "haemoglobin",
            "smoker",
            "ethnicity",
        )
    }
    a = simulate(OM2Inputs(hba1c=path, **kw), 12, n_mc=30, seed=1)
    b = simulate(OM2Inputs(hba1c=lambda t: path[:, t], **kw), 12, n_mc=30, seed=1)
    np.testing.assert_array_equal(a.life_years, b.life_years)
    c = simulate(OM2Inputs(hba1c=path + 2.0, **kw), 12, n_mc=30, seed=1)
    assert c.incidence("mi", 12).mean() > a.incidence("mi", 12).mean()


def test_callable_path_shape_is_checked_and_censoring_at_max_age():
    c = OM2Inputs(female=[0, 1], **{**R, "hba1c": lambda t: np.full(3, 7.0)})
    with pytest.raises(ValueError, match="hba1c: callable returned shape"):
        simulate(c, 5, n_mc=2)
    old = OM2Inputs(female=0, hazard_modifiers=HazardModifiers(NO_EVENTS), **{**R, "age": 99.0, "duration": 20.0})
    res = simulate(old, None, n_mc=2000, seed=1, max_age=100.0)
    assert res.n_years == 1
    # one cycle at age 99: Gompertz death probability (Hayes 2013 ESM, male non-smoker)
    q = gompertz_q(-10.908, 0.098, 99.0)
    assert abs(res.alive_at_end.mean() - (1 - q)) < 4 * math.sqrt(q * (1 - q) / 2000)


@pytest.mark.parametrize(
    "profile, om1_le",
    [
        (dict(hba1c=6.0, sbp=120.0, ldl=2.6, hdl=1.1, smoker=0), 21.1),
        (dict(hba1c=10.0, sbp=180.0, ldl=5.6, hdl=0.9, smoker=1), 13.2),
    ],
)
def test_life_expectancy_vs_published_ukpds_outcomes_model_tables(profile, om1_le):
    """Leal, Gray & Clarke, Eur Heart J 2009;30:834 (abstract): UKPDS Outcomes Model (version 1)
    life expectancy of men aged 55, 5 years after diagnosis: 21.1 y (non-smoker, SBP 120,
    total:HDL 4, HbA1c 6%) and 13.2 y (smoker, SBP 180, total:HDL 8, HbA1c 10%).

    Cross-version comparison (OM2 re-estimated mortality on 10 more years of follow-up), so the
    tolerance is +-20%. Lipid ratios mapped to LDL/HDL via Friedewald with TG 1.5 mmol/L
    (TC = ratio x HDL); BMI 30, eGFR 75, heart rate 75, WBC 7, Hb 14.5 (t2dsim choice).
    Measured (seed 3, 20000 replicates, risk factors constant): 24.8 y and 14.5 y.
    """
    c = OM2Inputs(
        age=55.0, duration=5.0, female=0, bmi=30.0, heart_rate=75.0, wbc=7.0, haemoglobin=14.5, egfr=75.0, **profile
    )
    le = simulate(c, None, n_mc=20000, seed=3, extend="constant").life_years.mean()
    assert abs(le / om1_le - 1) <= 0.20, le


def test_compare_arms_table():
    arms = {"control": _cohort(40), "intervention": _cohort(40, shift=1.0), "same": _cohort(40)}
    df = compare_arms(arms, None, n_mc=30, seed=2, n_boot=300)
    assert isinstance(df, pd.DataFrame)
    assert {"measure", "unit", "arm", "value", "difference", "diff_lo95", "diff_hi95"} <= set(df.columns)
    assert (df.loc[df.arm == "control", "difference"] == 0).all()
    assert (df.loc[df.arm == "same", "difference"] == 0).all()  # common random numbers
    iv = df[df.arm == "intervention"].set_index("measure")
    mi = iv.loc["cumulative incidence lifetime: first myocardial infarction"]
    assert mi.difference < 0 and mi.diff_hi95 < 0
    assert iv.loc["cumulative incidence 10 y: blindness (one eye)"].difference < 0
    q = iv.loc[[m for m in iv.index if m.startswith("QALYs (lifetime, undiscounted")][0]]
    assert q.difference > 0
    assert df.attrs["hazard_modifiers"]["control"] == "none"


def test_tissue_regeneration_hypothesis_is_off_by_default_and_labelled():
    assert _cohort(5).hazard_modifiers is None
    mods = tissue_regeneration_modifiers("central")
    assert HYPOTHESIS_LABEL in mods.label and HYPOTHESIS_LABEL == "hypothesis, no solid human evidence"
    for g, (lo, hi) in mods.uncertainty.items():
        assert lo <= mods.multipliers[g] <= hi and hi == 1.0
    base = simulate(_cohort(100), None, n_mc=40, seed=1)
    hyp = simulate(_cohort(100, mods=mods), None, n_mc=40, seed=1)
    assert hyp.incidence("renal").mean() < base.incidence("renal").mean()
    null = simulate(_cohort(100, mods=tissue_regeneration_modifiers("null")), None, n_mc=40, seed=1)
    np.testing.assert_array_equal(null.life_years, base.life_years)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hba1c=25.0), "hba1c"),
        (dict(sbp=20.0), "sbp"),
        (dict(egfr=-3.0), "egfr"),
        (dict(ethnicity="other"), "ethnicity"),
        (dict(duration=70.0), "duration"),
        (dict(smoker=2), "smoker"),
        (dict(history={"gout": 1}), "history"),
    ],
)
def test_bad_input_names_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OM2Inputs(**{**R, "female": 0, **kwargs})


def test_bad_run_options():
    c = OM2Inputs(female=0, **R)
    with pytest.raises(ValueError, match="n_mc"):
        simulate(c, 10, n_mc=0)
    with pytest.raises(ValueError, match="hazard modifier"):
        HazardModifiers({"cancer": 0.5})
    with pytest.raises(ValueError, match="reference"):
        compare_arms({"a": c}, 5, n_mc=2, reference="b")


def test_from_frame_and_report_formatting():
    d = _arrays(35)
    frame = pd.DataFrame({k: v for k, v in d.items()})
    frame["history_mi"] = (np.arange(35) % 7 == 0).astype(int)
    c = OM2Inputs.from_frame(frame)
    assert c.history_arr["mi"].sum() == 5
    c2 = OM2Inputs.from_frame(frame, hba1c=d["hba1c"] - 1.0)
    df = compare_arms({"control": c, "lower A1c": c2}, 12, n_mc=10, seed=1, n_boot=200)
    wide = format_comparison(df)
    assert list(wide.columns[:3]) == ["unit", "control", "lower A1c"]
    assert wide.shape[0] == df["measure"].nunique()
    cell = wide.loc["cumulative incidence 10 y: first myocardial infarction", "lower A1c - control (95% interval)"]
    assert cell.startswith(("-", "+")) and "[" in cell
    with pytest.raises(ValueError, match="missing columns"):
        OM2Inputs.from_frame(frame.drop(columns=["wbc"]))


def test_incidence_curve_is_consistent_with_per_patient_incidence():
    res = simulate(_cohort(20), 30, n_mc=40, seed=2)
    for o in ("mi", "death", "blindness"):
        curve = res.incidence_curve(o)
        assert curve.shape == (30,)
        assert np.all(np.diff(curve) >= 0)
        assert curve[9] == pytest.approx(res.incidence(o, 10).mean(), abs=1e-12)
        assert curve[-1] == pytest.approx(res.incidence(o).mean(), abs=1e-12)
