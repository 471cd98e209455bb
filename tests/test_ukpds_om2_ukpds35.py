"""UKPDS OM2 simulator: HbA1c 1 %-point lower for life vs outside estimates of the HbA1c gradient, like with like.

The simulated quantity is the incidence rate ratio of the first event (events per person-year at risk,
10 years) between two runs of the same patients with the same random numbers whose HbA1c differs by exactly
1 point in every year; its log, -ln(RR), is the per-point coefficient that cohort studies estimate.

Circular numbers removed (issue 17). This file used to compare OM2 with UKPDS 35 (Stratton, BMJ
2000;321:405): MI 14 % (8-21), stroke 12 %, microvascular 37 % (33-41), any end point 21 % (17-24),
amputation 43 %, heart failure 16 %, and the ordering amputation/blindness > MI. Those gradients and OM2's
HbA1c coefficients (Hayes 2013, UKPDS 82) were both estimated on the same UKPDS patients (UKPDS 35: 3,642
UKPDS participants, 1977-1997; OM2: 5,102 UKPDS participants to 2007), so agreement could not validate
OM2 and disagreement only restated how OM2 was specified. They are gone.

Independent reference now: Zhang Y, Hu G, Yuan Z, Chen L. Glycosylated hemoglobin in relationship to
cardiovascular outcomes and death in patients with type 2 diabetes: a systematic review and meta-analysis.
PLoS One 2012;7:e42551 (abstract, V, pages corpus): 26 prospective cohorts, pooled relative risk per 1 %
higher HbA1c: coronary heart disease 1.15 (95 % CI 1.10-1.20), heart failure 1.11 (1.05-1.18), stroke 1.11
(1.06-1.17), peripheral arterial disease 1.29 (1.18-1.40), all-cause mortality 1.15 (1.11-1.20). Caveat:
UKPDS 35 may be one of the 26 cohorts (the included-study list was not reachable), so the pool is mostly,
not wholly, independent of OM2's source data.

Mapping: CHD -> first MI (OM2's IHD equation has no HbA1c term; the pooled CHD end points are mostly MI and
fatal CHD); PAD -> first amputation (OM2 has no PAD event; amputation is PAD's severe end, so a gradient at
least as steep is expected); heart failure -> CHF; stroke -> stroke.
Tolerance: the simulated -ln(RR) must lie inside the log of the published 95 % CI, widened by 2 Monte Carlo
SE (paired bootstrap over patients; about 0.002-0.017 on the log scale).
"""

import math

import numpy as np
import pytest

from t2dsim.outcomes.rates import first_event_rates, rate_ratio
from t2dsim.outcomes.ukpds_om2 import EVENT_GROUPS, HazardModifiers, OM2Inputs, simulate

YEARS = 10
N_PATIENTS = 1000
N_MC = 200
SEED = 35


def ukpds_like_cohort(n: int, shift: float = 0.0, female_share: float = 0.41, seed: int = 2000, mods=None):
    """Newly diagnosed cohort resembling the UKPDS at entry (U: approximate, from memory of
    UKPDS 33/35 baseline tables: age 53 +- 9 y (25-65), ~59 % men, ~82 % white, HbA1c around 7 %,
    SBP 135 mmHg, BMI 28 kg/m^2). HbA1c is held at each patient's value minus ``shift`` in every
    year; other risk factors constant. The per-1 % rate ratio of end points with a direct HbA1c
    term does not depend on these choices (proportional hazards); composites depend on them weakly.
    """
    g = np.random.default_rng(seed)
    hb = np.clip(g.normal(7.4, 1.2, n), 5.5, 11.0)
    eth = g.choice(["white", "asian_indian", "afro_caribbean"], size=n, p=[0.82, 0.10, 0.08])
    return OM2Inputs(
        age=np.clip(g.normal(53.0, 8.6, n), 25.0, 65.0),
        duration=np.zeros(n),
        female=(g.random(n) < female_share),
        hba1c=lambda t, hb=hb: hb - shift,
        sbp=np.clip(g.normal(135.0, 18.0, n), 100.0, 200.0),
        ldl=np.clip(g.normal(3.5, 0.9, n), 1.5, 7.0),
        hdl=np.clip(g.normal(1.05, 0.25, n), 0.5, 2.5),
        bmi=np.clip(g.normal(28.0, 5.0, n), 18.0, 50.0),
        egfr=np.clip(g.normal(80.0, 15.0, n), 30.0, 130.0),
        heart_rate=np.clip(g.normal(75.0, 11.0, n), 45.0, 120.0),
        wbc=np.clip(g.normal(7.0, 1.8, n), 3.0, 14.0),
        haemoglobin=np.clip(g.normal(14.3, 1.3, n), 10.0, 18.0),
        smoker=(g.random(n) < 0.30),
        mmalb=(g.random(n) < 0.10),
        ethnicity=eth,
        patient_id=np.arange(n),
        hazard_modifiers=mods,
    )


