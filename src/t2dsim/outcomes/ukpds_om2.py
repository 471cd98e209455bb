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
#: History covariate of each condition (as named by :func:`model_covariates`).
_HIST_TERM = {c: {"amputation": "AMP_HIST", "blindness": "BLIND_HIST"}.get(c, f"{c.upper()}_HIST") for c in CONDITIONS}


def _p_mod(p: np.ndarray, mods: HazardModifiers | None, group: str) -> np.ndarray:
    if mods is None or group not in mods.multipliers:
        return p
    m = mods.multipliers[group]
    return -np.expm1(m * np.log1p(-np.minimum(p, 1.0 - 1e-16)))


#: Covariates that vary between the replicates of a patient: complication history and the cycle's events.
_ROW_TERMS = frozenset(_HIST_TERM.values()) | {
    "MI_EVENT",
    "IHD_EVENT",
    "STROKE_EVENT",
    "RENAL_EVENT",
    "AMP_EVENT",
    "AMP2_EVENT",
}


@dataclass(frozen=True)
class _Split:
    """An equation split for the cycle loop: ``xb = prefix + sum(row terms)`` in the coefficient file's
    term order, where ``prefix`` (intercept and the terms before the first history/event term) depends on
    the patient only and is computed once per patient and cycle. Adding the row terms afterwards, in
    order, repeats the floating-point operations of :func:`linear_predictor` exactly."""

    eq: Equation
    prefix: tuple[tuple[str, float], ...]
    rows: tuple[tuple[str, float], ...]


def _split(eq: Equation) -> _Split:
    terms = list(eq.beta.items())
    k = next((i for i, (term, _) in enumerate(terms) if term in _ROW_TERMS), len(terms))
    return _Split(eq, tuple(terms[:k]), tuple(terms[k:]))


