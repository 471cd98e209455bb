"""HbA1c as a state: first-order glycation kinetics whose steady state is the ADAG relation.

Model (time in days)::

    dH/dt = (H∞(Ḡ) − H) / τ_A ,     H∞(Ḡ) = (Ḡ + 46.7) / 28.7

* H is HbA1c (NGSP %), Ḡ the mean 24-h plasma glucose (mg/dL).
* H∞ inverts the ADAG regression Ḡ = 28.7·A1C − 46.7 (Nathan et al., Diabetes Care 31:1473, 2008;
  n = 507, R² = 0.84), so the chronic steady state *is* ADAG by construction. This is the linear
  form of the glycation model dA/dt = k_g·Ḡ − A/τ (reference physiology-models.md §6.5) with the
  non-glycaemic offset 46.7/28.7 = 1.63 %; the saturation factor (1 − A) is dropped because ADAG is
  empirically linear over A1C 5–12 % (a saturating model would bend below ADAG by ~1 %-point at
  Ḡ = 300 mg/dL).
* τ_A = 30 d / ln 2 = 43.3 d. Source: Tahara & Shima (1995) as summarised in Diabetes Care 29:466
  (2006): 50 % of HbA1c is determined by glycaemia of the preceding 30 days and
  25 % by the 30 days before that — exactly the weights of a first-order filter with a 30-day
  half-life (50 %, 25 %, 12.5 %, …). An age-structured red-cell model was not used (it needs a
  ~120-day history per patient; the first-order filter reproduces the published weights).
  This filter serves the progression model's weekly HbA1c state (``glycation = "fasting_line"``, the default).
  HbA1c driven by meal-model days (``glycation = "meal_days"``, engine.glycation_days, engine.meal_days) uses the
  red-cell window below instead (:class:`WindowedHbA1c`, 100 days, weight falling linearly): it matches the same
  paper's measured fall (linear for 2 months, half-time 34.6 days, weights extending ~100 days) where the filter's
  exponential tail does not; both have a 30-day step-response half-time, so chronic levels are identical and
  the two paths differ only in how fast HbA1c catches up after 2-3 months (docs/glucose_truth.md, session 13).

Fasting-like glucose → mean glucose. The progression model's glucose G is fasting-like (Ha, Satin &
Sherman 2016 use a single daily glucose level). Mean 24-h glucose in T2D lies above FPG; we map

    Ḡ = 1.1502·FPG − 15.24   (mg/dL)

a least-squares line through the ADAG empirical targets of Wei, Zheng & Nathan (Diabetes Care
37:1048, 2014): mean fasting SMBG of 122, 142, 152, 167, 178 mg/dL for HbA1c bands 5.5–6.49,
6.5–6.99, 7.0–7.49, 7.5–7.99, 8.0–8.5 %, against the ADAG mean glucose at the band midpoints
(125.4, 146.9, 161.2, 175.6, 190.1 mg/dL). At FPG 100 mg/dL it gives Ḡ = 99.8 mg/dL (normoglycaemia,
no postprandial excess); at FPG 178 mg/dL, Ḡ = 189.5 mg/dL.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: ADAG regression (Nathan 2008): mean glucose [mg/dL] = ADAG_SLOPE·A1C[%] + ADAG_INTERCEPT.
ADAG_SLOPE = 28.7
ADAG_INTERCEPT = -46.7
#: HbA1c half-life of response to a step in glycaemia (days); Tahara & Shima 1995 weights.
HBA1C_HALF_LIFE_DAYS = 30.0
HBA1C_TAU_DAYS = HBA1C_HALF_LIFE_DAYS / np.log(2.0)
#: Fasting → mean glucose line fitted to Wei, Zheng & Nathan 2014 (see module docstring).
FPG_TO_MEAN_SLOPE = 1.1502
FPG_TO_MEAN_INTERCEPT_MGDL = -15.24
#: Wei 2014 table used for the fit (HbA1c band lower, upper %, mean fasting glucose mg/dL).
WEI2014_FASTING_TABLE = (
    (5.5, 6.49, 122.0),
    (6.5, 6.99, 142.0),
    (7.0, 7.49, 152.0),
    (7.5, 7.99, 167.0),
    (8.0, 8.5, 178.0),
)


def hba1c_from_mean_glucose(mean_glucose_mgdl: ArrayLike) -> np.ndarray:
    """ADAG inverse: HbA1c (%) whose estimated average glucose is ``mean_glucose_mgdl``."""
    return (np.asarray(mean_glucose_mgdl, dtype=float) - ADAG_INTERCEPT) / ADAG_SLOPE


def mean_glucose_from_hba1c(hba1c_pct: ArrayLike) -> np.ndarray:
    """ADAG estimated average glucose (mg/dL) for HbA1c (%)."""
    return ADAG_SLOPE * np.asarray(hba1c_pct, dtype=float) + ADAG_INTERCEPT


def mean_glucose_from_fpg(fpg_mgdl: ArrayLike) -> np.ndarray:
    """Mean 24-h glucose (mg/dL) implied by a fasting glucose (mg/dL), Wei 2014 / ADAG line."""
    return FPG_TO_MEAN_SLOPE * np.asarray(fpg_mgdl, dtype=float) + FPG_TO_MEAN_INTERCEPT_MGDL


def fpg_from_mean_glucose(mean_glucose_mgdl: ArrayLike) -> np.ndarray:
    """Inverse of :func:`mean_glucose_from_fpg` (mg/dL)."""
    return (np.asarray(mean_glucose_mgdl, dtype=float) - FPG_TO_MEAN_INTERCEPT_MGDL) / FPG_TO_MEAN_SLOPE


def steady_state_hba1c_from_fpg(fpg_mgdl: ArrayLike) -> np.ndarray:
    """Chronic-steady-state HbA1c (%) for a constant fasting glucose (mg/dL)."""
    return hba1c_from_mean_glucose(mean_glucose_from_fpg(fpg_mgdl))


def step_hba1c(
    hba1c_pct: ArrayLike, mean_glucose_mgdl: ArrayLike, dt_days: float, tau_days: float = HBA1C_TAU_DAYS
) -> np.ndarray:
    """Exact update of the first-order HbA1c model over ``dt_days`` with constant mean glucose."""
    if dt_days < 0 or tau_days <= 0:
        raise ValueError(f"dt_days must be ≥ 0 and tau_days > 0 (got {dt_days}, {tau_days})")
    target = hba1c_from_mean_glucose(mean_glucose_mgdl)
    return target + (np.asarray(hba1c_pct, dtype=float) - target) * np.exp(-dt_days / tau_days)


#: Red-cell glycation window (days) of HbA1c driven by meal-model days (engine.glycation_days, engine.meal_days).
#: Tahara & Shima, Diabetes Care 18:440 (1995), abstract: after glycaemic normalisation (fasting glucose half-time
#: 6.3 ± 2.4 days) HbA1c fell *linearly* for the first 2 months with a half-time of 34.6 ± 10.1 days (mean ± SD,
#: n = 9), and its weight function on past glucose is largest on the days just before the measurement, decreases
#: with the time interval and extends back "roughly 100 days". A linearly falling weight over a 100-day window is the
#: kinetics of red cells of uniform age glycated at a rate proportional to glucose (each cell integrates glucose over
#: its age; the share of cells older than s falls linearly), and reproduces all three facts: with their 6.3-day
#: glucose fall it gives a half-time of 38.8 days, equal falls in days 0-30 and 30-60 (0.374 / 0.377 of the step),
#: and no weight beyond 100 days. The first-order filter (30-day half-life, above) gives 39.9 days but a decelerating
#: fall (0.378 / 0.307) and keeps 12.5 % of its weight beyond 90 days, 6.25 % beyond 120 (red cells live ~120 days).
RED_CELL_WINDOW_DAYS = 100.0


def window_share(lag_from_days: ArrayLike, lag_to_days: ArrayLike, window_days: float = RED_CELL_WINDOW_DAYS):
    """Share of HbA1c set by the glucose between ``lag_from_days`` and ``lag_to_days`` before the measurement:
    the integral of the weight w(s) = 2/L·(1 − s/L) on [0, L] (L = ``window_days``), i.e.
    (1 − a/L)² − (1 − b/L)² with a, b clipped to [0, L]. Shares of adjacent intervals add up to 1 over [0, L]."""
    if window_days <= 0:
        raise ValueError(f"window_days must be > 0, got {window_days}")
    a = np.clip(np.asarray(lag_from_days, dtype=float), 0.0, window_days) / window_days
    b = np.clip(np.asarray(lag_to_days, dtype=float), 0.0, window_days) / window_days
    return (1.0 - a) ** 2 - (1.0 - b) ** 2


class WindowedHbA1c:
    """HbA1c (%) of n patients as the red-cell weighted mean of the glycation targets of the past
    ``window_days`` (:func:`window_share`, RED_CELL_WINDOW_DAYS). The history before the first :meth:`add` is the
    steady state of the starting HbA1c (its own target); each :meth:`add` appends a target (%, e.g. the GMI of a
    meal-model day's mean glucose) held for the ``dt_days`` just past. Memory: one (n,) array per step inside
    the window (15 for weekly steps)."""

    def __init__(self, hba1c_pct: ArrayLike, window_days: float = RED_CELL_WINDOW_DAYS) -> None:
        if window_days <= 0:
            raise ValueError(f"window_days must be > 0, got {window_days}")
        self.window_days = float(window_days)
        self._start = np.asarray(hba1c_pct, dtype=float).copy()
        self._t = 0.0  # days since the start
        self._steps: list[tuple[float, float, np.ndarray]] = []  # (from day, to day, target %)
        self.hba1c_pct = self._start.copy()

    def add(self, target_pct: ArrayLike, dt_days: float) -> np.ndarray:
        """Append ``target_pct`` (n,) as the target of the last ``dt_days`` (> 0) days; returns the new HbA1c."""
        if not dt_days > 0:
            raise ValueError(f"dt_days must be > 0, got {dt_days}")
        self._steps.append((self._t, self._t + float(dt_days), np.asarray(target_pct, dtype=float)))
        self._t += float(dt_days)
        t, L = self._t, self.window_days
        self._steps = [s for s in self._steps if t - s[1] < L]
        h = self._start * window_share(t, L, L)
        for t0, t1, target in self._steps:
            h = h + target * window_share(t - t1, t - t0, L)
        self.hba1c_pct = h
        return h


#: How a trial's HbA1c is derived, in words for the report (keep in step with the model above and
#: ``progression_params.insulin_mean_fraction``).
HBA1C_DERIVATION = (
    "HbA1c is the progression model's glycation state: first-order kinetics with a 30-day half-life "
    "(Tahara & Shima 1995) relaxing to the ADAG relation HbA1c = (mean glucose + 46.7)/28.7 (Nathan et al., "
    "Diabetes Care 31:1473, 2008), with the 24-h mean glucose read off the model's daily fasting-like glucose by the "
    "Wei, Zheng & Nathan 2014 line (mean = 1.150 × FPG − 15.2 mg/dL, Diabetes Care 37:1048). Under basal insulin "
    "only 60 % of its fasting-glucose lowering is carried to the mean (calibrated on Riddle 2003, which reports "
    "HbA1c 6.96 % at FPG 117 mg/dL). CGM measures (mean glucose, time in range, GMI) come from the minute-scale "
    "meal model run on visit days, a separate time scale."
)

#: The same for trials run with ``glycation = "meal_days"`` (engine.glycation_days): one glucose truth.
HBA1C_DERIVATION_MEAL_DAYS = (
    "HbA1c follows the minute-scale glucose course: from the screened (progression-model) value at randomisation, "
    "it is the red-cell weighted mean of the past 100 days (weight falling linearly with the time before the "
    "measurement; Tahara & Shima, Diabetes Care 18:440, 1995) of the GMI of each week's meal-model day "
    "(GMI = 3.31 + 0.02392 × mean glucose in mg/dL, the regression of laboratory HbA1c on CGM mean glucose, "
    "Bergenstal et al., Diabetes Care 41:2275, 2018). The day is the one a CGM visit "
    "simulates, so HbA1c and the CGM's GMI describe one glucose course (they differ by the glycation lag, the "
    "fortnight's meal-size variation and sensor error)."
)

#: Known limits of that derivation, each with its source (shown next to HbA1c in the report).
HBA1C_LIMITS = (
    "In people, laboratory HbA1c and the GMI of their own CGM mean glucose differ by 0.5 %-points or more in about "
    "28 % of patients (GMI = 3.31 + 0.02392 × CGM mean in mg/dL; Bergenstal et al., Diabetes Care 41:2275, 2018); "
    "the model has no such person-to-person glycation variation (red-cell lifespan, glycation rate).",
    "With the fasting line (the default), the cross-sectional Wei 2014 relation makes HbA1c follow fasting glucose "
    "closely under treatment, and the model's own CGM can imply an HbA1c up to ~1 %-point higher (t2dsim "
    "docs/glucose_truth.md). With meal-day glycation, the meal model's day runs above the fasting line before "
    "treatment in newly diagnosed patients (baseline GMI ~0.15-0.2 %-points above the screened HbA1c, measured "
    "before the first dose), and HbA1c lags the GMI by ~0.15 %-points 3 months after a 1.5-point fall.",
    "In basal-insulin users with type 2 diabetes the mean HbA1c sits about 0.8 %-points above the GMI of their own "
    "blinded CGM (MOBILE: HbA1c 9.1 %, CGM mean 208 mg/dL; Martens et al., JAMA 325:2262, 2021). The model's "
    "insulin-treated cohort matched to that HbA1c has a CGM mean of ~250 mg/dL (t2dsim docs/capacity_law.md): its "
    "CGM and meal-test glucose of insulin-treated patients placed at a requested HbA1c run high.",
    "Not modelled: anaemia, haemoglobinopathies, chronic kidney disease, pregnancy and assay differences, which "
    "shift HbA1c away from mean glucose in people.",
)
