"""UKPDS OM2 event equations against values computed outside this project.

Oracles:
* complication-models.md 6.5(a): the COMPAR-EU diabetes model's printed one-year probabilities,
  all 15 equations x 2 sexes, to 4 significant figures (inputs as that script used them).
* complication-models.md 6.5(b): the Hayes et al. 2013 ESM worked examples (CHF, death in an event year).
* Independent arithmetic in this file: coefficients typed from the same tables (not read from
  the package CSV), covariates written as literal numbers, probabilities via ``math``.
"""

import math

import numpy as np
import pytest

from t2dsim.outcomes.ukpds_om2 import (
    annual_probability,
    equation_probability,
    linear_predictor,
    load_coefficients,
    model_covariates,
)

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

# ---------------------------------------------------------------------------------------------
# complication-models.md 6.5(a): COMPAR-EU diabetes model (icorroramos/COMPAR-EU_diabetes_model, R),
# R/validation_ukpds.R, one-year probabilities printed in its comments (first printed in commit b533ec5,
# 2021-03-19; unchanged in the later versions of the file). An independent implementation: it agrees
# with ours on the equation forms, time scales and coefficients, not necessarily on the inputs.
#
# The patient that produced those numbers is NOT the one 6.5(a) describes (the file's later version):
# at commits b533ec5 .. 032a40e input/UK/baseline_characteristics_UK.csv held HDL 3.08 and LDL 1.19
# mmol/L (HDL and LDL swapped against the later 1.1896 / 3.0773) and smoker, Afro-Caribbean, Indian,
# PVD and AF all 0 (later: fractional population means). Its split terms were indicator-style
# (eGFR60less = eGFR/10 if eGFR < 60 else 0, eGFR60more = eGFR/10 if eGFR >= 60 else 0, LDL35more =
# 10 LDL if 10 LDL >= 35 else 0), which t2dsim does not use (docs/complications.md, "split terms").
# With the inputs and split terms that script actually used, every value must agree to 4 significant
# figures (rtol 5e-5); the one remaining disagreement (first amputation with prior ulcer) is a
# coefficient and is stated below.
# ---------------------------------------------------------------------------------------------
CEU_PATIENT = dict(
    age=57.0, duration=8.44, hba1c=8.8, sbp=139.0, ldl=1.19, hdl=3.08, bmi=32.3,
    egfr=70.0, heart_rate=79.0, wbc=6.6, haemoglobin=14.0,
)  # fmt: skip
# (equation, time, female value, male value): time = diabetes duration, or current age (Gompertz)
CEU_VALUES = [
    ("chf", 8.44, 0.00657647, 0.00657647),
    ("ihd", 8.44, 0.0009983311, 0.001698897),
    ("mi1", 8.44, 0.02571863, 0.002285789),
    ("mi2", 8.44, 0.01946934, 0.01946934),
    ("stroke1", 8.44, 0.005297622, 0.00805162),
    ("stroke2", 8.44, 0.01181782, 0.01181782),
    ("blind", 8.44, 0.002737117, 0.002737117),
    ("amp1_no_ulcer", 8.44, 0.0002014471, 0.0003143385),
    ("amp1_ulcer", 8.44, 0.01874466, 0.01874466),
    ("amp2", 8.44, 0.0920613, 0.0920613),
    ("renal", 8.44, 0.002630565, 0.006261229),
    ("ulcer", 8.44, 0.0008675062, 0.002267019),
    ("death_nhye", 8.44, 0.09313699, 0.09313699),
    ("death_yhye", 8.44, 0.6601135, 0.6601135),
    ("death_nhne", 57.0, 0.004071926, 0.005117118),
]
# COMPAR-EU's constant of "first amputation, prior ulcer" is -0.811; t2dsim ships -0.881 (the
# awinn1/microsim_tutorial and Antonio-Kuri/stanPkgTest copies; Hayes 2013 ESM Table 5, column "first
# amputation with prior ulcer", row "lambda" (constant) could not be read to settle it, see
# docs/complications.md). Our hazard is therefore exp(-0.07) = 0.932 x theirs; with their constant it agrees.
CEU_AMP1_ULCER_LAMBDA = -0.811


