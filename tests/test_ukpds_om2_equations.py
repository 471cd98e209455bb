"""UKPDS OM2 event equations against hand-computed probabilities.

Oracles:
* Table 6.4 of /work/shared/reference/complication-models.md: one-year probabilities for
  reference patient R computed by the t2dsim researcher from the published coefficients
  (Hayes et al. Diabetologia 2013;56:1925, ESM Tables 4-6 as carried by two public
  implementations), reproduced here to 1e-6 absolute.
* Independent arithmetic in this file: coefficients typed from the same tables (not read from
  the package CSV), covariates written as literal numbers, probabilities via ``math``.
"""

import math

import numpy as np
import pytest

from t2dsim.outcomes.ukpds_om2 import equation_probability, load_coefficients, model_covariates

# Reference patient R (complication-models.md 6.4): white, non-smoker, age 60, diagnosed at 52
REFERENCE_PATIENT = R = dict(
    age=60.0,
    duration=8.0,
    hba1c=7.5,
    sbp=140.0,
    ldl=3.0,
    hdl=1.2,
    bmi=30.0,
    heart_rate=75.0,
    wbc=7.0,
    haemoglobin=14.5,
    egfr=75.0,
)

# (equation, time, history, male value, female value) from complication-models.md table 6.4
TABLE_64 = [
    ("chf", 8, {}, 0.002282, 0.002282),
    ("ihd", 8, {}, 0.008891, 0.005233),
    ("mi1", 8, {}, 0.008938, 0.005114),
    ("mi2", 8, {"mi": 1}, 0.028344, 0.028344),
    ("stroke1", 8, {}, 0.003875, 0.002548),
    ("stroke2", 8, {"stroke": 1}, 0.013183, 0.013183),
    ("blind", 8, {}, 0.002565, 0.002565),
    ("ulcer", 8, {}, 0.001891, 0.000723),
    ("amp1_no_ulcer", 8, {}, 0.000698, 0.000447),
    ("amp1_ulcer", 8, {"ulcer": 1}, 0.014009, 0.014009),
    ("amp2", 8, {"amputation": 1}, 0.078618, 0.078618),
    ("renal", 8, {}, 0.000281, 0.000118),
    ("death_nhne", 60, {}, 0.006860, 0.005460),
    ("death_nhye", 60, {"_event": "mi"}, 0.297130, 0.297130),
    ("death_yhne", 60, {"mi": 1}, 0.008638, 0.008638),
    ("death_yhye", 60, {"mi": 1, "_event": "mi"}, 0.729680, 0.729680),
]


@pytest.mark.parametrize("female", [0, 1])
@pytest.mark.parametrize("row", TABLE_64, ids=[r[0] for r in TABLE_64])
def test_reference_patient_table_6_4(row, female):
    name, time, hist, p_male, p_female = row
    hist = dict(hist)
    event = hist.pop("_event", None)
    cov = model_covariates(female=female, history=hist, events={event: 1} if event else None, **R)
    if name == "mi1":
        name = "mi1_female" if female else "mi1_male"
    p = float(equation_probability(name, cov, time))
    expected = p_female if female else p_male
    assert p == pytest.approx(expected, abs=1.5e-6), (name, female)


# ---------------------------------------------------------------------------------------------
# Independent arithmetic for a high-risk patient H (covariates written out by hand)
# ---------------------------------------------------------------------------------------------
# H: woman, Afro-Caribbean, current smoker, age 68, diabetes for 15 y (AGE_DIAG 53), HbA1c 9.0 %,
# SBP 155 mmHg, LDL 4.2 mmol/L, HDL 1.0 mmol/L, BMI 33, eGFR 48, heart rate 82/min, WBC 8.5,
# Hb 12.5 g/dL, albuminuria, atrial fibrillation, PVD; prior IHD, CHF and ulcer.
H_COV = {
    "AGE_DIAG": 53.0,
    "AGE": 68.0,
    "DURATION": 15.0,
    "FEMALE": 1.0,
    "AFRO": 1.0,
    "INDIAN": 0.0,
    "ATFIB": 1.0,
    "BMI": 33.0,
    "EGFR10": 4.8,
    "EGFR_LT60": 4.8,
    "EGFR_GE60": 0.0,
    "HBA1C": 9.0,
    "HDL10": 10.0,
    "LDL10": 42.0,
    "LDL_GT35": 7.0,
    "MMALB": 1.0,
    "PVD": 1.0,
    "SBP10": 15.5,
    "SMOKER": 1.0,
    "WBC": 8.5,
    "HR10": 8.2,
    "HAEM": 12.5,
    "BMI_LT_18_5": 0.0,
    "BMI_GE_25": 1.0,
    "IHD_HIST": 1.0,
    "CHF_HIST": 1.0,
    "ULCER_HIST": 1.0,
    "AMP_HIST": 0.0,
    "STROKE_HIST": 0.0,
    "BLIND_HIST": 0.0,
    "MI_HIST": 0.0,
    "RENAL_HIST": 0.0,
    "MI_EVENT": 1.0,
    "IHD_EVENT": 0.0,
    "STROKE_EVENT": 0.0,
    "RENAL_EVENT": 0.0,
    "AMP_EVENT": 0.0,
    "AMP2_EVENT": 0.0,
}
H_NATURAL = dict(
    age=68.0,
    duration=15.0,
    female=1,
    afro=1,
    hba1c=9.0,
    sbp=155.0,
    ldl=4.2,
    hdl=1.0,
    bmi=33.0,
    egfr=48.0,
    heart_rate=82.0,
    wbc=8.5,
    haemoglobin=12.5,
    smoker=1,
    mmalb=1,
    atfib=1,
    pvd=1,
    history={"ihd": 1, "chf": 1, "ulcer": 1},
    events={"mi": 1},
)

