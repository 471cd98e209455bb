"""Batched fixed-step integrators for the minute-scale meal model.

The integrator loops over time inside a Numba kernel and over patients with ``prange``; there is no
Python-level loop over patients or steps. Inputs are piecewise constant over each minute; a minute
is split into ``substeps`` classical Runge–Kutta (RK4) steps.

The meal memory used by gastric emptying follows the UVA/Padova convention (simglucose): when
eating starts, the stomach content at that moment is remembered, and the meal size seen by the
emptying rate is D̄ = Qsto(meal start) + carbohydrate eaten since (mg).

SciPy's ``solve_ivp`` is used only as a reference solver in the tests.
"""

from __future__ import annotations

import numba
import numpy as np

from t2dsim.physiology.meal import N_AUX, N_PARAMS, N_STATES, meal_rhs

#: Recorded trajectories: states (by index) and auxiliary fluxes.
RECORDED_STATES = (3, 5, 12, 15)  # Gp, Ip, Gs, CP1


@numba.njit(cache=True, parallel=True)
def _integrate_meal(x0, params, cho_mg, ins_pmol_kg, substeps, rec_idx, rec_states, rec_aux, x_final):
    n = x0.shape[0]
    n_min = cho_mg.shape[1]
    h = 1.0 / substeps
    for i in numba.prange(n):
        p = params[i]
        x = x0[i].copy()
        k1 = np.empty(N_STATES)
        k2 = np.empty(N_STATES)
        k3 = np.empty(N_STATES)
        k4 = np.empty(N_STATES)
        xt = np.empty(N_STATES)
        aux = np.empty(N_AUX)
        aux_tmp = np.empty(N_AUX)
        meal_q0 = 0.0
        eaten = 0.0
        prev_cho = 0.0
        for t in range(n_min):
            d = cho_mg[i, t]
            u = ins_pmol_kg[i, t]
            if d > 0.0 and prev_cho <= 0.0:
                meal_q0 = x[0] + x[1]
                eaten = 0.0
            if d > 0.0:
                eaten += d
            prev_cho = d
            dbar = meal_q0 + eaten
            for s in range(substeps):
                meal_rhs(x, p, d, u, dbar, k1, aux_tmp)
                if s == 0:
                    for a in range(N_AUX):
                        aux[a] = aux_tmp[a]
                for j in range(N_STATES):
                    xt[j] = x[j] + 0.5 * h * k1[j]
                meal_rhs(xt, p, d, u, dbar, k2, aux_tmp)
                for j in range(N_STATES):
                    xt[j] = x[j] + 0.5 * h * k2[j]
                meal_rhs(xt, p, d, u, dbar, k3, aux_tmp)
                for j in range(N_STATES):
                    xt[j] = x[j] + h * k3[j]
                meal_rhs(xt, p, d, u, dbar, k4, aux_tmp)
                for j in range(N_STATES):
                    x[j] += h / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
            for r in range(rec_idx.shape[0]):
                rec_states[i, t + 1, r] = x[rec_idx[r]]
            for a in range(N_AUX):
                rec_aux[i, t, a] = aux[a]
        # Fluxes at the final time (for a complete per-minute series).
        d_last = cho_mg[i, n_min - 1] if n_min > 0 else 0.0
        u_last = ins_pmol_kg[i, n_min - 1] if n_min > 0 else 0.0
        meal_rhs(x, p, d_last, u_last, meal_q0 + eaten, k1, aux)
        for a in range(N_AUX):
            rec_aux[i, n_min, a] = aux[a]
        for j in range(N_STATES):
            x_final[i, j] = x[j]


def integrate_meal(
    x0: np.ndarray,
    params: np.ndarray,
    cho_mg_per_min: np.ndarray,
    insulin_pmol_kg_min: np.ndarray,
    substeps: int = 1,
    record: tuple[int, ...] = RECORDED_STATES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrate the meal model for all patients.

    Parameters
    ----------
    x0: (n, N_STATES) initial states.
    params: (n, N_PARAMS) parameter matrix (``MealParams.to_matrix()``).
    cho_mg_per_min: (n, T) carbohydrate ingestion, mg/min, constant within each minute.
    insulin_pmol_kg_min: (n, T) subcutaneous insulin, pmol/kg/min.
    substeps: RK4 steps per minute (step = 1/substeps min).
    record: indices of the states to record every minute.

    Returns
    -------
    states: (n, T + 1, len(record)) recorded states at minutes 0..T;
    aux: (n, T + 1, N_AUX) fluxes at minutes 0..T; x_final: (n, N_STATES).
    """
    x0 = np.ascontiguousarray(x0, dtype=np.float64)
    params = np.ascontiguousarray(params, dtype=np.float64)
    cho = np.ascontiguousarray(cho_mg_per_min, dtype=np.float64)
    ins = np.ascontiguousarray(insulin_pmol_kg_min, dtype=np.float64)
    n, t = cho.shape
    if x0.shape != (n, N_STATES) or params.shape != (n, N_PARAMS) or ins.shape != (n, t):
        raise ValueError(
            f"shape mismatch: x0 {x0.shape}, params {params.shape}, cho {cho.shape}, insulin {ins.shape}"
        )
    if int(substeps) < 1:
        raise ValueError(f"substeps must be ≥ 1, got {substeps}")
    rec_idx = np.asarray(record, dtype=np.int64)
    if rec_idx.size and (rec_idx.min() < 0 or rec_idx.max() >= N_STATES):
        raise ValueError(f"record indices must lie in 0..{N_STATES - 1}")
    states = np.empty((n, t + 1, rec_idx.size))
    states[:, 0, :] = x0[:, rec_idx]
    aux = np.empty((n, t + 1, N_AUX))
    x_final = np.empty((n, N_STATES))
    _integrate_meal(x0, params, cho, ins, int(substeps), rec_idx, states, aux, x_final)
    return states, aux, x_final
