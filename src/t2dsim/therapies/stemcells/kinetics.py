"""Time courses of the stem-cell therapies (pure NumPy, vectorised over days and patients).

* :func:`bateman` — onset/decay kernel of one infusion, peak normalised to 1.
* :func:`infusion_activity` — saturating sum of infusions, A = 1 − exp(−Σ s_i·b(t − t_i)).
* :func:`placebo_profile` — rise-and-fade of the trial effect.
* :func:`weibull_maturation` — progenitor → functional β-cell maturation of a graft.
* :func:`graft_mass_mg` — functional graft β-cell mass (mg) of each patient on each day.
* :func:`ieq_to_beta_mg`, :func:`cells_to_beta_mg` — dose conversions (Pisania et al., Lab Invest
  90:1661, 2010: 1560 cells per IEQ of which 1140 β cells; β cells 61.2 % of islet volume; one IEQ is a
  150-µm sphere, 1.767e-3 mm³ → 1.08 µg of β cells at density 1 g/cm³).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "bateman",
    "infusion_activity",
    "placebo_profile",
    "weibull_maturation",
    "graft_mass_mg",
    "ieq_to_beta_mg",
    "cells_to_beta_mg",
    "IEQ_VOLUME_MM3",
]

#: Volume of one islet equivalent (sphere of 150 µm diameter), mm³ (Ricordi 1990 definition).
IEQ_VOLUME_MM3 = 4.0 / 3.0 * np.pi * 0.075**3


def bateman(tau_days: ArrayLike, onset_days: float, half_life_days: float) -> np.ndarray:
    """exp(−kd·τ) − exp(−ka·τ), normalised to a peak of 1; 0 for τ < 0 (days since the infusion)."""
    if onset_days <= 0 or half_life_days <= 0:
        raise ValueError(f"onset_days and half_life_days must be > 0 (got {onset_days}, {half_life_days})")
    t = np.asarray(tau_days, dtype=float)
    kd = np.log(2.0) / half_life_days
    ka = 1.0 / onset_days
    if abs(ka - kd) < 1e-9 * ka:
        ka = ka * (1.0 + 1e-6)
    tpk = np.log(ka / kd) / (ka - kd)
    peak = np.exp(-kd * tpk) - np.exp(-ka * tpk)
    tt = np.maximum(t, 0.0)
    out = (np.exp(-kd * tt) - np.exp(-ka * tt)) / peak
    return np.where(t >= 0.0, out, 0.0)


def infusion_activity(
    days: ArrayLike,
    infusion_days: ArrayLike,
    strengths: ArrayLike,
    onset_days: float,
    half_life_days: float,
) -> np.ndarray:
    """Activity A(t) ∈ [0, 1) on ``days`` from infusions on ``infusion_days`` with saturating
    strengths s_i ∈ [0, 1): A = 1 − exp(−Σ_i s_i·bateman(t − t_i))."""
    d = np.asarray(days, dtype=float)
    ti = np.atleast_1d(np.asarray(infusion_days, dtype=float))
    s = np.broadcast_to(np.asarray(strengths, dtype=float), ti.shape)
    if np.any(s < 0):
        raise ValueError("infusion strengths must be ≥ 0")
    tot = np.zeros_like(d)
    for t_i, s_i in zip(ti, s, strict=True):
        tot = tot + s_i * bateman(d - t_i, onset_days, half_life_days)
    return -np.expm1(-tot)


def placebo_profile(days: ArrayLike, onset_days: float, fade_days: float, floor: float) -> np.ndarray:
    """(1 − e^(−t/onset))·(floor + (1 − floor)·e^(−t/fade)); 0 before day 0."""
    t = np.maximum(np.asarray(days, dtype=float), 0.0)
    return -np.expm1(-t / onset_days) * (floor + (1.0 - floor) * np.exp(-t / fade_days))


def weibull_maturation(tau_days: ArrayLike, scale_days: float, shape: float) -> np.ndarray:
    """Fraction of the engrafted cells that function as mature β cells τ days after implantation."""
    t = np.maximum(np.asarray(tau_days, dtype=float), 0.0)
    return -np.expm1(-((t / scale_days) ** shape))


def ieq_to_beta_mg(ieq: ArrayLike, beta_ug_per_ieq: float = 1.08) -> np.ndarray:
    """β-cell mass (mg) in ``ieq`` islet equivalents."""
    return np.asarray(ieq, dtype=float) * beta_ug_per_ieq * 1e-3


def cells_to_beta_mg(cells: ArrayLike, beta_fraction: float, beta_ng_per_cell: float = 0.95) -> np.ndarray:
    """β-cell mass (mg) in a product of ``cells`` cells of which ``beta_fraction`` are β(-like) cells."""
    return np.asarray(cells, dtype=float) * beta_fraction * beta_ng_per_cell * 1e-6


def graft_mass_mg(
    days: ArrayLike,
    infusion_days: ArrayLike,
    beta_mg_per_infusion: ArrayLike,
    engraftment: ArrayLike,
    maturation_scale_days: float,
    maturation_shape: float,
    attrition_per_year: float,
    failure_day: ArrayLike,
) -> np.ndarray:
    """Functional graft β-cell mass (mg), shape (n_patients, n_days).

    ``beta_mg_per_infusion`` (n, m) or (m,): β-cell mass infused at each of the m infusions;
    ``engraftment`` (n,): engrafted fraction; ``failure_day`` (n,): day of graft failure (inf = never).
    """
    d = np.asarray(days, dtype=float)[None, :]
    e = np.asarray(engraftment, dtype=float)[:, None]
    n = e.shape[0]
    ti = np.atleast_1d(np.asarray(infusion_days, dtype=float))
    dose = np.broadcast_to(np.asarray(beta_mg_per_infusion, dtype=float), (n, ti.shape[0]))
    k_att = attrition_per_year / 365.25
    out = np.zeros((n, d.shape[1]))
    for i, t_i in enumerate(ti):
        tau = d - t_i
        live = tau >= 0
        out += np.where(
            live,
            dose[:, i : i + 1]
            * e
            * weibull_maturation(tau, maturation_scale_days, maturation_shape)
            * np.exp(-k_att * np.maximum(tau, 0.0)),
            0.0,
        )
    fail = np.asarray(failure_day, dtype=float)[:, None]
    return np.where(d < fail, out, 0.0)