# Coefficients typed from Hayes 2013 ESM Tables 4-6 (complication-models.md sections 2.1-2.3)
HAND = {
    "chf": (
        "W",
        -12.332,
        1.514,
        dict(
            AGE_DIAG=0.068,
            ATFIB=1.562,
            BMI=0.072,
            EGFR_LT60=-0.220,
            LDL10=0.012,
            MMALB=0.771,
            PVD=0.479,
            AMP_HIST=0.658,
            ULCER_HIST=0.654,
        ),
    ),
    "ihd": (
        "W",
        -6.709,
        1.276,
        dict(
            AGE_DIAG=0.016,
            FEMALE=-0.532,
            EGFR10=-0.053,
            HDL10=-0.065,
            LDL10=0.023,
            PVD=0.486,
            SBP10=0.058,
            AMP_HIST=0.526,
            CHF_HIST=0.824,
        ),
    ),
    "mi1_female": (
        "W",
        -8.708,
        1.376,
        dict(
            AFRO=-1.684,
            AGE_DIAG=0.041,
            EGFR_LT60=-0.280,
            HBA1C=0.078,
            LDL_GT35=0.035,
            MMALB=0.277,
            PVD=0.469,
            SBP10=0.056,
            SMOKER=0.344,
            WBC=0.070,
            CHF_HIST=0.853,
            IHD_HIST=0.876,
        ),
    ),
    "mi1_male": (
        "W",
        -8.791,
        1.0,
        dict(
            AFRO=-0.830,
            AGE_DIAG=0.045,
            INDIAN=0.279,
            HBA1C=0.108,
            HDL10=-0.049,
            LDL10=0.023,
            MMALB=0.203,
            PVD=0.340,
            SBP10=0.046,
            SMOKER=0.277,
            WBC=0.026,
            AMP_HIST=0.743,
            CHF_HIST=0.814,
            IHD_HIST=0.846,
            STROKE_HIST=0.448,
        ),
    ),
    "stroke1": (
        "W",
        -13.053,
        1.466,
        dict(
            AGE_DIAG=0.066,
            FEMALE=-0.420,
            ATFIB=1.476,
            EGFR_LT60=-0.190,
            HBA1C=0.092,
            LDL10=0.016,
            MMALB=0.420,
            SBP10=0.170,
            SMOKER=0.331,
            WBC=0.040,
            AMP_HIST=1.090,
            IHD_HIST=0.481,
        ),
    ),
    "stroke2": ("W", -9.431, 1.956, dict(AGE_DIAG=0.046, MMALB=0.537, SMOKER=0.656)),
    "blind": (
        "W",
        -11.607,
        1.0,
        dict(AGE_DIAG=0.047, HBA1C=0.171, HR10=0.080, SBP10=0.068, WBC=0.052, CHF_HIST=0.841, IHD_HIST=0.610),
    ),
    "ulcer": ("L", -11.295, None, dict(AGE_DIAG=0.043, FEMALE=-0.962, BMI=0.053, HBA1C=0.160, PVD=0.968)),
    "amp1_no_ulcer": (
        "W",
        -14.844,
        2.067,
        dict(
            AGE_DIAG=0.023,
            FEMALE=-0.445,
            ATFIB=1.088,
            HBA1C=0.248,
            HDL10=-0.059,
            HR10=0.098,
            MMALB=0.602,
            PVD=1.010,
            SBP10=0.086,
            WBC=0.040,
            STROKE_HIST=1.299,
        ),
    ),
    "amp1_ulcer": ("W", -0.881, 1.0, dict(AGE_DIAG=-0.065, PVD=1.769)),
    "amp2": ("W", -3.455, 1.0, dict(HBA1C=0.127)),
    "renal": (
        "W",
        3.549,
        1.0,
        dict(
            AFRO=0.686,
            AGE_DIAG=-0.029,
            FEMALE=-0.869,
            BMI=-0.054,
            EGFR_LT60=-1.031,
            EGFR_GE60=-0.487,
            HAEM=-0.268,
            LDL10=0.027,
            MMALB=1.373,
            SBP10=0.085,
            WBC=0.029,
            AMP_HIST=1.108,
            BLIND_HIST=0.732,
        ),
    ),
    "death_nhne": ("G", -10.908, 0.098, dict(FEMALE=-0.229, SMOKER=0.379)),
    "death_nhye": (
        "L",
        -6.916,
        None,
        dict(
            INDIAN=-0.540,
            AGE=0.058,
            DURATION=0.042,
            HR10=0.124,
            PVD=0.367,
            SMOKER=0.444,
            AMP_EVENT=-0.734,
            IHD_EVENT=0.423,
            MI_EVENT=1.309,
            RENAL_EVENT=0.584,
            STROKE_EVENT=0.547,
        ),
    ),
    "death_yhne": (
        "G",
        -9.207,
        0.073,
        dict(
            BMI_LT_18_5=1.083,
            BMI_GE_25=-0.293,
            MMALB=0.348,
            SMOKER=0.374,
            WBC=0.048,
            AMP_HIST=0.539,
            CHF_HIST=0.632,
            RENAL_HIST=1.150,
            STROKE_HIST=0.473,
        ),
    ),
    "death_yhye": (
        "L",
        -4.868,
        None,
        dict(
            AGE=0.050,
            ATFIB=1.081,
            HDL10=0.068,
            PVD=0.352,
            WBC=0.089,
            AMP_EVENT=-1.267,
            AMP2_EVENT=-1.727,
            AMP_HIST=0.753,
            IHD_EVENT=0.583,
            IHD_HIST=-0.507,
            MI_EVENT=0.982,
            MI_HIST=0.440,
            RENAL_HIST=0.961,
            STROKE_EVENT=-0.619,
        ),
    ),
}


