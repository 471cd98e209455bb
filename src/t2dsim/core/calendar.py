"""The simulation calendar: days since randomisation, months and visits.

A month is a Julian year over twelve, 365.25/12 = 30.4375 days, so month 12 is day 365 after rounding.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_YEAR", "month_to_day", "visit_days"]

#: Days per year (Julian year).
DAYS_PER_YEAR = 365.25
#: Days per month (Julian year / 12).
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0


def month_to_day(month: float | None) -> int | None:
    """Months after randomisation → day index ``round(month · 365.25/12)``; None stays None."""
    return None if month is None else int(round(float(month) * DAYS_PER_MONTH))


def visit_days(visit_months: ArrayLike) -> NDArray[np.int64]:
    """Simulation day of each visit: ``round(month * 365.25 / 12)`` (e.g. month 12 -> day 365)."""
    m = np.asarray(visit_months, dtype=np.float64)
    if np.any(m < 0):
        raise ValueError("visit months must be >= 0")
    return np.rint(m * DAYS_PER_MONTH).astype(np.int64)