def ceu_covariates(female: int) -> dict:
    cov = model_covariates(female=female, **CEU_PATIENT)
    egfr10, ldl10 = CEU_PATIENT["egfr"] / 10, CEU_PATIENT["ldl"] * 10
    cov["EGFR_LT60"] = np.float64(egfr10 if egfr10 < 6 else 0.0)  # their indicator-style split terms
    cov["EGFR_GE60"] = np.float64(egfr10 if egfr10 >= 6 else 0.0)
    cov["LDL_GT35"] = np.float64(ldl10 if ldl10 >= 35 else 0.0)
    return cov


@pytest.mark.parametrize("female", [1, 0], ids=["female", "male"])
@pytest.mark.parametrize("row", CEU_VALUES, ids=[r[0] for r in CEU_VALUES])
def test_compar_eu_value_6_5a(row, female):
    name, time, p_female, p_male = row
    if name == "mi1":
        name = "mi1_female" if female else "mi1_male"
    expected = p_female if female else p_male
    cov = ceu_covariates(female)
    got = float(equation_probability(name, cov, time))
    if name == "amp1_ulcer":
        hazard_ratio = math.log1p(-got) / math.log1p(-expected)  # exponential form: ratio of exp(xb)
        assert hazard_ratio == pytest.approx(math.exp(-0.881 - CEU_AMP1_ULCER_LAMBDA), rel=5e-5)
        eq = load_coefficients()[name]
        assert eq.intercept == -0.881
        got = float(annual_probability(eq, linear_predictor(eq, cov) - eq.intercept + CEU_AMP1_ULCER_LAMBDA, time))
    assert got == pytest.approx(expected, rel=5e-5), (name, female)


# ---------------------------------------------------------------------------------------------
# complication-models.md 6.5(b): worked examples of the Hayes et al. 2013 ESM as reported by a
# reviewer who read it (the patient definition could not be checked against the ESM here). Male,
# age 70, duration 8, Afro-Caribbean, smoker, BMI 32, HbA1c 6.5 %, SBP 140, HDL 1.4, LDL 3.0,
# heart rate 93.8, eGFR 50, albuminuria, Hb 14.2, WBC 9.9, prior amputation: one-year CHF 0.027
# (published to 2 significant figures: tolerance +-0.0005). At eGFR 50 the hinge and the indicator
# split give the same EGFR_LT60 = 5.0, so this checks the below-knot scale (eGFR/10, not
# (eGFR - 60)/10), not the choice between the two.
# Death in the event year at duration 12, heart rate 80: 0.597 with an MI, 0.286 with CHF (3
# significant figures: +-0.0005). They are reproduced by the first-event-year equation (no prior
# complication), not by the with-history one (0.900 / 0.772 with the prior amputation), so the
# reviewer's death examples are for a patient without the amputation history.
# ---------------------------------------------------------------------------------------------
HAYES_ESM = dict(
    female=0, afro=1, smoker=1, bmi=32.0, hba1c=6.5, sbp=140.0, hdl=1.4, ldl=3.0, egfr=50.0,
    mmalb=1, haemoglobin=14.2, wbc=9.9,
)  # fmt: skip


def test_hayes_2013_esm_worked_examples_6_5b():
    cov = model_covariates(age=70.0, duration=8.0, heart_rate=93.8, history={"amputation": 1}, **HAYES_ESM)
    assert float(equation_probability("chf", cov, 8.0)) == pytest.approx(0.027, abs=5e-4)
    mi = model_covariates(age=70.0, duration=12.0, heart_rate=80.0, events={"mi": 1}, **HAYES_ESM)
    chf_only = model_covariates(age=70.0, duration=12.0, heart_rate=80.0, **HAYES_ESM)
    assert float(equation_probability("death_nhye", mi, 12.0)) == pytest.approx(0.597, abs=5e-4)
    assert float(equation_probability("death_nhye", chf_only, 12.0)) == pytest.approx(0.286, abs=5e-4)


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
