"""Cohort presets: virtual patients placed on a consistent point of their disease course.

Each patient j gets its own random numbers from ``core.rng.patient_generators(seed, [patient_id])`` (a fixed
number of draws per patient), so a patient's physiology and baseline do not depend on cohort size or
chunking. Physiology: the t2dsim-calibrated Ha 2016 progression model (physiology/progression.py)
with between-patient variability in the intrinsic insulin-sensitivity course (SI_target, tSI), in
glucotoxic apoptosis (Amax), β-mass turnover (tau_beta) and capacity (beta_cap_mg), and in the
BMI-independent inflammation offset.

Start point. Every patient starts healthy (Ha 2016 human initial state, SI 0.8) and its natural
history is run (vectorised, monthly snapshots, chunked; steps of 365.25/48 ≈ 7.6 days, each patient
leaving the run after the 2-year segment in which its event falls, see ``_place_at_diagnosis``) until
fasting-like glucose first reaches the patient's drawn diagnostic FPG; that snapshot is the diagnosis
state, so baseline FPG, HbA1c (glycation kinetics run along the way), insulin, β-cell mass and function
are mutually consistent. The age term of SI is switched off during this placement run (age enters after
baseline). Patients that do not reach their FPG within 60 years are re-run with their SI_target halved
(up to three times); any still short keep their last state and are flagged (``reached_target`` False).

Presets
-------
``newly-diagnosed`` (UKPDS-like, diet only): age N(53, 8.6) clipped to 25–65 y (UKPDS entry ages
25–65; median age 54 in UKPDS 33, Lancet 352:837, 1998); BMI log-normal median 28 kg/m² (UKPDS cohort
mean ≈ 28, secondary); diagnostic FPG log-normal median 8.0 mmol/L (144 mg/dL) clipped to 6.1–14.9
(UKPDS 16, Diabetes 44:1249, 1995: FPG 6.0–15.0 mmol/L after 3 months' diet; conventional-arm median
8.2 mmol/L at 1 year).

``insulin-requiring`` (stem-cell trial populations, shared/reference/stem-cell-evidence.md §2.2): after
diagnosis the untreated course is run for at least a drawn duration N(7.5, 4) clipped 2–20 y
(Skyler 2015: 10.1 ± 6.0 y; Sood 2017: 14–20 y) and on until the untreated FPG reaches 1.1 × the FPG
of the patient's HbA1c target (insulin needed; at most 25 y; resulting median duration ≈ 11 y), then
exogenous insulin is titrated (fixed-point on the quasi-steady glucose equation, 4 rounds of ≈ 122 days)
so that HbA1c settles near a drawn target N(8.5, 0.5) clipped
7.5–10 % (trials: 8.1–8.3 %). Age N(50, 8) clipped 30–70 y (Sood 2017: 50–58), BMI log-normal median
29 kg/m² (Sood 26.6–29.6; Skyler 33.5). The nominal insulin dose label U/kg/day ~ N(0.6, 0.1)
clipped 0.4–1.0 (Bhansali 2009/2014: ≥ 0.4–0.7 U/kg/d) is recorded in the baseline table; converting a
dose to the progression model's plasma-insulin effect (``exog_insulin_uuml``) belongs to the therapy
layer, so the preset carries the titrated effect itself.

``type-1`` (β-cell replacement trials: islet transplantation, SC-islets; the T1D cohort of
``calibration/beta_replacement.py``): the t2dsim progression model with β-cell mass 0.5 mg (C-peptide
undetectable: the trials' inclusion), normal-range insulin sensitivity (median 0.6 in Ha units, log-SD 0.3,
no decline: H, T1D adults are moderately insulin resistant), no inflammation offset; weight N(72, 12) clipped
50–110 kg and age N(45, 10) clipped 20–70 y (D: adult T1D trial populations); BMI log-normal median 25 kg/m²
(D); duration N(25, 10) clipped 5–50 y (D: the trials require ≥ 5 y); exogenous insulin titrated so HbA1c
settles at a drawn N(7.5, 0.6) clipped 6.5–10 % (HbA1c follows fasting glucose with φ = 1: the basal-insulin
correction is for T2D; population/placement.py). A protocol's baseline targets re-place it as any preset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from t2dsim.core.rng import patient_generators
from t2dsim.core.units import GLUCOSE_MGDL_PER_MMOLL
from t2dsim.engine.cohort import Cohort
from t2dsim.physiology import glycation
from t2dsim.physiology.markers import homa1_b_pct, homa1_ir
from t2dsim.physiology.progression import (
    T2DSIM_INSULIN_SCALE,
    Effects,
    ProgressionParams,
    ProgressionState,
    effective_si,
    endogenous_insulin_qss,
    simulate_progression,
    state_from_outputs,
    t2dsim_initial_state,
    t2dsim_params,
)
from t2dsim.physiology.quasi_steady import g_for_a1c, insulin_need
from t2dsim.population.demographics import sex_and_height
from t2dsim.therapies.base import PatientContext

__all__ = ["PRESETS", "make_cohort", "patient_draws"]

PRESETS = ("newly-diagnosed", "insulin-requiring", "type-1")
#: Lowest fasting glucose the baseline insulin titration aims for (mg/dL): treat-to-target regimens titrate
#: to FPG ≤ 100 mg/dL and not below (Riddle et al. Diabetes Care 2003). Patients whose HbA1c target would
#: need a lower FPG stay above their target on a high dose — the poorly controlled, insulin-resistant tail.
FPG_FLOOR_MGDL = 100.0
_N_DRAWS = 16
_PLACEMENT_YEARS = 60
#: Step of the placement runs before baseline (days): a quarter of a calendar-average month (365.25/48), so the
#: monthly snapshots fall on every 4th step. Baseline-year titration and trials run in daily steps.
_STEP_DAYS = 365.25 / 48
_STEPS_PER_MONTH = 4
#: Placement runs go in segments of this many months; a patient leaves after the segment of its event.
_SEGMENT_MONTHS = 24


def patient_draws(seed: int, patient_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient standard normals ``(n, 16)`` and uniforms ``(n, 16)`` keyed by (seed, patient_id)."""
    z = np.empty((patient_ids.shape[0], _N_DRAWS))
    u = np.empty((patient_ids.shape[0], _N_DRAWS))
    for k, rng in enumerate(patient_generators(seed, patient_ids)):
        z[k] = rng.standard_normal(_N_DRAWS)
        u[k] = rng.random(_N_DRAWS)
    return z, u


