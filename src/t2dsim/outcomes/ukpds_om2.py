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
hash (:mod:`t2dsim.core.rng`), so each patient's draws depend only on its key, never on chunking or on the
other patients. Two arms run with the same seed and patient ids share random numbers (common
random numbers), which makes between-arm differences precise.

Units: age/duration years; HbA1c %; SBP mmHg; LDL/HDL mmol/L; BMI kg/m^2; eGFR mL/min/1.73 m^2
(MDRD in OM2); heart rate beats/min; WBC 10^9/L; haemoglobin g/dL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from t2dsim.core.rng import keyed_state, uniform_from_state
from t2dsim.outcomes.equations import (
    Equation,
    annual_probability,
    equation_probability,
    linear_predictor,
    load_coefficients,
    model_covariates,
    rf_coefficients,
)
from t2dsim.outcomes.inputs import OM2Inputs
from t2dsim.outcomes.risk_factors import (
    BINARY_FACTORS,
    RiskFactorPaths,
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
    cohort: OM2Inputs,
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
    "OM2Inputs",
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
