"""HbA1c from the minute-scale glucose course (one glucose truth): weekly meal-model days drive glycation.

The progression model's HbA1c reads mean glucose off fasting glucose (Wei 2014 line, ``physiology.glycation``).
Here, instead, every ``step_days`` the arm runs one meal-model day from its progression state, exactly the day a
CGM visit simulates (:func:`t2dsim.engine.visits.cgm_day`: the standard three meals at their planned sizes, basal
insulin as its steady-state infusion, the day's fasting glucose of patients on insulin from their titration's
day-to-day variability), and HbA1c is the red-cell weighted mean of the glycation targets of the past 100 days
(``physiology.glycation.WindowedHbA1c``: weight falling linearly to 0 at 100 days, Tahara & Shima 1995), each
step's target held over the step just simulated:

    H(t) = Σ_steps H∞,step · share(step's lags),   H∞ = 3.31 + 0.02392·Ḡ_day   (%, Ḡ in mg/dL)

H∞ is the glucose management indicator (Bergenstal et al., Diabetes Care 41:2275, 2018): the regression of
laboratory HbA1c on CGM mean glucose, i.e. the expected HbA1c of a person with that mean glucose (the ADAG line
of ``physiology.glycation`` is the regression the other way, mean glucose on HbA1c, and its inverse overstates
HbA1c at high and understates it at low mean glucose). HbA1c and the GMI of a CGM fortnight then describe the
same glucose course; they still differ by the glycation lag, the fortnight's day-to-day meal sizes and the
sensor error. The course starts from the progression model's HbA1c at randomisation (the value the cohort was
screened on). Units: days, mg/dL, %.

Cost: one meal-model day per patient per step (weekly: 52 patient-days per patient-year).
"""

from __future__ import annotations

import numpy as np

from t2dsim.engine.arm import ArmState, advance, meal_params_today
from t2dsim.engine.visits import cgm_day
from t2dsim.physiology import glycation
from t2dsim.physiology.markers import gmi_pct

__all__ = ["MealGlycation", "advance_with_meal_glycation"]


class MealGlycation:
    """HbA1c (%) of an arm's patients driven by meal-model days; ``hba1c_pct`` (n,) is the current value."""

    def __init__(self, arm: ArmState, step_days: int = 7) -> None:
        if not 1 <= int(step_days) <= 31:
            raise ValueError(f"step_days must lie in [1, 31] days, got {step_days}")
        self.step_days = int(step_days)
        self._glycation = glycation.WindowedHbA1c(np.asarray(arm.last["hba1c_pct"], dtype=float))
        self.hba1c_pct = self._glycation.hba1c_pct
        self.mean_glucose_mgdl = np.full(arm.cohort.n, np.nan)

    def update(self, arm: ArmState, dt_days: float) -> None:
        """Run the arm's meal-model day of today and relax HbA1c over the ``dt_days`` just simulated."""
        day = cgm_day(arm, meal_params_today(arm), arm.day - 1)
        self.mean_glucose_mgdl = day["plasma_glucose_mgdl"][:, 1:].mean(axis=1)
        self.hba1c_pct = self._glycation.add(gmi_pct(self.mean_glucose_mgdl), float(dt_days))


def advance_with_meal_glycation(arm: ArmState, n_days: int, glyc: MealGlycation) -> None:
    """Advance ``arm`` by ``n_days`` in steps of ``glyc.step_days``, updating its meal-day HbA1c after each."""
    end = arm.day + int(n_days)
    while arm.day < end:
        step = min(glyc.step_days, end - arm.day)
        advance(arm, step)
        glyc.update(arm, step)
