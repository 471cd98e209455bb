"""Synthetic trial results with a known generating process (NOT physiology).

For testing and demonstrating the statistics, power, store and report layers independently of the
simulation engine: it writes the same results contract (long table + per-patient table) from simple
normal draws with a known arm effect. Never present its output as a model prediction.

Generating process for the primary measure ``hba1c_percent`` (%): baseline ``b ~ N(mu, sd)``;
at visit ``t`` (months, duration ``T``) the true value is
``b + (drift + effect[arm]) * t / T + slope * (b - mu) * t / T`` and each visit adds independent
noise ``N(0, noise_sd)`` (visit 0 included). So the change at ``T`` has mean
``drift + effect[arm] + slope * (b - mu)`` and the ANCOVA estimand (arm minus reference) is
``effect[arm] - effect[reference]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from t2dsim.core.rng import keyed_normal, keyed_uniform
from t2dsim.trial.measurement import dropout_months, mask_after_dropout

__all__ = ["synthetic_trial"]


def synthetic_trial(
    n_per_arm: Mapping[str, int],
    effect: Mapping[str, float],
    seed: int,
    visit_months: Sequence[float] = (0, 3, 6, 9, 12),
    baseline_mean: float = 8.5,
    baseline_sd: float = 0.9,
    drift: float = 0.1,
    slope: float = -0.3,
    noise_sd: float = 0.5,
    annual_dropout: float = 0.0,
    insulin_reduction: Mapping[str, float] | None = None,
    graft_mass_mg: Mapping[str, float] | None = None,
    run_id: str = "synthetic",
    with_extra_measures: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make a synthetic results long table and per-patient table.

    Args:
        n_per_arm: arm name -> patients randomised.
        effect: arm name -> mean HbA1c change added by the arm at the last visit (% points).
        seed: seed; patient ``i`` (ids 0..N-1 in arm order) draws from keys ``(seed, i, stream)``.
        visit_months: visit times (months), first must be 0.
        baseline_mean, baseline_sd: baseline HbA1c distribution (%).
        drift: change common to all arms by the last visit (% points).
        slope: regression of change on (baseline - mean) (regression to the mean if negative).
        noise_sd: visit-level noise SD (%).
        annual_dropout: probability of dropping out within 12 months (constant hazard).
        insulin_reduction: arm -> mean fractional insulin-dose reduction at the last visit (0..1).
        graft_mass_mg: arm -> graft functional beta-cell mass reached (mg), for the mechanism view.
        run_id: value of the ``run_id`` column.
        with_extra_measures: also produce FPG, insulin dose, C-peptide and mechanism measures.

    Returns:
        ``(results, patients)`` following the results contract.
    """
    arms = list(n_per_arm)
    visits = np.asarray(visit_months, dtype=float)
    if visits[0] != 0:
        raise ValueError("visit_months[0] must be 0 (baseline)")
    T = float(visits[-1])
    n_tot = int(sum(n_per_arm.values()))
    pid = np.arange(n_tot)
    arm = np.repeat(arms, [n_per_arm[a] for a in arms])
    eff = np.array([effect.get(a, 0.0) for a in arm])

    def z(name: str, *extra: np.ndarray | int) -> np.ndarray:
        return keyed_normal(seed, pid[:, None] if extra else pid, name, *extra)

    b = baseline_mean + baseline_sd * z("b")
    frac = visits[None, :] / T
    true = b[:, None] + (drift + eff[:, None] + slope * (b[:, None] - baseline_mean)) * frac
    vidx = np.arange(visits.size)[None, :]
    hba1c = true + noise_sd * z("noise", vidx)
    drop = dropout_months(pid, annual_dropout, seed, T)
    observed = mask_after_dropout(visits[None, :], drop[:, None])

    measures: dict[str, np.ndarray] = {"hba1c_percent": hba1c}
    age = np.clip(55 + 8 * z("age"), 25, 80)
    sex = np.where(keyed_uniform(seed, pid, "sex") < 0.4, "female", "male")
    bmi = np.clip(31 + 4 * z("bmi"), 20, 50)
    duration = np.clip(10 + 4 * z("dur"), 1, 30)
    ins0 = np.clip(40 + 12 * z("ins"), 10, 120)
    if with_extra_measures:
        red = np.array([(insulin_reduction or {}).get(a, 0.0) for a in arm])
        red_i = np.clip(red[:, None] + 0.15 * z("insred")[:, None], 0, 1) * frac
        ins = ins0[:, None] * (1 - red_i)
        ins = np.where(ins < 2.0, 0.0, ins)  # doses below 2 U/day are stopped
        measures["insulin_u_per_day"] = np.round(ins, 0)
        # ADAG relation, eAG (mg/dL) = 28.7 * HbA1c - 46.7 (Nathan et al., Diabetes Care 2008;31:1473),
        # used here only to make FPG move with HbA1c in synthetic data
        measures["fpg_mgdl"] = 28.7 * true - 46.7 + 15 * z("fpgnoise", vidx)
        graft = np.array([(graft_mass_mg or {}).get(a, 0.0) for a in arm])
        g_t = graft[:, None] * (1 - np.exp(-visits[None, :] / 2.0))
        native = 500 * np.exp(0.15 * z("mass"))[:, None] * (1 - 0.01 * frac)
        measures["fasting_cpeptide_pmol_l"] = 0.9 * (native + g_t) * np.exp(0.1 * z("cpn", vidx))
        measures["beta_cell_mass_mg"] = native
        measures["graft_beta_mass_mg"] = g_t
        measures["beta_cell_function"] = np.clip(
            0.5 + 0.05 * z("sig")[:, None] + 0.05 * frac * (graft[:, None] > 0), 0, 2
        )
        measures["insulin_sensitivity"] = np.exp(0.2 * z("si"))[:, None] * np.ones_like(frac) * 0.3
        measures["inflammation_index"] = np.clip(1 + 0.1 * z("infl")[:, None] - 0.2 * frac * (eff[:, None] < 0), 0, 3)

    frames = []
    pid_grid = np.broadcast_to(pid[:, None], hba1c.shape)
    arm_grid = np.broadcast_to(arm[:, None], hba1c.shape)
    vis_grid = np.broadcast_to(visits[None, :], hba1c.shape)
    for name, vals in measures.items():
        vals = np.broadcast_to(vals, hba1c.shape)
        m = observed
        frames.append(
            pd.DataFrame(
                {
                    "run_id": run_id,
                    "arm": arm_grid[m],
                    "patient_id": pid_grid[m].astype(np.int64),
                    "visit_month": vis_grid[m],
                    "measure": name,
                    "value": vals[m].astype(np.float64),
                }
            )
        )
    results = pd.concat(frames, ignore_index=True)
    patients = pd.DataFrame(
        {
            "run_id": run_id,
            "arm": arm,
            "patient_id": pid.astype(np.int64),
            "age_years": age,
            "sex": sex,
            "bmi_kg_m2": bmi,
            "diabetes_duration_years": duration,
            "hba1c_percent": hba1c[:, 0],
            "insulin_u_per_day": np.round(ins0, 0),
            "randomised": True,
            "completed": np.isnan(drop),
            "dropout_month": drop,
        }
    )
    return results, patients
