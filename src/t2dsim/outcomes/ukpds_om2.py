"""UKPDS Outcomes Model 2 (Hayes et al., Diabetologia 2013;56:1925-1933; UKPDS 82).

Patient-level annual-cycle Monte Carlo microsimulation of diabetes complications and death.

Equations and forms (coefficients in ``parameters/om2_coefficients.csv``, one row per coefficient
with source and tag; see docs/complications.md for the resolved discrepancies):

* Weibull (time = diabetes duration d, years): ``H(d) = exp(xb) d^rho``,
  annual probability ``p = 1 - exp(H(d) - H(d+1))``; exponential = Weibull with ``rho = 1``.
* Gompertz (time = current age a, years): ``H(a) = exp(xb) (exp(phi a) - 1) / phi``,
  ``p = 1 - exp(H(a) - H(a+1))``.
* Logistic: ``p = 1 / (1 + exp(-xb))`` (ulcer, death in a year with an event).

Cycle logic (one year, all rows at once):

1. Risk factors for the cycle come from :class:`~t2dsim.outcomes.risk_factors.RiskFactorPaths`.
2. Every event equation is evaluated with the histories at the START of the cycle (an event
   first acts as a history covariate in the next cycle). Because no equation sees same-cycle
   events, the evaluation order is irrelevant and no order randomisation is needed.
   First-event equations apply to rows without that history; the second-event equations (MI,
   stroke, amputation) to rows with it, and are reused for later repeats.
3. Death: one of four equations chosen by (any of the 8 complications before the cycle) x
   (an MI, IHD, stroke, CHF, amputation or renal-failure event in the cycle; blindness and
   ulcer do not switch to the event-year equations); events of the death year are counted.
4. Histories updated, age and duration + 1.

Random numbers: uniform ``u(seed, patient_id, replicate, year, slot)`` from a counter-based
SplitMix64 hash, so each patient's draws depend only on its key, never on chunking or on the
other patients. Two arms run with the same seed and patient ids share random numbers (common
random numbers), which makes between-arm differences precise.

Units: age/duration years; HbA1c %; SBP mmHg; LDL/HDL mmol/L; BMI kg/m^2; eGFR mL/min/1.73 m^2
(MDRD in OM2); heart rate beats/min; WBC 10^9/L; haemoglobin g/dL.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from t2dsim.core.rng import keyed_state, uniform_from_state
from t2dsim.outcomes.risk_factors import (
    ALL_FACTORS,
    BINARY_FACTORS,
    FactorSource,
    PathSpec,
    RiskFactorPaths,
    normalise_factor,
)
from t2dsim.outcomes.utilities import CONDITIONS, UtilitySet, utility_set
from t2dsim.therapies.stemcells.regeneration import (
    HAZARD_GROUPS,
    HYPOTHESIS_LABEL,
    TISSUE_REGENERATION_RANGES,
    HazardModifiers,
    tissue_regeneration_modifiers,
)

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


# --------------------------------------------------------------------------------------------
# Counter-based random numbers keyed by (seed, patient_id, replicate, year, slot)
# --------------------------------------------------------------------------------------------

_SLOTS = {
    "mi": 0,
    "ihd": 1,
    "stroke": 2,
    "chf": 3,
    "amputation": 4,
    "blindness": 5,
    "renal": 6,
    "ulcer": 7,
    "death": 8,
}


def row_keys(seed: int, patient_id: np.ndarray, replicate: np.ndarray) -> np.ndarray:
    """Hash-chain state per simulated row from (seed, patient_id, replicate) (:mod:`t2dsim.core.rng`)."""
    return keyed_state(seed, "om2:events", np.asarray(patient_id), np.asarray(replicate))


def uniforms(keys: np.ndarray, year: int, slot: str) -> np.ndarray:
    """U(0,1) draws, one per row, for the given cycle and event slot (53-bit resolution)."""
    return uniform_from_state(keys, int(year) * 16 + _SLOTS[slot] + 1)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

EVENT_GROUPS: tuple[str, ...] = CONDITIONS
assert set(EVENT_GROUPS) == set(HAZARD_GROUPS), "OM2 event groups and the hazard-modifier groups must agree"
#: Outcomes recorded (first occurrence year): first events, second events, death.
OUTCOMES: tuple[str, ...] = (
    "mi",
    "mi2",
    "ihd",
    "stroke",
    "stroke2",
    "chf",
    "amputation",
    "amputation2",
    "blindness",
    "renal",
    "ulcer",
    "death",
)
OUTCOME_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "mi": "first myocardial infarction",
        "mi2": "second myocardial infarction",
        "ihd": "ischaemic heart disease",
        "stroke": "first stroke",
        "stroke2": "second stroke",
        "chf": "congestive heart failure",
        "amputation": "first amputation",
        "amputation2": "second amputation",
        "blindness": "blindness (one eye)",
        "renal": "renal failure",
        "ulcer": "diabetic foot ulcer",
        "death": "death (any cause)",
    }
)
_ETHNICITY = {"white": 0, "afro_caribbean": 1, "asian_indian": 2}

@dataclass
class OM2Cohort:
    """Per-patient inputs (arrays of length n; scalars broadcast).

    Time-varying factors (``hba1c, sbp, ldl, hdl, bmi, egfr, heart_rate, wbc, haemoglobin,
    smoker, mmalb, atfib, pvd``) accept a baseline ``(n,)``, a path ``(n, n_years)`` (column j =
    value during cycle j, e.g. HbA1c from the progression model) or a callable ``f(cycle)``
    returning ``(n,)`` (or None to hand over to the extension rule).
    ``age`` (years) and ``duration`` (years since diagnosis) are at simulation start.
    ``history``: prior complications at start, keys from :data:`CONDITIONS` (``mi``, ...).
    """

    age: ArrayLike
    female: ArrayLike
    duration: ArrayLike
    hba1c: PathSpec | ArrayLike
    sbp: PathSpec | ArrayLike
    ldl: PathSpec | ArrayLike
    hdl: PathSpec | ArrayLike
    bmi: PathSpec | ArrayLike
    egfr: PathSpec | ArrayLike
    heart_rate: PathSpec | ArrayLike
    wbc: PathSpec | ArrayLike
    haemoglobin: PathSpec | ArrayLike
    smoker: PathSpec | ArrayLike = 0
    mmalb: PathSpec | ArrayLike = 0
    atfib: PathSpec | ArrayLike = 0
    pvd: PathSpec | ArrayLike = 0
    ethnicity: ArrayLike = "white"
    patient_id: ArrayLike | None = None
    history: Mapping[str, ArrayLike] = field(default_factory=dict)
    hazard_modifiers: HazardModifiers | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, **overrides) -> OM2Cohort:
        """Build a cohort from a DataFrame with one row per patient.

        Columns named like the fields (``age, female, duration, hba1c, ...``, optional
        ``ethnicity, patient_id, smoker, mmalb, atfib, pvd`` and ``history_<condition>``) are used;
        keyword ``overrides`` (e.g. ``hba1c=path_array``) replace columns.
        """
        fields = (
            "age",
            "female",
            "duration",
            *ALL_FACTORS,
            "ethnicity",
            "patient_id",
        )
        kw: dict = {k: frame[k].to_numpy() for k in fields if k in frame.columns}
        hist = {c: frame[f"history_{c}"].to_numpy() for c in CONDITIONS if f"history_{c}" in frame.columns}
        if hist:
            kw["history"] = hist
        kw.update(overrides)
        missing = [k for k in ("age", "female", "duration", *ALL_FACTORS[:9]) if k not in kw]
        if missing:
            raise ValueError(f"from_frame: missing columns {missing}")
        return cls(**kw)

    def __post_init__(self) -> None:
        n = 1
        for name in ("age", "female", "duration", "patient_id", *ALL_FACTORS):
            val = getattr(self, name)
            if val is not None and not callable(val) and np.ndim(val) >= 1:
                n = max(n, np.shape(val)[0])
        self.n = n
        age = np.asarray(self.age, dtype=np.float64)
        age = np.full(n, float(age)) if age.ndim == 0 else age
        if age.shape != (n,):
            raise ValueError(f"age: expected shape ({n},), got {age.shape}")

        def vec(name: str, x: ArrayLike, dtype=np.float64) -> np.ndarray:
            a = np.asarray(x, dtype=dtype)
            if a.ndim == 0:
                a = np.full(n, a, dtype=dtype)
            if a.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
            return a

        if np.any(~np.isfinite(age) | (age < 18) | (age > 110)):
            raise ValueError("age: values must be in [18, 110] years")
        dur = vec("duration", self.duration)
        if np.any(~np.isfinite(dur) | (dur < 0) | (dur > age - 10)):
            raise ValueError("duration: values must be in [0, age - 10] years since diagnosis")
        fem = vec("female", self.female)
        if np.any((fem != 0) & (fem != 1)):
            raise ValueError("female: must be 0/1 (or bool)")
        eth = np.asarray(self.ethnicity)
        if eth.ndim == 0:
            eth = np.full(n, eth.item())
        if eth.dtype.kind in "UO":
            bad = [e for e in np.unique(eth) if e not in _ETHNICITY]
            if bad:
                raise ValueError(
                    f"ethnicity: {bad[0]!r} not allowed; allowed: {list(_ETHNICITY)} "
                    "(OM2 was estimated for these three groups only)"
                )
            eth = np.array([_ETHNICITY[e] for e in eth], dtype=np.int64)
        eth = vec("ethnicity", eth, np.int64)
        if np.any((eth < 0) | (eth > 2)):
            raise ValueError("ethnicity: integer codes must be 0 white, 1 afro_caribbean, 2 asian_indian")
        if self.patient_id is None:
            pid = np.arange(n, dtype=np.int64)
        else:
            pid = vec("patient_id", self.patient_id, np.int64)
        if np.any(pid < 0) or np.unique(pid).size != n:
            raise ValueError("patient_id: must be unique non-negative integers")
        hist = {}
        for k, v in self.history.items():
            if k not in CONDITIONS:
                raise ValueError(f"history: unknown condition {k!r}; allowed: {list(CONDITIONS)}")
            h = vec(f"history[{k}]", v)
            if np.any((h != 0) & (h != 1)):
                raise ValueError(f"history[{k}]: must be 0/1")
            hist[k] = h.astype(bool)
        for k in CONDITIONS:
            hist.setdefault(k, np.zeros(n, dtype=bool))
        self.sources: dict[str, FactorSource] = {
            name: normalise_factor(name, getattr(self, name), n) for name in ALL_FACTORS
        }
        self.age_arr, self.duration_arr, self.female_arr = age, dur, fem.astype(bool)
        self.afro_arr, self.indian_arr = eth == 1, eth == 2
        self.patient_id_arr, self.history_arr = pid, hist


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


@dataclass
class OM2Result:
    """Raw per-(patient, replicate) results; arrays have shape ``(n_patients, n_mc)``.

    ``first_year[o]``: cycle index (0 = first simulated year) of the first occurrence of outcome
    ``o`` (-1 = never within the simulated horizon). Life years count 0.5 in the year of death.
    """

    patient_id: np.ndarray
    n_mc: int
    n_years: int
    first_year: dict[str, np.ndarray]
    life_years: np.ndarray
    life_years_disc: np.ndarray
    qalys: np.ndarray
    qalys_disc: np.ndarray
    alive_at_end: np.ndarray
    discount_rate: float
    utilities: str
    #: cycle in which a row reached ``max_age`` alive and was censored (-1 = not censored).
    censor_year: np.ndarray

    def incidence(self, outcome: str, years: int | None = None) -> np.ndarray:
        """Per-patient probability ``(n_patients,)`` that ``outcome`` occurred within ``years``."""
        fy = self.first_year[outcome]
        hit = fy >= 0 if years is None else (fy >= 0) & (fy < years)
        return hit.mean(axis=1)

    def incidence_curve(self, outcome: str) -> np.ndarray:
        """Cohort cumulative incidence ``(n_years,)``: element ``y-1`` = fraction of simulated
        lives (all patients x replicates) with ``outcome`` within ``y`` years (crude, i.e. with
        death as a competing risk)."""
        fy = self.first_year[outcome].ravel()
        counts = np.bincount(fy[fy >= 0], minlength=self.n_years)[: self.n_years]
        return np.cumsum(counts) / fy.size

    def patient_table(self, at_years: int = 10) -> pd.DataFrame:
        """One row per patient: incidence at ``at_years`` and over the horizon, LE, QALYs."""
        data: dict[str, np.ndarray] = {"patient_id": self.patient_id}
        for o in OUTCOMES:
            data[f"{o}_{at_years}y"] = self.incidence(o, at_years)
            data[f"{o}_horizon"] = self.incidence(o)
        data["life_years"] = self.life_years.mean(axis=1)
        data["life_years_disc"] = self.life_years_disc.mean(axis=1)
        data["qalys"] = self.qalys.mean(axis=1)
        data["qalys_disc"] = self.qalys_disc.mean(axis=1)
        return pd.DataFrame(data)


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
#: Events that move a row to the "death in the year of an event" equations. Blindness and ulcer
#: are excluded (they carry no event coefficient), while all 8 complications count as history
#: (Sheffield T2D Treatment Model v3, Pollard et al. 2023, "UKPDS 82 risk functions"; tag S).
_EVENT_YEAR_SWITCH = ("mi", "ihd", "stroke", "chf", "amputation", "renal")
_DEATH_EQUATIONS = ("death_nhne", "death_nhye", "death_yhne", "death_yhye")


def _prob(eq: Equation, cov: Mapping[str, np.ndarray], time: np.ndarray) -> np.ndarray:
    return annual_probability(eq, linear_predictor(eq, cov), time)


def _p_mod(p: np.ndarray, mods: HazardModifiers | None, group: str) -> np.ndarray:
    if mods is None or group not in mods.multipliers:
        return p
    m = mods.multipliers[group]
    return -np.expm1(m * np.log1p(-np.minimum(p, 1.0 - 1e-16)))


def simulate(
    cohort: OM2Cohort,
    horizon_years: int | None = None,
    n_mc: int = 100,
    seed: int = 0,
    *,
    max_age: float = 100.0,
    utilities: UtilitySet | str = "ukpds62",
    discount_rate: float = 0.035,
    extend: str = "ukpds90",
) -> OM2Result:
    """Run the OM2 microsimulation for ``n_mc`` replicates of every patient.

    ``horizon_years=None`` simulates a lifetime (until death or ``max_age`` years; rows reaching
    ``max_age`` are censored alive). Discounting: year ``t`` (0-based) weighted ``(1+r)^-t``.
    """
    if n_mc < 1:
        raise ValueError(f"n_mc must be >= 1, got {n_mc}")
    if horizon_years is not None and not 1 <= horizon_years <= 100:
        raise ValueError(f"horizon_years must be in [1, 100] or None, got {horizon_years}")
    if not 0.0 <= discount_rate <= 0.2:
        raise ValueError(f"discount_rate must be in [0, 0.2] per year, got {discount_rate}")
    us = utility_set(utilities) if isinstance(utilities, str) else utilities
    eqs = load_coefficients()
    n = cohort.n
    rows = n * n_mc
    rep = lambda x: np.repeat(x, n_mc)  # noqa: E731
    pid = rep(cohort.patient_id_arr)
    keys = row_keys(seed, pid, np.tile(np.arange(n_mc, dtype=np.int64), n))
    age0, dur0 = rep(cohort.age_arr), rep(cohort.duration_arr)
    female, afro, indian = rep(cohort.female_arr), rep(cohort.afro_arr), rep(cohort.indian_arr)
    n_years = horizon_years if horizon_years is not None else int(math.ceil(max_age - age0.min()))
    mods = cohort.hazard_modifiers

    paths = RiskFactorPaths(
        cohort.sources,
        cohort.female_arr,
        cohort.afro_arr,
        cohort.indian_arr,
        cohort.duration_arr,
        rf_coefficients(),
        n_mc,
        extend,
    )
    hist = {c: rep(cohort.history_arr[c]).copy() for c in CONDITIONS}
    first_year = {o: np.full(rows, -1, dtype=np.int16) for o in OUTCOMES}
    ly = np.zeros(rows)
    ly_d = np.zeros(rows)
    q = np.zeros(rows)
    q_d = np.zeros(rows)
    alive = np.ones(rows, dtype=bool)
    censored = np.zeros(rows, dtype=bool)  # reached max_age alive
    censor_year = np.full(rows, -1, dtype=np.int16)

    for t in range(n_years):
        rf = paths.advance()
        age = age0 + t
        dur = dur0 + t
        reached = alive & (age >= max_age)
        censored |= reached
        censor_year[reached] = t
        alive &= ~reached
        if not alive.any():
            break
        cov = model_covariates(
            age=age,
            duration=dur,
            female=female,
            afro=afro,
            indian=indian,
            hba1c=rf["hba1c"],
            sbp=rf["sbp"],
            ldl=rf["ldl"],
            hdl=rf["hdl"],
            bmi=rf["bmi"],
            egfr=rf["egfr"],
            heart_rate=rf["heart_rate"],
            wbc=rf["wbc"],
            haemoglobin=rf["haemoglobin"],
            smoker=rf["smoker"],
            mmalb=rf["mmalb"],
            atfib=rf["atfib"],
            pvd=rf["pvd"],
            history=hist,
        )
        pr = {name: _prob(eqs[name], cov, dur) for name in _EVENT_EQUATIONS}
        p = {
            "mi": np.where(hist["mi"], pr["mi2"], np.where(female, pr["mi1_female"], pr["mi1_male"])),
            "stroke": np.where(hist["stroke"], pr["stroke2"], pr["stroke1"]),
            "amputation": np.where(
                hist["amputation"],
                pr["amp2"],
                np.where(hist["ulcer"], pr["amp1_ulcer"], pr["amp1_no_ulcer"]),
            ),
            "ihd": pr["ihd"],
            "chf": pr["chf"],
            "blindness": pr["blind"],
            "renal": pr["renal"],
            "ulcer": pr["ulcer"],
        }
        repeatable = ("mi", "stroke", "amputation")
        ev: dict[str, np.ndarray] = {}
        for g in EVENT_GROUPS:
            eligible = alive if g in repeatable else alive & ~hist[g]
            ev[g] = eligible & (uniforms(keys, t, g) < _p_mod(p[g], mods, g))

        # mortality (equations chosen by prior history x event this cycle)
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
        pm = {name: _prob(eqs[name], ecov, age) for name in _DEATH_EQUATIONS}
        p_death = np.where(
            any_hist,
            np.where(any_ev, pm["death_yhye"], pm["death_yhne"]),
            np.where(any_ev, pm["death_nhye"], pm["death_nhne"]),
        )
        died = alive & (uniforms(keys, t, "death") < p_death)

        # bookkeeping
        for g in EVENT_GROUPS:
            first = ev[g] & ~hist[g]
            first_year[g][first & (first_year[g] < 0)] = t
        for g, o in (("mi", "mi2"), ("stroke", "stroke2"), ("amputation", "amputation2")):
            again = ev[g] & hist[g] & (first_year[o] < 0)
            first_year[o][again] = t
        first_year["death"][died] = t
        frac = np.where(died, 0.5, 1.0) * alive
        present = {c: hist[c] | ev[c] for c in CONDITIONS}
        u = us.annual_utility(present)
        df = (1.0 + discount_rate) ** (-t)
        ly += frac
        ly_d += frac * df
        q += frac * u
        q_d += frac * u * df
        for g in EVENT_GROUPS:
            hist[g] |= ev[g]
        alive &= ~died

    shape = (n, n_mc)
    return OM2Result(
        patient_id=cohort.patient_id_arr.copy(),
        n_mc=n_mc,
        n_years=n_years,
        first_year={k: v.reshape(shape) for k, v in first_year.items()},
        life_years=ly.reshape(shape),
        life_years_disc=ly_d.reshape(shape),
        qalys=q.reshape(shape),
        qalys_disc=q_d.reshape(shape),
        alive_at_end=(alive | censored).reshape(shape),
        discount_rate=discount_rate,
        utilities=us.name,
        censor_year=censor_year.reshape(shape),
    )


__all__ = [
    "BINARY_FACTORS",
    "EVENT_GROUPS",
    "HYPOTHESIS_LABEL",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "Equation",
    "HazardModifiers",
    "OM2Cohort",
    "OM2Result",
    "TISSUE_REGENERATION_RANGES",
    "annual_probability",
    "equation_probability",
    "linear_predictor",
    "load_coefficients",
    "model_covariates",
    "row_keys",
    "simulate",
    "tissue_regeneration_modifiers",
    "uniforms",
]