@pytest.fixture(scope="module")
def arms():
    """Same 1000 patients, HbA1c as drawn vs 1 point lower in every year; 200 replicates, 10 y."""
    return {
        s: simulate(ukpds_like_cohort(N_PATIENTS, s), YEARS, n_mc=N_MC, seed=SEED, extend="constant")
        for s in (0.0, 1.0)
    }


def log_gradient(arms, outcomes):
    """Simulated log rate ratio per point, -ln(RR) (the coefficient a log-linear incidence model
    estimates), and its Monte Carlo SE."""
    rr = rate_ratio(arms[0.0], arms[1.0], outcomes, YEARS, n_boot=400, seed=1)
    return -math.log(rr.ratio), rr.se_log


# ----------------------------------------------------------------------------------------------
# Machinery: the rate-ratio estimator recovers a known proportional-hazards ratio
# ----------------------------------------------------------------------------------------------


def test_rate_ratio_recovers_the_hazard_ratio_of_a_single_equation():
    """Men only, every event switched off except first MI (exponential equation, HbA1c
    log-hazard 0.108 per %-point, Hayes 2013 ESM Table 4, typed here): the simulated first-MI
    rate ratio for HbA1c - 1 must equal exp(-0.108) = 0.8976. Tolerance 3 Monte Carlo SE plus
    0.003 for the mid-year event-time convention (annual probabilities p <= 3 %)."""
    off = HazardModifiers({g: (1.0 if g == "mi" else 0.0) for g in EVENT_GROUPS})
    res = {
        s: simulate(ukpds_like_cohort(600, s, female_share=0.0, mods=off), YEARS, n_mc=60, seed=3, extend="constant")
        for s in (0.0, 1.0)
    }
    rr = rate_ratio(res[0.0], res[1.0], ["mi"], YEARS, n_boot=400, seed=2)
    assert abs(rr.ratio - math.exp(-0.108)) < 3 * rr.ratio * rr.se_log + 0.003, (rr.ratio, rr.se_log)


def test_first_event_rates_person_time_by_hand():
    """Person-time bookkeeping against a hand count: with every event and death switched off,
    each row contributes exactly 10 person-years and no events; with blindness made certain in
    cycle 0 (hazard x 1e6), each row contributes 0.5 person-years and one event."""
    none = HazardModifiers({g: 0.0 for g in EVENT_GROUPS})
    c = ukpds_like_cohort(5, mods=none)
    r = simulate(c, YEARS, n_mc=20, seed=1, extend="constant")
    fer = first_event_rates(r, ["blindness"], YEARS)
    dead = (r.first_year["death"] >= 0).sum(axis=1)
    # deaths are still possible (mortality equations are not modified): alive rows give 10 y
    assert fer.events.sum() == 0
    assert np.all(fer.person_years <= 20 * YEARS) and np.all(fer.person_years[dead == 0] == 20 * YEARS)
    sure = HazardModifiers({g: (1e6 if g == "blindness" else 0.0) for g in EVENT_GROUPS})
    r2 = simulate(ukpds_like_cohort(5, mods=sure), YEARS, n_mc=20, seed=1, extend="constant")
    fer2 = first_event_rates(r2, ["blindness"], YEARS)
    np.testing.assert_array_equal(fer2.events, np.full(5, 20.0))
    np.testing.assert_array_equal(fer2.person_years, np.full(5, 20 * 0.5))


