"""UKPDS Outcomes Model 2 equations (Hayes et al., Diabetologia 2013): coefficients, covariates, linear
predictors and annual event probabilities (Weibull, exponential, Gompertz, logistic). Coefficients in
``parameters/om2_coefficients.csv``, one row per coefficient with source and tag."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from t2dsim.outcomes.utilities import CONDITIONS

__all__ = [
    "FORMS",
    "Equation",
    "annual_probability",
    "equation_probability",
    "linear_predictor",
    "load_coefficients",
    "model_covariates",
    "rf_coefficients",
]


# --------------------------------------------------------------------------------------------
# Coefficients
# --------------------------------------------------------------------------------------------

FORMS = ("weibull", "exponential", "gompertz", "logistic", "linear")


@dataclass(frozen=True)
class Equation:
    """One OM2 equation: parametric form, intercept ``lambda``, shape, covariate coefficients."""

    name: str
    form: str
    intercept: float
    shape: float  # rho (Weibull; 1 for exponential) or phi (Gompertz); nan for logistic/linear
    beta: Mapping[str, float]


@lru_cache(maxsize=1)
def load_coefficients() -> Mapping[str, Equation]:
    """Read ``parameters/om2_coefficients.csv`` into immutable :class:`Equation` records."""
    text = resources.files("t2dsim.outcomes").joinpath("parameters/om2_coefficients.csv").read_text()
    rows: dict[str, dict] = {}
    for row in csv.DictReader(text.splitlines()):
        eq = rows.setdefault(row["equation"], {"form": row["form"], "terms": {}})
        if row["form"] != eq["form"]:
            raise ValueError(f"coefficient file: equation {row['equation']} has mixed forms")
        eq["terms"][row["term"]] = float(row["value"])
    out: dict[str, Equation] = {}
    for name, eq in rows.items():
        terms = dict(eq["terms"])
        form = eq["form"]
        if form not in FORMS:
            raise ValueError(f"coefficient file: unknown form {form!r} for {name}")
        intercept = terms.pop("lambda", terms.pop("CONST", 0.0)) if form != "linear" else 0.0
        if form == "weibull":
            shape = terms.pop("rho")
        elif form == "exponential":
            shape = 1.0
        elif form == "gompertz":
            shape = terms.pop("phi")
        else:
            shape = math.nan
        out[name] = Equation(name, form, intercept, shape, MappingProxyType(terms))
    return MappingProxyType(out)


def rf_coefficients() -> Mapping[str, Mapping[str, float]]:
    """Risk-factor time-path coefficients (equations ``rf_*``) as plain mappings."""
    return {k: v.beta for k, v in load_coefficients().items() if v.form == "linear"}


# --------------------------------------------------------------------------------------------
# Covariates and probabilities
# --------------------------------------------------------------------------------------------


def model_covariates(
    *,
    age: ArrayLike,
    duration: ArrayLike,
    female: ArrayLike,
    afro: ArrayLike = 0,
    indian: ArrayLike = 0,
    hba1c: ArrayLike,
    sbp: ArrayLike,
    ldl: ArrayLike,
    hdl: ArrayLike,
    bmi: ArrayLike,
    egfr: ArrayLike,
    heart_rate: ArrayLike,
    wbc: ArrayLike,
    haemoglobin: ArrayLike,
    smoker: ArrayLike = 0,
    mmalb: ArrayLike = 0,
    atfib: ArrayLike = 0,
    pvd: ArrayLike = 0,
    history: Mapping[str, ArrayLike] | None = None,
    events: Mapping[str, ArrayLike] | None = None,
) -> dict[str, np.ndarray]:
    """Map natural-unit risk factors to the OM2 covariates (Hayes 2013 ESM variable definitions).

    Scalings: SBP/10, HDL x10, LDL x10, heart rate/10, eGFR/10; splines (resolved, see docs):
    ``EGFR_LT60 = min(eGFR, 60)/10``, ``EGFR_GE60 = max(eGFR - 60, 0)/10``,
    ``LDL_GT35 = max(10 LDL - 35, 0)``. ``history`` keys: the 8 :data:`CONDITIONS`
    (``mi`` etc.); ``events`` keys: ``mi, ihd, stroke, renal, amputation1, amputation2``.
    """
    f = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    age_a, dur_a, egfr_a, ldl_a, bmi_a = f(age), f(duration), f(egfr), f(ldl), f(bmi)
    cov = {
        "AGE": age_a,
        "DURATION": dur_a,
        "AGE_DIAG": age_a - dur_a,
        "FEMALE": f(female),
        "AFRO": f(afro),
        "INDIAN": f(indian),
        "HBA1C": f(hba1c),
        "SBP10": f(sbp) / 10.0,
        "LDL10": ldl_a * 10.0,
        "LDL_GT35": np.maximum(ldl_a * 10.0 - 35.0, 0.0),
        "HDL10": f(hdl) * 10.0,
        "BMI": bmi_a,
        "BMI_LT_18_5": (bmi_a < 18.5).astype(np.float64),
        "BMI_GE_25": (bmi_a >= 25.0).astype(np.float64),
        "EGFR10": egfr_a / 10.0,
        "EGFR_LT60": np.minimum(egfr_a, 60.0) / 10.0,
        "EGFR_GE60": np.maximum(egfr_a - 60.0, 0.0) / 10.0,
        "HR10": f(heart_rate) / 10.0,
        "WBC": f(wbc),
        "HAEM": f(haemoglobin),
        "SMOKER": f(smoker),
        "MMALB": f(mmalb),
        "ATFIB": f(atfib),
        "PVD": f(pvd),
    }
    history = history or {}
    for c in CONDITIONS:
        cov[f"{c.upper()}_HIST"] = f(history.get(c, 0))
    cov["AMP_HIST"] = cov.pop("AMPUTATION_HIST")
    cov["BLIND_HIST"] = cov.pop("BLINDNESS_HIST")
    events = events or {}
    for key, name in (
        ("mi", "MI_EVENT"),
        ("ihd", "IHD_EVENT"),
        ("stroke", "STROKE_EVENT"),
        ("renal", "RENAL_EVENT"),
        ("amputation1", "AMP_EVENT"),
        ("amputation2", "AMP2_EVENT"),
    ):
        cov[name] = f(events.get(key, 0))
    return cov


def linear_predictor(eq: Equation, cov: Mapping[str, np.ndarray]) -> np.ndarray:
    """``xb = lambda + sum_k beta_k x_k`` (KeyError if a covariate is missing)."""
    xb = np.asarray(eq.intercept, dtype=np.float64)
    for term, beta in eq.beta.items():
        xb = xb + beta * cov[term]
    return xb


def annual_probability(eq: Equation, xb: np.ndarray, time: ArrayLike) -> np.ndarray:
    """Probability of the event within ``[time, time + 1]`` years.

    ``time`` is diabetes duration (Weibull/exponential) or current age (Gompertz); ignored for
    the logistic form.
    """
    t = np.asarray(time, dtype=np.float64)
    if eq.form in ("weibull", "exponential"):
        rho = eq.shape
        dh = np.exp(xb) * ((t + 1.0) ** rho - np.maximum(t, 0.0) ** rho)
        return -np.expm1(-dh)
    if eq.form == "gompertz":
        phi = eq.shape
        dh = np.exp(xb) / phi * (np.exp(phi * (t + 1.0)) - np.exp(phi * t))
        return -np.expm1(-dh)
    if eq.form == "logistic":
        return 1.0 / (1.0 + np.exp(-xb))
    raise ValueError(f"{eq.name}: form {eq.form!r} is not an event equation")


def equation_probability(name: str, cov: Mapping[str, np.ndarray], time: ArrayLike) -> np.ndarray:
    """Annual probability from the named OM2 equation (e.g. ``"mi1_female"``, ``"death_nhne"``)."""
    eqs = load_coefficients()
    if name not in eqs or eqs[name].form == "linear":
        allowed = sorted(k for k, v in eqs.items() if v.form != "linear")
        raise ValueError(f"unknown OM2 event equation {name!r}; allowed: {allowed}")
    eq = eqs[name]
    return annual_probability(eq, linear_predictor(eq, cov), time)
