"""Quasi-steady rules of the progression model: the background insulin that holds a glucose, the glucose that
holds an HbA1c, the glucose without background insulin and the HbA1c in equilibrium with a state.

A patient on background therapy (plasma-insulin effect ``exog_insulin_uuml``) is held at fasting-like glucose G*
by the insulin that closes the quasi-steady glucose balance R0·hgp = (EG0 + loss + SIe·(I_endo(G*) + I_exo))·G*
(:func:`insulin_need`). HbA1c maps to glucose through glycation's ADAG + Wei 2014 rules; under exogenous insulin
the model's HbA1c follows the Wei line at G0 − φ·(G0 − G) (progression.py ``insulin_mean_fraction`` φ; G0 the
glucose without background insulin), so :func:`glucose_for_a1c` inverts that.

These are the one copy of the rules (physiology layer, so therapies may use them: the insulin-sparing trial
conduct of ``therapies/insulin_sparing.py``); population placement re-exports them.
"""

from __future__ import annotations

import numpy as np

from t2dsim.physiology import glycation
from t2dsim.physiology.progression import (
    ProgressionParams,
    ProgressionState,
    effective_si,
    endogenous_insulin_qss,
    secretion_hill,
)

__all__ = [
    "MIN_TARGET_MGDL",
    "g_for_a1c",
    "glucose_for_a1c",
    "insulin_need",
    "model_hba1c_steady",
    "unaided_glucose",
]


def g_for_a1c(a1c: np.ndarray | float) -> np.ndarray:
    """Fasting-like glucose (mg/dL) whose steady state is HbA1c ``a1c`` (glycation.py ADAG + Wei 2014)."""
    return glycation.fpg_from_mean_glucose(glycation.mean_glucose_from_hba1c(np.asarray(a1c, dtype=float)))


def insulin_need(
    params: ProgressionParams,
    state: ProgressionState,
    age: np.ndarray,
    bmi: np.ndarray,
    eff: dict[str, np.ndarray],
    g_star: np.ndarray,
) -> np.ndarray:
    """Plasma insulin from background therapy (µU/mL) that holds quasi-steady glucose at ``g_star``."""
    si_e = effective_si(params, state, age, bmi, eff["si_mult"])
    r0e = params["R0"] * eff["hgp_mult"]
    clear = params["EG0"] + eff["glucose_loss_per_day"]
    endo = endogenous_insulin_qss(params, state, g_star, eff["secretion_mult"], eff["graft_beta_mass_mg"])
    return (r0e / g_star - clear) / si_e - endo


def unaided_glucose(
    params: ProgressionParams, state: ProgressionState, age: np.ndarray, bmi: np.ndarray, eff: dict[str, np.ndarray]
) -> np.ndarray:
    """Quasi-steady fasting glucose (mg/dL) without background therapy: the root of insulin_need(G) = 0
    (need falls monotonically with G), by vectorised bisection on [1, 3000] mg/dL.

    The terms of :func:`insulin_need` that do not depend on G (SIe, R0·hgp, clearance, β-cell mass × secretion
    multiplier × σ) are computed once, not in each of the 48 halvings; the G-dependent factor is the same
    :func:`~t2dsim.physiology.progression.secretion_hill`, in the same order of operations, so the root is
    bit-identical to bisection on :func:`insulin_need` (tests/test_quasi_steady.py)."""
    p = params
    si_e = effective_si(p, state, age, bmi, eff["si_mult"])
    r0e = p["R0"] * eff["hgp_mult"]
    clear = p["EG0"] + eff["glucose_loss_per_day"]
    beta = state.beta_mass_mg + np.asarray(eff["graft_beta_mass_mg"], dtype=float)
    secretion = beta * np.asarray(eff["secretion_mult"], dtype=float) * state.sigma
    v_k = p["V"] * p["k"]
    hill = secretion_hill(p)
    n = state.n
    lo, hi = np.full(n, 1.0), np.full(n, 3000.0)
    for _ in range(48):
        g = 0.5 * (lo + hi)
        endo = secretion * hill(g) / v_k
        pos = (r0e / g - clear) / si_e - endo > 0
        lo, hi = np.where(pos, g, lo), np.where(pos, hi, g)
    return 0.5 * (lo + hi)


def _phi(params: ProgressionParams) -> np.ndarray:
    v = params.values.get("insulin_mean_fraction")
    return np.ones(params.n) if v is None else np.asarray(v, dtype=float)


#: Lowest fasting-like glucose a titration aims at (mg/dL; no titrating into hypoglycaemia).
MIN_TARGET_MGDL = 70.0


def glucose_for_a1c(
    params: ProgressionParams,
    state: ProgressionState,
    age: np.ndarray,
    bmi: np.ndarray,
    eff: dict[str, np.ndarray],
    a1c: np.ndarray | float,
) -> np.ndarray:
    """Fasting-like glucose (mg/dL) at which the progression model's HbA1c settles at ``a1c`` when
    background insulin closes the gap. The model's HbA1c follows the Wei line at G0 − φ·(G0 − G) under
    exogenous insulin (progression.py, ``insulin_mean_fraction`` φ; G0 = glucose without it), so
    G = G0 − (G0 − G_Wei)/φ; patients below target unaided need nothing (G = G0)."""
    g_t = g_for_a1c(a1c)
    g0 = unaided_glucose(params, state, age, bmi, eff)
    g = np.where(g0 > g_t, g0 - (g0 - g_t) / _phi(params), g0)
    return np.maximum(g, MIN_TARGET_MGDL)


def model_hba1c_steady(
    params: ProgressionParams,
    state: ProgressionState,
    age: np.ndarray,
    bmi: np.ndarray,
    eff: dict[str, np.ndarray],
    exog: np.ndarray,
) -> np.ndarray:
    """HbA1c (%) in equilibrium with the state's glucose under background ``exog`` (kernel's rule)."""
    g = state.glucose_mgdl
    g0 = unaided_glucose(params, state, age, bmi, eff)
    g_eff = np.where(exog > 0, g0 - _phi(params) * (g0 - g), g)
    return glycation.steady_state_hba1c_from_fpg(g_eff)
