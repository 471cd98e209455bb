"""Clinical markers, vectorised over patients (leading axis = patients, last axis = samples).

* HOMA1 (Matthews et al., Diabetologia 28:412, 1985): HOMA1-IR = FPG[mmol/L]·FPI[µU/mL]/22.5;
  HOMA1-%B = 20·FPI[µU/mL]/(FPG[mmol/L] − 3.5) (undefined, NaN, for FPG ≤ 3.5 mmol/L).
* Matsuda index (Matsuda & DeFronzo, Diabetes Care 22:1462, 1999):
  10000/√(G0·I0·Ḡ·Ī), glucose mg/dL, insulin µU/mL, Ḡ and Ī the means of the OGTT samples
  (0, 30, 60, 90, 120 min).
* C-peptide AUC: trapezoid rule over the sampled times (MMTT).
* CGM consensus metrics (Battelino et al., Diabetes Care 42:1593, 2019): TIR 70–180 mg/dL, TBR < 70
  and < 54, TAR > 180 and > 250 (percent of valid readings), mean, SD, CV = 100·SD/mean
  (population SD), and GMI[%] = 3.31 + 0.02392·mean[mg/dL] (Bergenstal et al., Diabetes Care
  41:2275, 2018).
* HbA1c helpers: ADAG conversions (see glycation.py).

Glucose in mg/dL is converted to mmol/L with t2dsim.core.units (18.016 mg/dL per mmol/L).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from t2dsim.core.units import GLUCOSE_MGDL_PER_MMOLL
from t2dsim.physiology.glycation import (
    hba1c_from_mean_glucose,
    mean_glucose_from_fpg,
    mean_glucose_from_hba1c,
    steady_state_hba1c_from_fpg,
)

__all__ = [
    "homa1_ir",
    "homa1_b_pct",
    "matsuda_index",
    "auc_trapezoid",
    "cgm_metrics",
    "gmi_pct",
    "hba1c_from_mean_glucose",
    "mean_glucose_from_hba1c",
    "mean_glucose_from_fpg",
    "steady_state_hba1c_from_fpg",
    "OGTT_TIMES_MIN",
]

OGTT_TIMES_MIN = (0.0, 30.0, 60.0, 90.0, 120.0)


def _positive(name: str, a: ArrayLike) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if np.any(arr[np.isfinite(arr)] < 0):
        raise ValueError(f"{name} must be ≥ 0")
    return arr


def homa1_ir(fpg_mgdl: ArrayLike, fpi_uuml: ArrayLike) -> np.ndarray:
    """HOMA1-IR from fasting glucose (mg/dL) and fasting insulin (µU/mL); 1.0 is the normal reference."""
    g = _positive("fpg_mgdl", fpg_mgdl) / GLUCOSE_MGDL_PER_MMOLL
    return g * _positive("fpi_uuml", fpi_uuml) / 22.5


def homa1_b_pct(fpg_mgdl: ArrayLike, fpi_uuml: ArrayLike) -> np.ndarray:
    """HOMA1-%B (percent of normal β-cell function); NaN where FPG ≤ 3.5 mmol/L (formula undefined)."""
    g = _positive("fpg_mgdl", fpg_mgdl) / GLUCOSE_MGDL_PER_MMOLL
    i = _positive("fpi_uuml", fpi_uuml)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 20.0 * i / (g - 3.5)
    return np.where(g > 3.5, out, np.nan)


def matsuda_index(glucose_mgdl: ArrayLike, insulin_uuml: ArrayLike) -> np.ndarray:
    """Matsuda index from OGTT samples ``(..., n_samples)``; sample 0 must be the fasting (0 min) one.

    Ḡ and Ī are the arithmetic means of all given samples (Matsuda & DeFronzo 1999 use 0, 30, 60, 90,
    120 min).
    """
    g = _positive("glucose_mgdl", glucose_mgdl)
    i = _positive("insulin_uuml", insulin_uuml)
    if g.shape != i.shape or g.shape[-1] < 2:
        raise ValueError(f"glucose and insulin must have the same shape with ≥ 2 samples (got {g.shape}, {i.shape})")
    return 10000.0 / np.sqrt(g[..., 0] * i[..., 0] * g.mean(axis=-1) * i.mean(axis=-1))


def auc_trapezoid(times_min: ArrayLike, conc: ArrayLike, per: str = "min") -> np.ndarray:
    """Area under ``conc`` (…, n_samples) over ``times_min`` (n_samples,) by the trapezoid rule.

    Units: concentration × minutes (``per="min"``) or × hours (``per="h"``); e.g. C-peptide pmol/L·min.
    """
    t = np.asarray(times_min, dtype=float)
    c = np.asarray(conc, dtype=float)
    if t.ndim != 1 or c.shape[-1] != t.shape[0] or np.any(np.diff(t) <= 0):
        raise ValueError("times_min must be strictly increasing and match the last axis of conc")
    if per not in ("min", "h"):
        raise ValueError(f"per must be 'min' or 'h' (got {per!r})")
    area = np.sum(0.5 * (c[..., 1:] + c[..., :-1]) * np.diff(t), axis=-1)
    return area / 60.0 if per == "h" else area


def gmi_pct(mean_glucose_mgdl: ArrayLike) -> np.ndarray:
    """Glucose management indicator (%) from mean CGM glucose (mg/dL), Bergenstal 2018."""
    return 3.31 + 0.02392 * np.asarray(mean_glucose_mgdl, dtype=float)


def cgm_metrics(glucose_mgdl: ArrayLike) -> dict[str, np.ndarray]:
    """Consensus CGM metrics over the last axis (readings); NaN readings are ignored.

    Returns arrays of the leading shape: ``mean_mgdl``, ``sd_mgdl``, ``cv_pct``, ``tir_70_180_pct``,
    ``tbr_70_pct`` (< 70), ``tbr_54_pct`` (< 54), ``tar_180_pct`` (> 180), ``tar_250_pct`` (> 250),
    ``gmi_pct``, ``n_valid``. Ranges per Battelino 2019: in range means 70 ≤ G ≤ 180 mg/dL.
    """
    g = np.asarray(glucose_mgdl, dtype=float)
    valid = np.isfinite(g)
    n = valid.sum(axis=-1)
    if np.any(n == 0):
        raise ValueError("cgm_metrics: every patient needs at least one valid reading")
    gz = np.where(valid, g, 0.0)
    mean = gz.sum(axis=-1) / n
    sd = np.sqrt(np.where(valid, (g - mean[..., None]) ** 2, 0.0).sum(axis=-1) / n)

    def pct(mask: np.ndarray) -> np.ndarray:
        return 100.0 * (mask & valid).sum(axis=-1) / n

    with np.errstate(invalid="ignore"):
        return {
            "mean_mgdl": mean,
            "sd_mgdl": sd,
            "cv_pct": 100.0 * sd / mean,
            "tir_70_180_pct": pct((g >= 70.0) & (g <= 180.0)),
            "tbr_70_pct": pct(g < 70.0),
            "tbr_54_pct": pct(g < 54.0),
            "tar_180_pct": pct(g > 180.0),
            "tar_250_pct": pct(g > 250.0),
            "gmi_pct": gmi_pct(mean),
            "n_valid": n,
        }
