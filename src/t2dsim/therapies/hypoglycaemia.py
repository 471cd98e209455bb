"""Hypoglycaemia events counted from minute-scale (meal-model) glucose traces.

Event definition (International Hypoglycaemia Study Group, Diabetes Care 40:155, 2017; CGM consensus,
Battelino et al., Diabetes Care 42:1593, 2019 and Danne et al., Diabetes Care 40:1631, 2017):

* level 1: glucose < 70 mg/dL (3.9 mmol/L); level 2: < 54 mg/dL (3.0 mmol/L);
* an **event** starts when glucose stays below the threshold for at least ``min_minutes`` (15 min)
  and ends when it stays at or above the threshold for at least ``end_minutes`` (15 min in the
  consensus); shorter excursions above the threshold do not split one event into two.

Everything is vectorised over patients: runs are found with ``np.diff`` on the padded boolean mask
and paired by position (starts and ends alternate within each row), never with a Python loop per
patient or per minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Thresholds (mg/dL): level 1 and level 2 hypoglycaemia (IHSG 2017).
LEVEL1_MGDL = 70.0
LEVEL2_MGDL = 54.0
#: Minimum duration of an event and of the recovery that ends it (minutes; CGM consensus 2017/2019).
MIN_EVENT_MINUTES = 15
MIN_RECOVERY_MINUTES = 15


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end) of every run of True in each row of a 2-D boolean array (end exclusive)."""
    n, t = mask.shape
    padded = np.zeros((n, t + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    rs, cs = np.nonzero(d == 1)
    re, ce = np.nonzero(d == -1)
    # np.nonzero is row-major, so starts and ends of the same run sit at the same position.
    return rs, cs, ce


def below_mask(
    glucose_mgdl: np.ndarray, threshold_mgdl: float, recovery_minutes: int = MIN_RECOVERY_MINUTES
) -> np.ndarray:
    """Boolean (n, T): glucose below ``threshold_mgdl``, with recoveries shorter than ``recovery_minutes``
    (interior gaps between two low runs) filled in so that they do not split an event."""
    g = np.atleast_2d(np.asarray(glucose_mgdl, dtype=float))
    low = g < threshold_mgdl
    if recovery_minutes <= 1:
        return low
    rows, start, end = _runs(~low)
    t = g.shape[1]
    interior = (start > 0) & (end < t) & (end - start < recovery_minutes)
    filled = low.copy()
    if np.any(interior):
        # fill each short interior gap (vectorised over gaps via a cumulative-sum trick)
        marks = np.zeros((g.shape[0], t + 1), dtype=np.int32)
        np.add.at(marks, (rows[interior], start[interior]), 1)
        np.add.at(marks, (rows[interior], end[interior]), -1)
        filled |= np.cumsum(marks, axis=1)[:, :t] > 0
    return filled


def count_events(
    glucose_mgdl: ArrayLike,
    threshold_mgdl: float = LEVEL1_MGDL,
    *,
    min_minutes: int = MIN_EVENT_MINUTES,
    recovery_minutes: int = MIN_RECOVERY_MINUTES,
    minutes_per_sample: float = 1.0,
) -> np.ndarray:
    """Number of hypoglycaemia events per patient (int array (n,)) in a glucose trace (n, T) sampled every
    ``minutes_per_sample`` minutes (1 for the meal model, 5 for a CGM)."""
    if threshold_mgdl <= 0 or min_minutes < 0 or recovery_minutes < 0 or minutes_per_sample <= 0:
        raise ValueError(
            "threshold_mgdl must be > 0, min_minutes and recovery_minutes ≥ 0, minutes_per_sample > 0 "
            f"(got {threshold_mgdl}, {min_minutes}, {recovery_minutes}, {minutes_per_sample})"
        )
    g = np.atleast_2d(np.asarray(glucose_mgdl, dtype=float))
    rec = int(np.ceil(recovery_minutes / minutes_per_sample))
    mask = below_mask(g, threshold_mgdl, rec)
    rows, start, end = _runs(mask)
    need = max(1, int(np.ceil(min_minutes / minutes_per_sample)))
    ok = (end - start) >= need
    return np.bincount(rows[ok], minlength=g.shape[0]).astype(np.int64)


@dataclass(frozen=True)
class HypoCounts:
    """Events per patient over ``days`` simulated days: ``level1`` (< 70 mg/dL), ``level2`` (< 54 mg/dL),
    and the per-patient minimum glucose (mg/dL)."""

    level1: np.ndarray
    level2: np.ndarray
    min_glucose_mgdl: np.ndarray
    days: float

    def rate_per_patient_year(self, level: int = 1) -> float:
        """Cohort event rate, events per patient-year (total events / total patient-years)."""
        ev = self.level1 if level == 1 else self.level2
        return float(ev.sum() / (ev.shape[0] * self.days / 365.25))

    def share_with_event(self, level: int = 1) -> float:
        ev = self.level1 if level == 1 else self.level2
        return float(np.mean(ev > 0))


def count_day(glucose_mgdl: ArrayLike, minutes_per_sample: float = 1.0) -> HypoCounts:
    """Level-1 and level-2 events of one simulated day (or any trace) per patient."""
    g = np.atleast_2d(np.asarray(glucose_mgdl, dtype=float))
    days = (g.shape[1] - 1) * minutes_per_sample / 1440.0
    return HypoCounts(
        count_events(g, LEVEL1_MGDL, minutes_per_sample=minutes_per_sample),
        count_events(g, LEVEL2_MGDL, minutes_per_sample=minutes_per_sample),
        g.min(axis=1),
        days,
    )


def accumulate(counts: list[HypoCounts]) -> HypoCounts:
    """Sum events of several simulated days (same patients)."""
    if not counts:
        raise ValueError("accumulate needs at least one HypoCounts")
    return HypoCounts(
        np.sum([c.level1 for c in counts], axis=0),
        np.sum([c.level2 for c in counts], axis=0),
        np.min([c.min_glucose_mgdl for c in counts], axis=0),
        float(sum(c.days for c in counts)),
    )
