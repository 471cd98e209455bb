"""Years-scale T2D progression: Ha, Satin & Sherman 2016 human model + inflammation, daily step.

Equations (time in days; G mg/dL, I µU/mL, β mg, SI mL/(µU·day); Ha, Satin & Sherman, Endocrinology
157:624, 2016, authors' ``human.ode``; reference physiology-models.md §5.1; docs/progression.md)::

    dG/dt = R0·hgp − (EG0 + loss + SIe·(I + I_exo))·G
    dI/dt = (β + β_graft)·ISR/V − k·I
    dβ/dt = (P(ISR) − A(M))·β/τβ
    dγ/dt = (γ∞(G) − γ)/τγ
    dσ/dt = (σ∞(G, γ, σ) − σ)/τσ
    dSI/dt = −tSI·(SI − SI_target)
    dΦ/dt = (Φ∞ − Φ)/τΦ                         inflammation index (t2dsim hypothesis)
    dH/dt = (H∞(Ḡ) − H)/τA                      HbA1c % (glycation.py)

    SIe = SI · si_mult · exp(−Φ) · (BMI/BMI_ref)^(−b·(1−f)) · exp(−a_age·(age − age_ref))
    Φ∞  = inflammation_mult · max(0, f·b·ln(BMI/BMI_ref) + Φ0)

with M(G), ISR, P, A, γ∞, σ∞ as in Ha 2016 (``secretion_mult`` multiplies ISR, ``beta_protect``
removes that fraction of the glucotoxic part of A). With b = 0, a_age = 0, Φ0 = 0 and neutral effects
the model *is* Ha 2016 (the "pure" configuration, :func:`ha2016_params`).

Numerical scheme (one step = one day, all effects constant within the day):

* Fast subsystem. I (time constant 1/k ≈ 2 min) and G (≈ 3 h) are quasi-steady; γ (τγ = 2.14 d) is
  advanced by backward Euler *together with* G: γ_new = (γ + r·γ∞(G))/(1 + r), r = 1 d/τγ, and G
  solves R0·hgp = (EG0 + loss + SIe·(I(G, γ_new(G)) + I_exo))·G by safeguarded Newton (bracket
  [0, R0·hgp/(EG0+loss)], warm start at yesterday's G). The right side increases with G, so the root
  is unique. Explicit stepping of γ at 1 day is unstable (the γ–G loop gain reaches ~8 at the
  secretion threshold because γ∞ is a logistic of width Gn = 1 mg/dL).
* Slow states (β, σ, SI, Φ, H) are advanced by the exact exponential update with rates frozen at
  the day's new G, γ (exponential Euler). Accuracy against scipy solve_ivp on the full ODE is
  tested in tests/test_progression_ha2016.py.

The kernel (:func:`_kernel`) is pure Numba (parallel over patients); :func:`simulate_progression` is
the NumPy-facing API. Memory scales with patients × recorded snapshots, never × days.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from t2dsim.core.calendar import DAYS_PER_MONTH
from t2dsim.physiology.progression_params import (  # noqa: F401  (re-exported: the public names of this module)
    _I_EG0,
    _I_R0,
    _I_V,
    EFFECT_NAMES,
    EXT_PARAM_NAMES,
    EXTENSION_DEFAULTS,
    HA_PARAM_NAMES,
    HBA1C_CEIL_PCT,
    HBA1C_FLOOR_PCT,
    NEUTRAL_EFFECTS,
    OUTPUT_NAMES,
    PARAM_NAMES,
    STATE_NAMES,
    T2DSIM_CALIBRATION,
    T2DSIM_INSULIN_SCALE,
    Effects,
    ProgressionParams,
    ProgressionState,
    _I_Ab,
    _I_age_ref,
    _I_alphaA,
    _I_alphaISR,
    _I_alphaM,
    _I_alphaP,
    _I_Amax,
    _I_beta_cap_mg,
    _I_bmi_ref,
    _I_fpg_mean_intercept,
    _I_fpg_mean_slope,
    _I_Gbar,
    _I_Gn,
    _I_Gs,
    _I_Gsh_sigma,
    _I_Gshft,
    _I_infl_fraction,
    _I_infl_offset,
    _I_insulin_mean_fraction,
    _I_ISRI_bar,
    _I_k,
    _I_kA,
    _I_kISR,
    _I_kISRI,
    _I_kM,
    _I_kMI,
    _I_kP,
    _I_MI_bar,
    _I_Mmax,
    _I_nISRI,
    _I_nMI,
    _I_Pmax,
    _I_si_age_per_year,
    _I_si_bmi_elasticity,
    _I_SI_target,
    _I_sigma_b,
    _I_sISRI,
    _I_sMI,
    _I_tau_beta,
    _I_tau_gamma,
    _I_tau_hba1c,
    _I_tau_infl,
    _I_tau_sigma,
    _I_tSI,
    ha2016_initial_state,
    ha2016_params,
    ha2016_table,
    t2dsim_initial_state,
    t2dsim_params,
)

__all__ = [
    "HA_PARAM_NAMES",
    "EXT_PARAM_NAMES",
    "PARAM_NAMES",
    "EFFECT_NAMES",
    "STATE_NAMES",
    "OUTPUT_NAMES",
    "EXTENSION_DEFAULTS",
    "T2DSIM_CALIBRATION",
    "ProgressionParams",
    "Effects",
    "ProgressionState",
    "ProgressionResult",
    "ha2016_table",
    "ha2016_params",
    "t2dsim_params",
    "ha2016_initial_state",
    "t2dsim_initial_state",
    "T2DSIM_INSULIN_SCALE",
    "simulate_progression",
    "monthly_record_days",
    "effective_si",
    "endogenous_insulin_qss",
    "secretion_hill",
    "state_from_outputs",
]

# --------------------------------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------------------------------


@nb.njit(cache=True, inline="always")
def _pw(x: float, n: float) -> float:
    """x**n with fast paths for the integer Hill exponents of Ha 2016 (2, 4, 6)."""
    if n == 2.0:
        return x * x
    if n == 4.0:
        y = x * x
        return y * y
    if n == 6.0:
        y = x * x
        return y * y * y
    return x**n


@nb.njit(cache=True, inline="always")
def _hill(x: float, an: float, n: float) -> float:
    """x^n/(a^n + x^n) for x > 0, else 0; ``an`` = a^n precomputed."""
    if x <= 0.0:
        return 0.0
    xn = _pw(x, n)
    return xn / (an + xn)


@nb.njit(cache=True, inline="always")
def _hill_d(x: float, an: float, n: float) -> tuple[float, float]:
    """(hill, d hill/dx) for x > 0, else (0, 0)."""
    if x <= 0.0:
        return 0.0, 0.0
    xn = _pw(x, n)
    den = an + xn
    return xn / den, n * an * xn / (x * den * den)


@nb.njit(cache=True)
def _solve_fast(
    g_old, gamma_old, c, si_eff, r0e, clear, iexo, h, mmax, am_n, k_m, aisr_n, k_isr, gbar, gs, gn, gshft, tau_gamma
):  # noqa: ANN001
    """Fast subsystem over one step h (days): backward Euler in (G, γ) with I quasi-steady.

    c = (β + β_graft)·secretion_mult·σ/(V·k), so I_endo = c·hill(M(G) + γ). Solves
    (G_old − G)/h + R0e − (clear + SIe·(I_endo(G) + I_exo))·G = 0 by safeguarded Newton.
    Returns (G, γ, I_endo, M(G), hill(M+γ)) at the end of the step.
    """
    r = h / tau_gamma
    w = r / (1.0 + r)
    inv_h = 1.0 / h
    lo = 0.0
    hi = (g_old * inv_h + r0e) / (inv_h + clear)
    g = g_old
    if not (g > lo and g < hi):
        g = 0.5 * (lo + hi)
    gam = gamma_old
    m = 0.0
    hx = 0.0
    for _ in range(100):
        hm, dhm = _hill_d(g, am_n, k_m)
        m = mmax * hm
        z = (g - gs) / gn
        s = 1.0 / (1.0 + np.exp(-z)) if z > -700.0 else 0.0
        gam = (gamma_old + r * (gbar * s - gshft)) / (1.0 + r)
        hx, dhx = _hill_d(m + gam, aisr_n, k_isr)
        ins = c * hx
        dins = c * dhx * (mmax * dhm + w * gbar * s * (1.0 - s) / gn)
        load = clear + si_eff * (ins + iexo)
        f = (g_old - g) * inv_h + r0e - load * g
        if f > 0.0:
            lo = g
        else:
            hi = g
        df = -inv_h - load - si_eff * g * dins
        g_new = g - f / df
        if not (g_new > lo and g_new < hi):
            g_new = 0.5 * (lo + hi)
        if abs(g_new - g) < 1e-8 * (1.0 + g) or hi - lo < 1e-9:
            break
        g = g_new
    return g, gam, c * hx, m, hx


@nb.njit(cache=True, inline="always")
def _solve_fast_day(g, gam, c, si_eff, p, e, iexo, h, mmax, am_n, k_m, aisr_n, k_isr):  # noqa: ANN001
    """:func:`_solve_fast` with the day's hepatic output (R0·hgp_mult), clearance (EG0 + loss) and the
    γ-threshold parameters read from the parameter row ``p`` and effects row ``e``."""
    return _solve_fast(
        g, gam, c, si_eff, p[_I_R0] * e[1], p[_I_EG0] + e[3], iexo, h, mmax, am_n, k_m, aisr_n, k_isr,
        p[_I_Gbar], p[_I_Gs], p[_I_Gn], p[_I_Gshft], p[_I_tau_gamma],
    )  # fmt: skip


# Serial body of one patient (row views), called from the parallel loop of :func:`_kernel` and not inlined into
# it: Numba's parallel passes then analyse a one-line loop body, which cut the cold compile of the kernel
# (benchmarks/cold_start.py). error_model "numpy" (no ZeroDivisionError guards) as inside a parallel loop.
@nb.njit(cache=True, error_model="numpy")
def _advance_patient(p, xj, effj, bmij, age0j, t0_day, n_days, rec_days, outj, steps_per_day, day_len):  # noqa: ANN001
    """Patient rows of :func:`_kernel`'s arguments: p (n_params,), xj (8,) advanced in place, effj (Te, 8),
    bmij (Tb,), age0j years, outj (n_rec, 10) float32."""
    te = effj.shape[0]
    tb = bmij.shape[0]
    n_rec = rec_days.shape[0]
    g, ins, beta, gam, sig, si, phi, h = xj[0], xj[1], xj[2], xj[3], xj[4], xj[5], xj[6], xj[7]
    k_rec = 0
    # per-patient constants
    mmax, k_m, k_isr, k_p, k_a = p[_I_Mmax], p[_I_kM], p[_I_kISR], p[_I_kP], p[_I_kA]
    am_n = p[_I_alphaM] ** k_m
    aisr_n = p[_I_alphaISR] ** k_isr
    ap_n = p[_I_alphaP] ** k_p
    aa_n = p[_I_alphaA] ** k_a
    vk = p[_I_V] * p[_I_k]
    bref = p[_I_bmi_ref]
    b_el = p[_I_si_bmi_elasticity]
    f_inf = p[_I_infl_fraction]
    a_age = p[_I_si_age_per_year]
    hs = day_len / steps_per_day
    e_sig = np.exp(-hs / p[_I_tau_sigma])
    e_si = np.exp(-hs * p[_I_tSI])
    e_phi = np.exp(-hs / p[_I_tau_infl])
    e_h = np.exp(-hs / p[_I_tau_hba1c])
    hb = hs / p[_I_tau_beta]
    for dd in range(n_days * steps_per_day):
        d = dd // steps_per_day
        de = d if te > 1 else 0
        db = d if tb > 1 else 0
        e = effj[de]
        sec = e[2]
        iexo = e[4]
        lbmi = np.log(bmij[db] / bref)
        age = age0j + (t0_day + dd * hs) / 365.25
        si_eff = si * e[0] * np.exp(-phi - b_el * (1.0 - f_inf) * lbmi - a_age * (age - p[_I_age_ref]))
        c = (beta + e[5]) * sec * sig / vk
        g_drive = -1.0  # glucose driving HbA1c; < 0 means "today's G"
        phi_ins = p[_I_insulin_mean_fraction]
        if iexo > 0.0 and phi_ins < 1.0:
            # counterfactual fasting glucose without exogenous insulin (same day, same start)
            g0 = _solve_fast_day(g, gam, c, si_eff, p, e, 0.0, hs, mmax, am_n, k_m, aisr_n, k_isr)[0]
            g_drive = g0
        g, gam, ins, m, hx = _solve_fast_day(g, gam, c, si_eff, p, e, iexo, hs, mmax, am_n, k_m, aisr_n, k_isr)
        # slow states, rates frozen at the new (G, γ)
        isr = sec * sig * hx
        crowd = 1.0 - beta / p[_I_beta_cap_mg]
        prol = p[_I_Pmax] * _hill(isr, ap_n, k_p) * (crowd if crowd > 0.0 else 0.0)
        apop = (1.0 - e[7]) * p[_I_Amax] * _hill(m, aa_n, k_a) + p[_I_Ab]
        beta = beta * np.exp(hb * (prol - apop))
        m_sh = mmax * _hill(g - p[_I_Gsh_sigma], am_n, k_m)
        isr_sh = sec * sig * _hill(m_sh + gam, aisr_n, k_isr)
        s_isri = p[_I_ISRI_bar] / (1.0 + p[_I_kISRI] * np.exp(-(isr_sh - p[_I_sISRI]) / p[_I_nISRI]))
        s_mi = 1.0 - p[_I_MI_bar] / (1.0 + p[_I_kMI] * np.exp(-(m_sh - p[_I_sMI]) / p[_I_nMI]))
        s_inf = s_mi * s_isri + p[_I_sigma_b]
        sig = s_inf + (sig - s_inf) * e_sig
        si = p[_I_SI_target] + (si - p[_I_SI_target]) * e_si
        phi_inf = f_inf * b_el * lbmi + p[_I_infl_offset]
        phi_inf = e[6] * (phi_inf if phi_inf > 0.0 else 0.0)
        phi = phi_inf + (phi - phi_inf) * e_phi
        g_eff = g if g_drive < 0.0 else g_drive - phi_ins * (g_drive - g)
        h_inf = (p[_I_fpg_mean_slope] * g_eff + p[_I_fpg_mean_intercept] + 46.7) / 28.7
        if h_inf < HBA1C_FLOOR_PCT:
            h_inf = HBA1C_FLOOR_PCT
        elif h_inf > HBA1C_CEIL_PCT:
            h_inf = HBA1C_CEIL_PCT
        h = h_inf + (h - h_inf) * e_h
        if k_rec < n_rec and rec_days[k_rec] == d + 1 and (dd + 1) % steps_per_day == 0:
            o = outj[k_rec]
            o[0] = g
            o[1] = ins
            o[2] = ins + iexo
            o[3] = beta
            o[4] = sig
            o[5] = gam
            o[6] = si
            o[7] = si_eff
            o[8] = phi
            o[9] = h
            k_rec += 1
    xj[0], xj[1], xj[2], xj[3], xj[4], xj[5], xj[6], xj[7] = g, ins, beta, gam, sig, si, phi, h


@nb.njit(cache=True, parallel=True)
def _kernel(params, x, eff, bmi, age0, t0_day, n_days, rec_days, out, steps_per_day, day_len):  # noqa: ANN001
    """Advance ``x`` (n, 8 states) in place by ``n_days`` daily steps; write snapshots to ``out``.

    ``day_len`` is the length in days of one kernel "day" (1.0; > 1 only for coarse placement runs, where
    n_days, rec_days and the day axes of eff and bmi count these longer steps).

    params (n, n_params); eff (n, Te, 8) with Te ∈ {1, n_days}; bmi (n, Tb) with Tb ∈ {1, n_days};
    age0 (n,) years at t0_day; rec_days sorted int64 (1..n_days): record after finishing that day;
    out (n, n_rec, 10) float32.
    """
    n = x.shape[0]
    for j in nb.prange(n):
        _advance_patient(
            params[j], x[j], eff[j], bmi[j], age0[j], t0_day, n_days, rec_days, out[j], steps_per_day, day_len
        )


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


@dataclass
class ProgressionResult:
    """Snapshots: ``record_day`` (n_rec,) days since t0 (end of that day); ``outputs[name]`` arrays
    ``(n_patients, n_rec)`` float32 for name in OUTPUT_NAMES; ``state`` the end state."""

    record_day: np.ndarray
    outputs: dict[str, np.ndarray]
    state: ProgressionState
    t_end_day: float = field(default=0.0)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.outputs[name]


def monthly_record_days(n_days: int) -> np.ndarray:
    """End days of calendar-average months (30.4375 d) within ``n_days``: round(m·365.25/12)."""
    m = np.arange(1, int(n_days / DAYS_PER_MONTH) + 2)
    days = np.round(m * DAYS_PER_MONTH).astype(np.int64)
    return days[(days >= 1) & (days <= n_days)]


def _as_patient_days(a: ArrayLike, n: int, n_days: int, name: str, lo: float, hi: float) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim <= 1:
        arr = np.broadcast_to(arr, (n,))[:, None]
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] not in (1, n_days):
        raise ValueError(f"{name} must be a scalar, (n={n},) or (n, n_days={n_days}); got shape {np.shape(a)}")
    if not np.all(np.isfinite(arr)) or np.any(arr < lo) or np.any(arr > hi):
        raise ValueError(f"{name} must be finite and within [{lo}, {hi}]")
    return np.array(arr, dtype=np.float64, order="C")  # always a fresh writable copy (one kernel variant)


def simulate_progression(
    params: ProgressionParams,
    state: ProgressionState,
    n_days: int,
    *,
    age_years: ArrayLike = 50.0,
    bmi_kg_m2: ArrayLike = 25.0,
    effects: Effects | None = None,
    t0_day: float = 0.0,
    record_days: ArrayLike | str = "monthly",
    steps_per_day: int = 1,
    coarse_step_days: float = 1.0,
) -> ProgressionResult:
    """Advance a batch of patients by ``n_days`` daily steps.

    Args:
        params: per-patient parameters (``ha2016_params``/``t2dsim_params`` or a cohort's draws).
        state: start state (not modified).
        n_days: number of days (≥ 1).
        age_years: age (years) at day 0 of the simulation clock, scalar or ``(n,)``; the kernel uses
            age_years + (t0_day + t)/365.25, so pass the day-0 age when continuing a run at ``t0_day``.
        bmi_kg_m2: BMI (kg/m²), scalar, ``(n,)`` or daily ``(n, n_days)``.
        effects: therapy effects (neutral if None).
        t0_day: simulated day at the start (only shifts age).
        record_days: "monthly" (default), "end", or sorted ints in 1..n_days.
        steps_per_day: sub-steps per day (default 1 = the daily scheme; >1 only for accuracy checks).
        coarse_step_days: length of one step in days (default 1). Values > 1 are for cohort placement runs
            only (population/presets.py), where decades are simulated before baseline: ``n_days``,
            ``record_days`` and the second axis of daily ``bmi_kg_m2``/effects then count steps of this
            length, and ``record_day``/``t_end_day`` of the result are in days. The scheme stays stable
            (backward Euler fast part, exponential slow part); its accuracy against daily steps is measured in
            benchmarks/screening.py and tests/test_progression_natural_history.py.

    Returns:
        ProgressionResult with float32 snapshots and the end state.
    """
    n = state.n
    if params.n != n:
        raise ValueError(f"params has {params.n} patients but state has {n}")
    if int(n_days) != n_days or n_days < 1:
        raise ValueError(f"n_days must be a positive integer (got {n_days})")
    n_days = int(n_days)
    if isinstance(record_days, str):
        if record_days == "monthly":
            rec = monthly_record_days(n_days)
        elif record_days == "end":
            rec = np.array([n_days], dtype=np.int64)
        else:
            raise ValueError(f"record_days must be 'monthly', 'end' or an int array (got {record_days!r})")
    else:
        rec = np.asarray(record_days, dtype=np.int64)
        if rec.ndim != 1 or np.any(np.diff(rec) <= 0) or np.any(rec < 1) or np.any(rec > n_days):
            raise ValueError("record_days must be strictly increasing integers within [1, n_days]")
    # Every kernel argument is a fresh C-contiguous, writable float64/int64 array, whatever the caller passed
    # (scalar → read-only broadcast view, array → caller's buffer): Numba types read-only arrays separately,
    # so without these copies the kernel compiled up to four variants (benchmarks/cold_start.py).
    rec = np.array(rec, dtype=np.int64, order="C")
    age = np.array(np.broadcast_to(np.asarray(age_years, dtype=np.float64), (n,)), order="C")
    if not np.all(np.isfinite(age)) or np.any(age < 0) or np.any(age > 120):
        raise ValueError("age_years must be within [0, 120]")
    bmi = _as_patient_days(bmi_kg_m2, n, n_days, "bmi_kg_m2", 10.0, 80.0)
    eff = (effects or Effects()).to_array(n, n_days)
    x = state.to_matrix()
    if not np.all(np.isfinite(x)) or np.any(x[:, [0, 2, 4, 5]] <= 0):
        raise ValueError("state: glucose, beta mass, sigma and si_state must be finite and > 0")
    out = np.full((n, rec.shape[0], len(OUTPUT_NAMES)), np.nan, dtype=np.float32)
    if int(steps_per_day) != steps_per_day or not 1 <= steps_per_day <= 1440:
        raise ValueError(f"steps_per_day must be an integer in [1, 1440] (got {steps_per_day})")
    pmat = np.array(params.to_matrix(), dtype=np.float64, order="C")
    x = np.array(x, dtype=np.float64, order="C")
    eff = np.array(eff, dtype=np.float64, order="C")
    step = float(coarse_step_days)
    if not 1.0 <= step <= 31.0:
        raise ValueError(f"coarse_step_days must be within [1, 31] (got {coarse_step_days})")
    _kernel(pmat, x, eff, bmi, age, float(t0_day), int(n_days), rec, out, int(steps_per_day), step)
    outputs = {name: out[:, :, j] for j, name in enumerate(OUTPUT_NAMES)}
    rec_day = rec if step == 1.0 else rec * step
    return ProgressionResult(rec_day, outputs, ProgressionState.from_matrix(x), float(t0_day) + n_days * step)


def params_from_mapping(values: Mapping[str, ArrayLike], n: int) -> ProgressionParams:
    """Pure-Ha defaults overridden by ``values`` (scalars or ``(n,)`` arrays)."""
    return ha2016_params(n).replace(**values)


def effective_si(
    params: ProgressionParams,
    state: ProgressionState,
    age_years: ArrayLike,
    bmi_kg_m2: ArrayLike,
    si_mult: ArrayLike = 1.0,
) -> np.ndarray:
    """Effective insulin sensitivity SIe (mL/(µU·day)) of ``state`` (same formula as the kernel)."""
    lb = np.log(np.asarray(bmi_kg_m2, dtype=float) / params["bmi_ref"])
    expo = (
        -state.inflammation
        - params["si_bmi_elasticity"] * (1.0 - params["infl_fraction"]) * lb
        - params["si_age_per_year"] * (np.asarray(age_years, dtype=float) - params["age_ref"])
    )
    return state.si_state * np.asarray(si_mult, dtype=float) * np.exp(expo)


def endogenous_insulin_qss(
    params: ProgressionParams,
    state: ProgressionState,
    glucose_mgdl: ArrayLike,
    secretion_mult: ArrayLike = 1.0,
    graft_beta_mass_mg: ArrayLike = 0.0,
) -> np.ndarray:
    """Quasi-steady endogenous insulin (µU/mL) at a held glucose, with γ at its steady state γ∞(G)."""
    g = np.asarray(glucose_mgdl, dtype=float)
    p = params
    beta = state.beta_mass_mg + np.asarray(graft_beta_mass_mg, dtype=float)
    return beta * np.asarray(secretion_mult, dtype=float) * state.sigma * secretion_hill(p)(g) / (p["V"] * p["k"])


def secretion_hill(params: ProgressionParams) -> Callable[[np.ndarray], np.ndarray]:
    """G ↦ H(M(G) + γ∞(G)), the glucose-dependent factor of Ha 2016's secretion rate σ·β·H at a held glucose
    (dimensionless, 0-1; γ at its steady state), used by :func:`endogenous_insulin_qss`. The parameters and their
    G-independent powers are read once, so a root search can call the returned function many times."""
    p = params
    mmax, k_m, a_m = p["Mmax"], p["kM"], p["alphaM"] ** p["kM"]
    gbar, gs, gn, gshft = p["Gbar"], p["Gs"], p["Gn"], p["Gshft"]
    k_isr, a_isr = p["kISR"], p["alphaISR"] ** p["kISR"]

    def hill(g: np.ndarray) -> np.ndarray:
        g_k = g**k_m
        m = mmax * g_k / (a_m + g_k)
        gam = gbar / (1.0 + np.exp(-(g - gs) / gn)) - gshft
        x_k = np.maximum(m + gam, 0.0) ** k_isr
        return x_k / (a_isr + x_k)

    return hill


def state_from_outputs(result: ProgressionResult, index: ArrayLike) -> ProgressionState:
    """Rebuild a ProgressionState from snapshot ``index[j]`` of each patient j (float32 precision)."""
    idx = np.asarray(index, dtype=np.int64)
    rows = np.arange(idx.shape[0])

    def pick(name: str) -> np.ndarray:
        return result.outputs[name][rows, idx].astype(np.float64)

    return ProgressionState(
        glucose_mgdl=pick("glucose_mgdl"),
        insulin_uuml=pick("insulin_endo_uuml"),
        beta_mass_mg=pick("beta_mass_mg"),
        gamma=pick("gamma"),
        sigma=pick("sigma"),
        si_state=pick("si_state"),
        inflammation=pick("inflammation"),
        hba1c_pct=pick("hba1c_pct"),
    )
