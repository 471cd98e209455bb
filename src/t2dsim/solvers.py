"""Batched fixed-step integrators for the minute-scale meal model.

The integrator loops over time inside a Numba kernel and over patients with ``prange``; there is no
Python-level loop over patients or steps. Inputs are piecewise constant over each minute; a minute
is split into ``substeps`` classical Runge–Kutta (RK4) steps.

The meal memory used by gastric emptying follows the UVA/Padova convention (simglucose): when
eating starts, the stomach content at that moment is remembered, and the meal size seen by the
emptying rate is D̄ = Qsto(meal start) + carbohydrate eaten since (mg).

SciPy's ``solve_ivp`` is used only as a reference solver in the tests.

The compiled loop itself lives in :mod:`t2dsim.physiology.meal` next to the right-hand side it calls:
Numba's on-disk cache is invalidated only when the file of the cached function changes, so a kernel
in another file would keep running a stale copy of an edited right-hand side. The parallel loop over
patients calls a serial per-patient integrator holding a single (inlined) call site of the right-hand side,
so a cold compile takes seconds, not ~40 s, at the former speed.
"""

from __future__ import annotations

import numpy as np

from t2dsim.physiology.meal import N_AUX, N_PARAMS, N_STATES, integrate_meal_kernel, stable_substeps

#: Recorded trajectories: states (by index) and auxiliary fluxes.
RECORDED_STATES = (3, 5, 12, 15)  # Gp, Ip, Gs, CP1


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
    substeps: RK4 steps per minute (step = 1/substeps min); a patient whose parameters make the model
        stiffer than RK4 at that step tolerates gets more (:func:`t2dsim.physiology.meal.stable_substeps`,
        its own parameters only, so results do not depend on batching).
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
        raise ValueError(f"shape mismatch: x0 {x0.shape}, params {params.shape}, cho {cho.shape}, insulin {ins.shape}")
    if int(substeps) < 1:
        raise ValueError(f"substeps must be ≥ 1, got {substeps}")
    rec_idx = np.asarray(record, dtype=np.int64)
    if rec_idx.size and (rec_idx.min() < 0 or rec_idx.max() >= N_STATES):
        raise ValueError(f"record indices must lie in 0..{N_STATES - 1}")
    states = np.empty((n, t + 1, rec_idx.size))
    states[:, 0, :] = x0[:, rec_idx]
    aux = np.empty((n, t + 1, N_AUX))
    x_final = np.empty((n, N_STATES))
    sub = np.ascontiguousarray(np.maximum(int(substeps), stable_substeps(params)), dtype=np.int64)
    integrate_meal_kernel(x0, params, cho, ins, sub, rec_idx, states, aux, x_final)
    return states, aux, x_final
