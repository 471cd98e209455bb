"""UKPDS OM2 simulator: HbA1c 1 %-point lower for life vs the UKPDS 35 gradient, like with like.

Reference: Stratton IM et al. Association of glycaemia with macrovascular and microvascular
complications of type 2 diabetes (UKPDS 35). BMJ 2000;321:405-412. UKPDS 35 is an observational
analysis: it reports the relative risk reduction per 1 %-point lower *updated mean* HbA1c
(hazard/rate ratio from models of incidence), not a difference of cumulative incidences.
The like-with-like simulated quantity is therefore the incidence rate ratio of the first event
(events per person-year at risk, 10 years, about the UKPDS 35 median follow-up) between two runs
of the same patients with the same random numbers whose HbA1c differs by exactly 1 point in
every year (so the updated mean differs by 1 point too).

UKPDS 35 numbers and their status:
* abstract (V, read: PMC27454 and four copies in the pages corpus): any diabetes-related end point
  21 % (95 % CI 17-24), diabetes-related death 21 % (15-27), myocardial infarction 14 % (8-21),
  microvascular end points 37 % (33-41), "predominantly retinal photocoagulation";
* secondary end points, point estimates only (S: NIH National Diabetes Education Program slide
  citing Stratton 2000, webarchive.library.unt.edu ... ndep.nih.gov/resources/presentations/
  diabetescontrol/slide13.htm): stroke 12 %, amputation or death from peripheral vascular disease
  43 %, heart failure 16 %, cataract extraction 19 %. Their confidence intervals were not
  reachable (U), so these end points are judged by a stated "rough size" band instead.

Mapping of OM2 events onto UKPDS 35 end points (OM2 HbA1c terms: Hayes 2013 ESM Tables 4-5):
MI -> first MI (HbA1c term); stroke -> first stroke (HbA1c term); amputation or PVD death -> first
amputation (HbA1c term without prior ulcer; none after ulcer; OM2 has no PVD death);
heart failure -> CHF (no HbA1c term); microvascular -> renal failure (no HbA1c term) or blindness
(HbA1c term; UKPDS 35's aggregate was mostly photocoagulation, which OM2 does not model);
any diabetes-related end point -> first of MI, IHD, stroke, CHF, amputation, blindness, renal
failure (OM2 lacks photocoagulation, vitreous haemorrhage, cataract extraction and does not
separate diabetes-related deaths). Cataract extraction and diabetes-related death: no OM2 event.

Tolerances:
* Monte Carlo: ``se`` = paired bootstrap SE of the simulated reduction over patients (measured
  about 0.2 percentage points for MI, 1.3 for amputation); bounds are widened by 2 ``se`` only.
* End points with a verified CI (MI, microvascular, any end point): the simulated reduction must
  lie inside the UKPDS 35 95 % CI (+- 2 se).
* End points with a point estimate only (stroke, amputation, heart failure): "rough size" =
  the simulated log rate ratio per point (the coefficient of a log-linear incidence model, the
  scale on which UKPDS 35 estimated its gradients) within a factor of 2 of UKPDS 35's
  -ln(1 - reduction), +- 2 se, same direction.
End points where OM2's published coefficients cannot reach UKPDS 35 are strict xfails with the
measured numbers in the reason (a strict xfail turns into a failure if the model changes so that
it passes, prompting this file to be updated).
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


def reduction(arms, outcomes):
    """Simulated relative reduction per point (1 - rate ratio) and its Monte Carlo SE."""
    rr = rate_ratio(arms[0.0], arms[1.0], outcomes, YEARS, n_boot=400, seed=1)
    return rr.reduction, rr.ratio * rr.se_log


def log_gradient(arms, outcomes):
    """Simulated log rate ratio per point, -ln(RR) (the coefficient a log-linear incidence model
    such as UKPDS 35's estimates), and its Monte Carlo SE."""
    rr = rate_ratio(arms[0.0], arms[1.0], outcomes, YEARS, n_boot=400, seed=1)
    return -math.log(rr.ratio), rr.se_log


MACRO_MICRO_ANY = ["mi", "ihd", "stroke", "chf", "amputation", "blindness", "renal"]


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
# UKPDS 35 end points with a verified 95 % CI
# ----------------------------------------------------------------------------------------------


def test_myocardial_infarction_per_1pct_within_ukpds35_ci(arms):
    """MI: UKPDS 35 14 % (95 % CI 8-21 %, abstract, V). OM2: log-hazard 0.108 (men) / 0.078
    (women) per point. Measured (seed 35): 9.3 % (MC SE 0.2 %), inside the CI. Note that OM2's
    women-only gradient (7.5 %) lies just below the CI; UKPDS 35's abstract is not sex-specific."""
    red, se = reduction(arms, ["mi"])
    assert 0.08 - 2 * se <= red <= 0.21 + 2 * se, (red, se)


@pytest.mark.xfail(
    strict=True,
    reason="Known property of OM2's published coefficients: renal failure has no HbA1c term and "
    "UKPDS 35's microvascular aggregate was mostly retinal photocoagulation (not an OM2 event). "
    "Measured OM2 (blindness or renal failure): 12.9 % (MC SE 0.4 %) per point vs UKPDS 35 37 % (33-41).",
)
def test_microvascular_per_1pct_within_ukpds35_ci(arms):
    red, se = reduction(arms, ["blindness", "renal"])
    assert 0.33 - 2 * se <= red <= 0.41 + 2 * se, (red, se)


@pytest.mark.xfail(
    strict=True,
    reason="Known property of OM2: IHD, CHF and renal failure have no HbA1c term and OM2 lacks "
    "photocoagulation, vitreous haemorrhage and cataract extraction, the HbA1c-sensitive parts of "
    "UKPDS 35's aggregate. Measured OM2 (first of MI, IHD, stroke, CHF, amputation, blindness, "
    "renal failure): 6.3 % (MC SE 0.1 %) per point vs UKPDS 35 any diabetes-related end point 21 % (17-24).",
)
def test_any_diabetes_endpoint_per_1pct_within_ukpds35_ci(arms):
    red, se = reduction(arms, MACRO_MICRO_ANY)
    assert 0.17 - 2 * se <= red <= 0.24 + 2 * se, (red, se)


# ----------------------------------------------------------------------------------------------
# UKPDS 35 end points with a point estimate only (CI not reachable): log gradient within x2
# ----------------------------------------------------------------------------------------------


def rough_size(beta: float, se: float, point_reduction: float) -> bool:
    target = -math.log(1.0 - point_reduction)
    return target / 2 - 2 * se <= beta <= 2 * target + 2 * se


def test_stroke_per_1pct_rough_size_of_ukpds35(arms):
    """Stroke: UKPDS 35 12 % (point estimate, S) -> log gradient 0.128 per point, band
    [0.064, 0.256]. OM2 stroke equation log-hazard 0.092. Measured: 0.093 (MC SE 0.004), 8.9 %."""
    beta, se = log_gradient(arms, ["stroke"])
    assert beta > 0 and rough_size(beta, se, 0.12), (beta, se)


@pytest.mark.xfail(
    strict=True,
    reason="Known property of OM2: first amputation without prior ulcer has log-hazard 0.248 per "
    "point (22 %), amputation after an ulcer none, and OM2 has no PVD deaths. Measured OM2 first "
    "amputation: 19.8 % per point, log gradient 0.221 (MC SE 0.017) vs UKPDS 35 amputation or PVD "
    "death 43 % (log gradient 0.562, rough-size band 0.281-1.124); the direction agrees.",
)
def test_amputation_per_1pct_rough_size_of_ukpds35(arms):
    beta, se = log_gradient(arms, ["amputation"])
    assert beta > 0 and rough_size(beta, se, 0.43), (beta, se)


@pytest.mark.xfail(
    strict=True,
    reason="Known property of OM2's published coefficients: the CHF equation has no HbA1c term, "
    "so lowering HbA1c changes heart failure only through other events (measured 0.0 % per "
    "point, MC SE 0.1 %) vs UKPDS 35 heart failure 16 % (log gradient 0.174, band 0.087-0.349).",
)
def test_heart_failure_per_1pct_rough_size_of_ukpds35(arms):
    beta, se = log_gradient(arms, ["chf"])
    assert beta > 0 and rough_size(beta, se, 0.16), (beta, se)


def test_blindness_and_amputation_fall_more_than_mi_as_in_ukpds35(arms):
    """Ordering reported by UKPDS 35 (abstract and S): the gradient is steeper for microvascular
    and amputation end points than for MI. OM2 reproduces the ordering: first amputation and
    blindness fall by more per point than first MI (measured 19.8 % and 15.4 % vs 9.3 %);
    checked beyond 2 MC SE of each difference."""
    mi, se_mi = reduction(arms, ["mi"])
    for outcome in ("amputation", "blindness"):
        red, se = reduction(arms, [outcome])
        assert red - mi > 2 * math.hypot(se, se_mi), (outcome, red, mi)


def test_lifetime_direction_fewer_complications_longer_life():
    """Direction over a lifetime (UKPDS 35: no threshold, lower HbA1c always lower risk):
    fewer first MIs, fewer blindness/renal/amputation events, longer life with HbA1c - 1."""
    res = {s: simulate(ukpds_like_cohort(300, s), None, n_mc=40, seed=7, extend="constant") for s in (0.0, 1.0)}
    assert res[1.0].incidence("mi").mean() < res[0.0].incidence("mi").mean()
    micro = {
        s: (np.stack([r.first_year[k] for k in ("blindness", "renal", "amputation")]) >= 0).any(axis=0).mean()
        for s, r in res.items()
    }
    assert micro[1.0] < micro[0.0]
    assert res[1.0].life_years.mean() > res[0.0].life_years.mean()