def test_rate_ratio_rejects_unpaired_results_and_bad_outcomes(arms):
    other = simulate(ukpds_like_cohort(10), YEARS, n_mc=2, seed=1)
    with pytest.raises(ValueError, match="same patients"):
        rate_ratio(arms[0.0], other, ["mi"], YEARS)
    with pytest.raises(ValueError, match="outcomes"):
        first_event_rates(arms[0.0], ["gout"], YEARS)
    with pytest.raises(ValueError, match="years"):
        first_event_rates(arms[0.0], ["mi"], YEARS + 1)


# ----------------------------------------------------------------------------------------------
# Zhang 2012 pooled cohort estimates (per 1 % higher HbA1c)
# ----------------------------------------------------------------------------------------------


def inside_ci(beta: float, se: float, low: float, high: float) -> bool:
    """Simulated -ln(RR) inside [ln low, ln high] of a published relative risk per point, +- 2 MC SE."""
    return math.log(low) - 2 * se <= beta <= math.log(high) + 2 * se


def test_mi_gradient_inside_pooled_chd_ci(arms):
    """First MI vs Zhang 2012 CHD 1.15 (1.10-1.20). OM2 MI log-hazard 0.108 (men) / 0.078 (women).
    Measured (seed 35): RR 1.103 (-ln RR 0.098, MC SE 0.002), at the lower edge of the CI. Context, not
    asserted: a UK primary-care cohort (CPRD, n = 101,799, updated latest / updated mean HbA1c) gives MI
    1.11 (1.09-1.13) / 1.15 (1.13-1.18)."""
    beta, se = log_gradient(arms, ["mi"])
    assert inside_ci(beta, se, 1.10, 1.20), (math.exp(beta), se)


def test_stroke_gradient_inside_pooled_ci(arms):
    """Stroke vs Zhang 2012 1.11 (1.06-1.17). OM2 stroke log-hazard 0.092. Measured: RR 1.097 (MC SE 0.004)."""
    beta, se = log_gradient(arms, ["stroke"])
    assert inside_ci(beta, se, 1.06, 1.17), (math.exp(beta), se)


def test_amputation_gradient_inside_pooled_pad_ci(arms):
    """First amputation vs Zhang 2012 PAD 1.29 (1.18-1.40) (OM2 has no PAD event). OM2 amputation without prior
    ulcer log-hazard 0.248, none after an ulcer. Measured: RR 1.247 (-ln RR 0.221, MC SE 0.017)."""
    beta, se = log_gradient(arms, ["amputation"])
    assert inside_ci(beta, se, 1.18, 1.40), (math.exp(beta), se)


@pytest.mark.xfail(
    strict=True,
    reason="Known property of OM2's published coefficients: the CHF equation has no HbA1c term, so lowering "
    "HbA1c changes heart failure only through other events (measured RR 1.00 per point, MC SE 0.001) vs "
    "Zhang 2012 pooled heart failure 1.11 (1.05-1.18).",
)
def test_heart_failure_gradient_inside_pooled_ci(arms):
    beta, se = log_gradient(arms, ["chf"])
    assert inside_ci(beta, se, 1.05, 1.18), (math.exp(beta), se)


def test_lifetime_direction_fewer_complications_longer_life():
    """Direction over a lifetime with HbA1c - 1: fewer first MIs, fewer blindness/renal/amputation events and
    longer life (Zhang 2012: all-cause mortality 1.15 (1.11-1.20) per 1 % higher HbA1c; direction only)."""
    res = {s: simulate(ukpds_like_cohort(300, s), None, n_mc=40, seed=7, extend="constant") for s in (0.0, 1.0)}
    assert res[1.0].incidence("mi").mean() < res[0.0].incidence("mi").mean()
    micro = {
        s: (np.stack([r.first_year[k] for k in ("blindness", "renal", "amputation")]) >= 0).any(axis=0).mean()
        for s, r in res.items()
    }
    assert micro[1.0] < micro[0.0]
    assert res[1.0].life_years.mean() > res[0.0].life_years.mean()