def hand_probability(name: str, cov: dict, time: float) -> float:
    kind, lam, shape, beta = HAND[name]
    xb = lam + sum(b * cov[k] for k, b in beta.items())
    if kind == "W":  # Weibull / exponential on diabetes duration
        return 1.0 - math.exp(math.exp(xb) * (time**shape - (time + 1.0) ** shape))
    if kind == "G":  # Gompertz on age
        return 1.0 - math.exp(math.exp(xb) / shape * (math.exp(shape * time) - math.exp(shape * (time + 1.0))))
    return 1.0 / (1.0 + math.exp(-xb))


@pytest.mark.parametrize("name", sorted(HAND))
def test_high_risk_patient_independent_arithmetic(name):
    time = 68.0 if HAND[name][0] == "G" else 15.0
    expected = hand_probability(name, H_COV, time)
    cov = model_covariates(**H_NATURAL)
    got = float(equation_probability(name, cov, time))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert 0.0 < got < 1.0


def test_covariate_count_matches_published_tables():
    # number of covariates (excluding intercept/shape) per equation in Hayes 2013 ESM Tables 4-6
    eqs = load_coefficients()
    for name, (_, lam, shape, beta) in HAND.items():
        assert set(eqs[name].beta) == set(beta), name
        assert eqs[name].intercept == lam
        if shape is not None:
            assert eqs[name].shape == shape


def test_female_mi_uses_female_weibull_shape():
    # With rho = 1.376 the annual hazard rises with duration as ((d+1)^rho - d^rho); with the
    # male shape (rho = 1, the cvdm bug) it would not change with duration at all.
    cov = model_covariates(female=1, **R)
    p5, p25 = (float(equation_probability("mi1_female", cov, d)) for d in (5.0, 25.0))
    kind, lam, rho, beta = HAND["mi1_female"]
    assert rho == 1.376
    h = lambda d: (d + 1) ** rho - d**rho  # noqa: E731
    assert (-math.log1p(-p25)) / (-math.log1p(-p5)) == pytest.approx(h(25) / h(5), rel=1e-9)
    # the bug would give 0.001665 at duration 8 (complication-models.md 6.4); we give 0.005114
    assert float(equation_probability("mi1_female", cov, 8.0)) > 3 * 0.001665


@pytest.mark.parametrize("name", ["chf", "mi1_female", "stroke1", "renal"])
def test_egfr_spline_is_continuous_and_monotone(name):
    egfr = np.array([59.999, 60.0, 60.001])
    cov = model_covariates(female=np.ones(3), **{**R, "egfr": egfr})
    p = equation_probability(name, cov, 8.0)
    assert np.ptp(p) < 1e-3 * p.mean()  # no jump at the knot (a jump would be > 2x)
    low = model_covariates(female=1, **{**R, "egfr": 30.0})
    high = model_covariates(female=1, **{**R, "egfr": 90.0})
    assert float(equation_probability(name, low, 8.0)) > float(equation_probability(name, high, 8.0))


def test_ldl_spline_knot_at_3_5_mmol():
    ldl = np.array([2.0, 3.5, 3.6])
    cov = model_covariates(female=np.ones(3), **{**R, "ldl": ldl})
    p = equation_probability("mi1_female", cov, 8.0)
    assert p[0] == pytest.approx(p[1], rel=1e-12)  # flat below the knot (no LDL10 term for women)
    hz = -np.log1p(-p)
    assert hz[2] / hz[1] == pytest.approx(math.exp(0.035 * 1.0), rel=1e-9)  # 0.1 mmol/L above knot


def test_unknown_equation_is_rejected():
    with pytest.raises(ValueError, match="unknown OM2 event equation"):
        equation_probability("mi3", model_covariates(female=0, **R), 8.0)
