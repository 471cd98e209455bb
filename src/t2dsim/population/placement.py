"""Placing virtual patients at a glycaemic target: the progression model's quasi-steady rules.

A patient on background therapy (plasma-insulin effect ``exog_insulin_uuml``) is held at fasting-like glucose G*
by the insulin that closes the quasi-steady glucose balance R0·hgp = (EG0 + loss + SIe·(I_endo(G*) + I_exo))·G*
(:func:`insulin_need`). HbA1c maps to glucose through glycation's ADAG + Wei 2014 rules; under exogenous insulin
the model's HbA1c follows the Wei line at G0 − φ·(G0 − G) (progression.py ``insulin_mean_fraction`` φ; G0 the
glucose without background insulin), so :func:`glucose_for_a1c` inverts that. The rules live in
:mod:`t2dsim.physiology.quasi_steady` (one copy, usable by therapies; import them from there); population
screening places a protocol's baseline HbA1c/FPG targets with them (:func:`titrate_background_insulin`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from t2dsim.physiology.progression import (
    NEUTRAL_EFFECTS,
    Effects,
    ProgressionParams,
    ProgressionState,
    simulate_progression,
)
from t2dsim.physiology.quasi_steady import insulin_need, model_hba1c_steady

__all__ = ["titrate_background_insulin"]

#: Rounds of the background-insulin fixed point (days each): dose for the target glucose, then σ and γ settle;
#: the last round is short because the disease keeps progressing (glucose drifts up ~3 mg/dL per 6 months at
#: a fixed dose).
TITRATION_ROUNDS_DAYS = (120, 120, 120, 120, 30)


def titrate_background_insulin(
    params: ProgressionParams,
    state: ProgressionState,
    age: np.ndarray,
    bmi: np.ndarray,
    target_glucose: Callable[[ProgressionState, dict[str, np.ndarray]], np.ndarray],
) -> tuple[ProgressionState, np.ndarray]:
    """Hold each patient at ``target_glucose(state, neutral_effects)`` (mg/dL) with background insulin: the dose
    for the target (:func:`insulin_need`), the course advanced, repeated over :data:`TITRATION_ROUNDS_DAYS`; HbA1c
    then put at its steady state (patients stable on their dose for months). Returns the state and the background
    plasma-insulin effect (µU/mL)."""
    n = state.n
    neutral = {k: np.full(n, v) for k, v in NEUTRAL_EFFECTS.items()}
    iexo = np.zeros(n)
    for days in TITRATION_ROUNDS_DAYS:
        g_t = target_glucose(state, neutral)
        iexo = np.clip(insulin_need(params, state, age, bmi, neutral, g_t), 0.0, 1000.0)
        state = simulate_progression(
            params, state, days, age_years=age, bmi_kg_m2=bmi, effects=Effects(exog_insulin_uuml=iexo),
            record_days="end",
        ).state  # fmt: skip
    state.hba1c_pct = model_hba1c_steady(params, state, age, bmi, neutral, iexo)
    return state, iexo
