"""The engine: a cohort advanced under its therapies (progression days, meal-model days), visits measured.

Modules: :mod:`~t2dsim.engine.cohort` (the one ``Cohort`` type), :mod:`~t2dsim.engine.arm` (arm state and
the day loop with titration hooks), :mod:`~t2dsim.engine.meal_days` (meal-model days inside a course),
:mod:`~t2dsim.engine.visits` (what a visit measures: labs, MMTT, CGM).
"""

from t2dsim.engine.arm import ArmState, Trajectory, advance, meal_params_today, run_meal_day, state_outputs
from t2dsim.engine.cohort import Cohort

__all__ = ["ArmState", "Cohort", "Trajectory", "advance", "meal_params_today", "run_meal_day", "state_outputs"]