def _lognormal(median: float, sdlog: float, z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(median * np.exp(sdlog * z), lo, hi)


def _physiology(n: int, z: np.ndarray, u: np.ndarray) -> ProgressionParams:
    """Between-patient variability around the t2dsim calibration (sizes are modelling choices)."""
    base = t2dsim_params(n)
    return base.replace(
        SI_target=_lognormal(0.15, 0.35, z[:, 0], 0.05, 0.35) / T2DSIM_INSULIN_SCALE,  # mL/(µU·day)
        tSI=1.0 / (365.25 * (8.0 + 12.0 * u[:, 0])),  # SI decline time constant 8–20 y
        Amax=base["Amax"] * _lognormal(1.0, 0.15, z[:, 1], 0.55, 1.8),
        tau_beta=base["tau_beta"] * _lognormal(1.0, 0.15, z[:, 2], 0.55, 1.8),
        beta_cap_mg=base["beta_cap_mg"] * _lognormal(1.0, 0.15, z[:, 3], 0.65, 1.75),
        infl_offset=0.1 * z[:, 4],
    )


def _run_to_event(
    params: ProgressionParams,
    state: ProgressionState,
    n_months: int,
    g_event_mgdl: np.ndarray,
    min_month: np.ndarray,
    age_years: np.ndarray,
    bmi: np.ndarray,
) -> tuple[ProgressionState, np.ndarray, np.ndarray]:
    """Run patients until the first monthly snapshot (0-based month ≥ ``min_month``) with glucose ≥
    ``g_event_mgdl`` (mg/dL), for at most ``n_months`` months.

    Coarse steps of :data:`_STEP_DAYS` (4 per calendar-average month) in segments of :data:`_SEGMENT_MONTHS`;
    a patient leaves the run after the segment in which its event occurs. Returns (state at the event month,
    or at month ``n_months`` if none; 0-based event month; reached flag)."""
    n = params.n
    x = np.empty((n, 8))
    month = np.full(n, n_months - 1, dtype=np.int64)
    reached = np.zeros(n, dtype=bool)
    active = np.arange(n)
    cur = state
    m0 = 0
    while active.size and m0 < n_months:
        seg = min(_SEGMENT_MONTHS, n_months - m0)
        r = simulate_progression(
            params.select(active), cur, seg * _STEPS_PER_MONTH, age_years=age_years[active],
            bmi_kg_m2=bmi[active], t0_day=m0 * _STEPS_PER_MONTH * _STEP_DAYS,
            record_days=np.arange(1, seg + 1) * _STEPS_PER_MONTH, coarse_step_days=_STEP_DAYS,
        )  # fmt: skip
        months = m0 + np.arange(seg)
        hit = (r["glucose_mgdl"] >= g_event_mgdl[active, None]) & (months[None, :] >= min_month[active, None])
        ok = hit.any(axis=1)
        done = ok | (m0 + seg >= n_months)
        first = np.where(ok, hit.argmax(axis=1), seg - 1)
        x[active[done]] = state_from_outputs(r, first).to_matrix()[done]
        month[active[done]] = m0 + first[done]
        reached[active[ok]] = True
        keep = np.flatnonzero(~done)
        active, cur = active[keep], r.state.select(keep)
        m0 += seg
    return ProgressionState.from_matrix(x), month, reached


def _place_at_diagnosis(
    params: ProgressionParams, bmi: np.ndarray, fpg_target_mgdl: np.ndarray, chunk: int
) -> tuple[ProgressionParams, ProgressionState, np.ndarray, np.ndarray]:
    """Run healthy → diagnosis (first monthly snapshot with G ≥ target).

    Patients that do not reach their target within 60 years are re-run with SI_target halved (up to
    three times; deterministic, it depends only on the patient's own draws). Returns (params as
    finally used, state at diagnosis, years from healthy start, reached flag).

    Each patient stops at its diagnosis (:func:`_run_to_event`) and the run uses coarse steps of
    :data:`_STEP_DAYS` (≈ 7.6 d) instead of days: the placement run spans decades and its slow states
    (β-cell mass τ ≈ 70 y, SI 8–20 y, σ 250 d, HbA1c 43 d) barely move within a week, the fast part (G, γ)
    is quasi-steady (backward Euler) and the slow part is advanced exactly at frozen rates. Against the
    former daily 60-year runs this is ≥ 10× faster per candidate with the same patients (same draws) and
    baseline distributions equal within Monte Carlo error (benchmarks/screening.py)."""
    n = params.n
    x = np.empty((n, 8))
    years = np.full(n, float(_PLACEMENT_YEARS))
    reached = np.zeros(n, dtype=bool)
    n_months = _PLACEMENT_YEARS * 12

    for attempt in range(4):
        todo = np.flatnonzero(~reached)
        if todo.size == 0:
            break
        if attempt > 0:
            params = params.replace(SI_target=np.where(reached, params["SI_target"], 0.5 * params["SI_target"]))
        for a in range(0, todo.size, chunk):
            idx = todo[a : a + chunk]
            p = params.select(idx).replace(si_age_per_year=0.0)
            k = idx.shape[0]
            st, month, ok = _run_to_event(
                p,
                t2dsim_initial_state(k),
                n_months,
                fpg_target_mgdl[idx],
                np.zeros(k, np.int64),
                np.full(k, 50.0),
                bmi[idx],
            )
            x[idx] = st.to_matrix()
            years[idx] = (month + 1) / 12.0
            reached[idx] = ok
    return params, ProgressionState.from_matrix(x), years, reached


def _concat(states: list[ProgressionState]) -> ProgressionState:
    return ProgressionState.from_matrix(np.concatenate([s.to_matrix() for s in states], axis=0))


def _baseline_frame(
    preset: str, ids: np.ndarray, age: np.ndarray, bmi: np.ndarray, st: ProgressionState, iexo: np.ndarray
) -> pd.DataFrame:
    ins = st.insulin_uuml + iexo
    return pd.DataFrame(
        {
            "patient_id": ids,
            "preset": preset,
            "age_years": age,
            "bmi_kg_m2": bmi,
            "fpg_mgdl": st.glucose_mgdl,
            "fpg_mmoll": st.glucose_mgdl / GLUCOSE_MGDL_PER_MMOLL,
            "hba1c_pct": st.hba1c_pct,
            "fasting_insulin_uuml": ins,
            "fasting_insulin_endo_uuml": st.insulin_uuml,
            "homa_b_pct": homa1_b_pct(st.glucose_mgdl, ins),
            "homa_ir": homa1_ir(st.glucose_mgdl, ins),
            "beta_cell_mass_mg": st.beta_mass_mg,
            "beta_cell_function": st.sigma,
            "insulin_sensitivity": st.si_state,
            "inflammation": st.inflammation,
            "exog_insulin_uuml": iexo,
        }
    )


def _cohort(preset, seed, ids, params, state, age, bmi, effects, baseline) -> Cohort:
    """The :class:`Cohort` of a preset, with the default demographics (sex share, height) drawn."""
    female, height = sex_and_height(seed, ids)
    ctx = PatientContext(
        n=int(ids.size),
        body_weight_kg=bmi * (height / 100.0) ** 2,
        age_years=np.asarray(age, dtype=float),
        female=female,
        seed=int(seed),
        patient_ids=ids.astype(np.int64),
    )
    return Cohort(params, state, ctx, np.asarray(bmi, float), height, preset=preset, effects=effects, baseline=baseline)


def make_cohort(preset: str, n: int, seed: int = 0, first_id: int = 0, chunk: int = 4000) -> Cohort:
    """Build ``n`` virtual patients of ``preset`` with ids ``first_id … first_id + n − 1``.

    Deterministic per patient: patient k of ``make_cohort(p, n, s)`` equals patient k of any other call
    with the same seed whose id range contains it, whatever ``n`` and ``chunk``.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS} (got {preset!r})")
    if not 1 <= n <= 10_000_000:
        raise ValueError(f"n must be within [1, 10000000] (got {n})")
    if first_id < 0 or chunk < 1:
        raise ValueError("first_id must be ≥ 0 and chunk ≥ 1")
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    z, u = patient_draws(seed, ids)
    if preset == "type-1":
        return _type_1(seed, ids, z)
    params = _physiology(n, z, u)
    if preset == "newly-diagnosed":
        age = np.clip(53.0 + 8.6 * z[:, 5], 25.0, 65.0)
        bmi = _lognormal(28.0, 0.16, z[:, 6], 20.0, 45.0)
        fpg = _lognormal(8.0, 0.2, z[:, 7], 6.1, 14.9) * GLUCOSE_MGDL_PER_MMOLL
        params, state, years_to_dx, reached = _place_at_diagnosis(params, bmi, fpg, chunk)
        iexo = np.zeros(n)
        baseline = _baseline_frame(preset, ids, age, bmi, state, iexo)
        baseline["duration_years"] = 0.0
        baseline["years_healthy_to_diagnosis"] = years_to_dx
        baseline["reached_target"] = reached
        return _cohort(preset, seed, ids, params, state, age, bmi, Effects.neutral(n), baseline)

    # insulin-requiring
    age = np.clip(50.0 + 8.0 * z[:, 5], 30.0, 70.0)
    bmi = _lognormal(29.0, 0.15, z[:, 6], 20.0, 45.0)
    fpg_dx = _lognormal(8.0, 0.2, z[:, 7], 6.1, 14.9) * GLUCOSE_MGDL_PER_MMOLL
    duration = np.clip(7.5 + 4.0 * z[:, 8], 2.0, 20.0)
    a1c_target = np.clip(8.5 + 0.5 * z[:, 9], 7.5, 10.0)
    dose_label = np.clip(0.6 + 0.1 * z[:, 10], 0.4, 1.0)
    params, state_dx, years_to_dx, reached = _place_at_diagnosis(params, bmi, fpg_dx, chunk)
    # untreated course from diagnosis: at least `duration` years and until insulin is needed (untreated
    # FPG ≥ 1.1 × the FPG that corresponds to the HbA1c target), at most 25 years
    g_target = glycation.fpg_from_mean_glucose(glycation.mean_glucose_from_hba1c(a1c_target))
    n_months = 300  # 25 years of calendar-average months

    states = []
    for a in range(0, n, chunk):
        idx = np.arange(a, min(n, a + chunk))
        m_min = np.clip(np.round(duration[idx] * 12).astype(np.int64) - 1, 0, None)
        st, month, _ = _run_to_event(
            params.select(idx), state_dx.select(idx), n_months, 1.1 * g_target[idx], m_min,
            age[idx] - duration[idx], bmi[idx],
        )  # fmt: skip
        duration[idx] = (month + 1) / 12.0
        states.append(st)
    state = _concat(states)
    # titrate exogenous insulin to the HbA1c target (fixed point on the quasi-steady glucose equation).
    # HbA1c follows the Wei line at G0 − φ·(G0 − G) under insulin (progression.insulin_mean_fraction φ,
    # G0 the untreated fasting glucose), so the fasting target is G0 − (G0 − g_target)/φ.
    phi_ins = params["insulin_mean_fraction"]
    g_untreated = state.glucose_mgdl.copy()
    g_target = np.where(
        g_untreated > g_target, np.maximum(g_untreated - (g_untreated - g_target) / phi_ins, FPG_FLOOR_MGDL), g_target
    )
    iexo = np.zeros(n)
    for _ in range(4):
        si_eff = effective_si(params, state, age, bmi)
        need = (params["R0"] / g_target - params["EG0"]) / si_eff - endogenous_insulin_qss(params, state, g_target)
        iexo = np.clip(need, 0.0, 1000.0)
        # a titration round of 16 placement steps (121.75 d; 120 daily steps before issue 18): only the dose
        # it leads to matters, the daily year below settles the state the trial starts from
        r = simulate_progression(
            params, state, 16, age_years=age, bmi_kg_m2=bmi, effects=Effects(exog_insulin_uuml=iexo),
            record_days="end", coarse_step_days=_STEP_DAYS,
        )  # fmt: skip
        state = r.state
    # settle HbA1c kinetics (τ 43 d) at the final dose for one more year
    r = simulate_progression(
        params, state, 365, age_years=age, bmi_kg_m2=bmi, effects=Effects(exog_insulin_uuml=iexo), record_days="end"
    )
    state = r.state
    baseline = _baseline_frame(preset, ids, age, bmi, state, iexo)
    baseline["duration_years"] = duration
    baseline["years_healthy_to_diagnosis"] = years_to_dx
    baseline["reached_target"] = reached
    baseline["hba1c_target_pct"] = a1c_target
    baseline["insulin_dose_u_per_kg_day"] = dose_label
    eff = Effects.neutral(n)
    eff.exog_insulin_uuml = iexo
    return _cohort(preset, seed, ids, params, state, age, bmi, eff, baseline)


def _type_1(seed: int, ids: np.ndarray, z: np.ndarray) -> Cohort:
    """The ``type-1`` preset (see the module text for every number and its source tag)."""
    n = ids.size
    si = _lognormal(0.6, 0.3, z[:, 0], 0.15, 2.4) / T2DSIM_INSULIN_SCALE
    params = t2dsim_params(n).replace(SI_target=si, tSI=1e-6, infl_offset=0.0)
    if "insulin_mean_fraction" in params.values:
        params = params.replace(insulin_mean_fraction=1.0)
    age = np.clip(45.0 + 10.0 * z[:, 5], 20.0, 70.0)
    bmi = _lognormal(25.0, 0.12, z[:, 6], 18.0, 35.0)
    duration = np.clip(25.0 + 10.0 * z[:, 8], 5.0, 50.0)
    a1c = np.clip(7.5 + 0.6 * z[:, 9], 6.5, 10.0)
    st = t2dsim_initial_state(n)
    st.beta_mass_mg = np.full(n, 0.5)
    st.si_state = si.copy()
    neutral = {"si_mult": np.ones(n), "hgp_mult": np.ones(n), "secretion_mult": np.ones(n),
               "glucose_loss_per_day": np.zeros(n), "graft_beta_mass_mg": np.zeros(n)}  # fmt: skip
    iexo = np.zeros(n)
    for days in (60, 60, 60, 180):
        iexo = np.clip(insulin_need(params, st, age, bmi, neutral, g_for_a1c(a1c)), 0.0, 1000.0)
        st = simulate_progression(
            params, st, days, age_years=age, bmi_kg_m2=bmi, effects=Effects(exog_insulin_uuml=iexo), record_days="end"
        ).state
    st.hba1c_pct = glycation.steady_state_hba1c_from_fpg(st.glucose_mgdl)  # stable on this dose for months
    baseline = _baseline_frame("type-1", ids, age, bmi, st, iexo)
    baseline["duration_years"] = duration
    baseline["hba1c_target_pct"] = a1c
    eff = Effects.neutral(n)
    eff.exog_insulin_uuml = iexo
    return _cohort("type-1", seed, ids, params, st, age, bmi, eff, baseline)