class _Cycle:
    """One cycle's equation evaluation on the living rows (see :func:`simulate`).

    Patient-level parts (the covariate prefix of each linear predictor, the Weibull/Gompertz time
    factors, whole probabilities of equations without history/event terms) are computed per patient,
    ``(n_patients,)``, and gathered; only history/event terms, ``exp`` and the draws run per row.
    Each value is produced by the same floating-point operations, in the same order, as
    ``annual_probability(eq, linear_predictor(eq, cov), time)`` on all rows, so results are identical.
    """

    def __init__(self, cov_p: Mapping[str, np.ndarray], dur_p: np.ndarray, age_p: np.ndarray, pi: np.ndarray):
        self.cov_p, self.dur_p, self.age_p, self.pi = cov_p, dur_p, age_p, pi
        self.row_cov: dict[str, np.ndarray] = {}
        self._prefix: dict[str, np.ndarray] = {}
        self._time: dict[tuple[str, float], np.ndarray] = {}
        self._whole: dict[str, np.ndarray] = {}

    def _time_factor(self, eq: Equation) -> np.ndarray:
        key = (eq.form, eq.shape)
        tf = self._time.get(key)
        if tf is None:
            if eq.form in ("weibull", "exponential"):
                t, rho = self.dur_p, eq.shape
                tf = (t + 1.0) ** rho - np.maximum(t, 0.0) ** rho
            else:  # gompertz
                t, phi = self.age_p, eq.shape
                tf = np.exp(phi * (t + 1.0)) - np.exp(phi * t)
            self._time[key] = tf
        return tf

    def _finish(self, eq: Equation, xb: np.ndarray, tf: np.ndarray | None) -> np.ndarray:
        if eq.form in ("weibull", "exponential"):
            return -np.expm1(-(np.exp(xb) * tf))
        if eq.form == "gompertz":
            return -np.expm1(-(np.exp(xb) / eq.shape * tf))
        if eq.form == "logistic":
            return 1.0 / (1.0 + np.exp(-xb))
        raise ValueError(f"{eq.name}: form {eq.form!r} is not an event equation")

    def _prefix_p(self, sp: _Split) -> np.ndarray:
        xb = self._prefix.get(sp.eq.name)
        if xb is None:
            xb = np.asarray(sp.eq.intercept, dtype=np.float64)
            for term, beta in sp.prefix:
                xb = xb + beta * self.cov_p[term]
            xb = np.broadcast_to(xb, self.dur_p.shape)
            self._prefix[sp.eq.name] = xb
        return xb

    def _row_term(self, term: str, s: np.ndarray) -> np.ndarray:
        x = self.row_cov.get(term)
        if x is None:  # a patient-level covariate listed after a history term
            x = self.row_cov[term] = self.cov_p[term][self.pi]
        return x[s]

    def prob(self, sp: _Split, s: np.ndarray) -> np.ndarray:
        """Annual probability of ``sp`` for the living rows ``s`` (indices into the living rows)."""
        eq = sp.eq
        logistic = eq.form == "logistic"
        ps = self.pi[s]
        if not sp.rows:  # patient-level equation: whole probability per patient, gathered
            p = self._whole.get(eq.name)
            if p is None:
                tf = None if logistic else self._time_factor(eq)
                p = self._whole[eq.name] = self._finish(eq, self._prefix_p(sp), tf)
            return p[ps]
        xb = self._prefix_p(sp)[ps]
        for term, beta in sp.rows:
            xb = xb + beta * self._row_term(term, s)
        return self._finish(eq, xb, None if logistic else self._time_factor(eq)[ps])

    def events(
        self,
        g: str,
        groups: list[tuple[np.ndarray, _Split]],
        keys: np.ndarray,
        t: int,
        mods: HazardModifiers | None,
    ) -> np.ndarray:
        """Event indicators ``(m,)`` of group ``g`` for the living rows; ``groups``: (boolean mask of
        living rows, equation) pairs partitioning the rows eligible for ``g`` (others get no event)."""
        out = np.zeros(self.pi.size, dtype=bool)
        for mask, eq in groups:
            s = np.flatnonzero(mask)
            if s.size:
                out[s] = uniforms(keys[s], t, g) < _p_mod(self.prob(eq, s), mods, g)
        return out


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

    Implementation: rows are patient-major (row ``i * n_mc + r`` = replicate ``r`` of patient ``i``).
    Risk factors are deterministic paths, identical for a patient's replicates, so they and every
    patient-level part of the equations are computed per patient; each cycle evaluates equations only
    for the living rows eligible for them (first-event equations for rows without that history, the
    death equation that applies to the row), with the draws of those rows. Dead rows carry no new
    events, and a row's draws depend only on its key, so the results are those of evaluating every
    equation on every row (bit for bit; tests/test_ukpds_om2_simulator.py compares with that).
    """
    if n_mc < 1:
        raise ValueError(f"n_mc must be >= 1, got {n_mc}")
    if horizon_years is not None and not 1 <= horizon_years <= 100:
        raise ValueError(f"horizon_years must be in [1, 100] or None, got {horizon_years}")
    if not 0.0 <= discount_rate <= 0.2:
        raise ValueError(f"discount_rate must be in [0, 0.2] per year, got {discount_rate}")
    us = utility_set(utilities) if isinstance(utilities, str) else utilities
    eqs = load_coefficients()
    sp = {name: _split(eqs[name]) for name in (*_EVENT_EQUATIONS, *_DEATH_EQUATIONS)}
    n = cohort.n
    rows = n * n_mc
    age0_p, dur0_p = cohort.age_arr, cohort.duration_arr
    female_p = cohort.female_arr
    n_years = horizon_years if horizon_years is not None else int(math.ceil(max_age - age0_p.min()))
    mods = cohort.hazard_modifiers

    # Risk factors per patient (n_rep=1): the paths are deterministic, the same for every replicate.
    paths = RiskFactorPaths(
        cohort.sources,
        cohort.female_arr,
        cohort.afro_arr,
        cohort.indian_arr,
        cohort.duration_arr,
        rf_coefficients(),
        1,
        extend,
    )
    first_year = {o: np.full(rows, -1, dtype=np.int16) for o in OUTCOMES}
    ly = np.zeros(rows)
    ly_d = np.zeros(rows)
    q = np.zeros(rows)
    q_d = np.zeros(rows)
    alive = np.ones(rows, dtype=bool)
    censored = np.zeros(rows, dtype=bool)  # reached max_age alive
    censor_year = np.full(rows, -1, dtype=np.int16)

    # State of the living rows only (compressed as rows die): row index, patient index, keys, history.
    idx = np.arange(rows, dtype=np.int64)
    pi = idx // n_mc
    keys = row_keys(seed, np.repeat(cohort.patient_id_arr, n_mc), np.tile(np.arange(n_mc, dtype=np.int64), n))
    hist = {c: np.repeat(cohort.history_arr[c], n_mc) for c in CONDITIONS}

    def keep(mask: np.ndarray) -> None:
        nonlocal idx, pi, keys, hist
        idx, pi, keys = idx[mask], pi[mask], keys[mask]
        hist = {c: h[mask] for c, h in hist.items()}

    for t in range(n_years):
        rf = paths.advance()
        age_p = age0_p + t
        dur_p = dur0_p + t
        reached = age_p[pi] >= max_age
        if reached.any():
            r = idx[reached]
            censored[r] = True
            censor_year[r] = t
            alive[r] = False
            keep(~reached)
        m = idx.size
        if m == 0:
            break
        cov_p = model_covariates(
            age=age_p,
            duration=dur_p,
            female=female_p,
            afro=cohort.afro_arr,
            indian=cohort.indian_arr,
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
        )
        cyc = _Cycle(cov_p, dur_p, age_p, pi)
        for c in CONDITIONS:
            cyc.row_cov[_HIST_TERM[c]] = hist[c].astype(np.float64)

        h_mi, h_st, h_amp, h_ulc = hist["mi"], hist["stroke"], hist["amputation"], hist["ulcer"]
        fem = female_p[pi]
        # rows eligible for each event group, split by the equation that applies to them
        eligible = {
            "mi": [(h_mi, "mi2"), (~h_mi & fem, "mi1_female"), (~h_mi & ~fem, "mi1_male")],
            "ihd": [(~hist["ihd"], "ihd")],
            "stroke": [(h_st, "stroke2"), (~h_st, "stroke1")],
            "chf": [(~hist["chf"], "chf")],
            "amputation": [(h_amp, "amp2"), (~h_amp & h_ulc, "amp1_ulcer"), (~h_amp & ~h_ulc, "amp1_no_ulcer")],
            "blindness": [(~hist["blindness"], "blind")],
            "renal": [(~hist["renal"], "renal")],
            "ulcer": [(~h_ulc, "ulcer")],
        }
        ev = {g: cyc.events(g, [(mask, sp[name]) for mask, name in eligible[g]], keys, t, mods) for g in EVENT_GROUPS}

        # mortality (equations chosen by prior history x event this cycle)
        any_hist = np.zeros(m, dtype=bool)
        any_ev = np.zeros(m, dtype=bool)
        for g in EVENT_GROUPS:
            any_hist |= hist[g]
        for g in _EVENT_YEAR_SWITCH:
            any_ev |= ev[g]
        cyc.row_cov["MI_EVENT"] = ev["mi"].astype(np.float64)
        cyc.row_cov["IHD_EVENT"] = ev["ihd"].astype(np.float64)
        cyc.row_cov["STROKE_EVENT"] = ev["stroke"].astype(np.float64)
        cyc.row_cov["RENAL_EVENT"] = ev["renal"].astype(np.float64)
        cyc.row_cov["AMP_EVENT"] = (ev["amputation"] & ~h_amp).astype(np.float64)
        cyc.row_cov["AMP2_EVENT"] = (ev["amputation"] & h_amp).astype(np.float64)
        p_death = np.empty(m)
        for mask, name in (
            (any_hist & any_ev, "death_yhye"),
            (any_hist & ~any_ev, "death_yhne"),
            (~any_hist & any_ev, "death_nhye"),
            (~any_hist & ~any_ev, "death_nhne"),
        ):
            s = np.flatnonzero(mask)
            if s.size:
                p_death[s] = cyc.prob(sp[name], s)
        died = uniforms(keys, t, "death") < p_death

        # bookkeeping (living rows; dead rows add nothing)
        for g in EVENT_GROUPS:
            r = idx[ev[g] & ~hist[g]]
            fy = first_year[g]
            fy[r[fy[r] < 0]] = t
        for g, o in (("mi", "mi2"), ("stroke", "stroke2"), ("amputation", "amputation2")):
            r = idx[ev[g] & hist[g]]
            fy = first_year[o]
            fy[r[fy[r] < 0]] = t
        first_year["death"][idx[died]] = t
        frac = np.where(died, 0.5, 1.0)
        present = {c: hist[c] | ev[c] for c in CONDITIONS}
        u = us.annual_utility(present)
        df = (1.0 + discount_rate) ** (-t)
        ly[idx] += frac
        ly_d[idx] += frac * df
        q[idx] += frac * u
        q_d[idx] += frac * u * df
        hist = present
        if died.any():
            alive[idx[died]] = False
            keep(~died)

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
