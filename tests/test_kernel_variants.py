"""Each Numba kernel compiles exactly one variant, whatever the caller passes (scalars or arrays, one or many
patients, read-only or writable buffers): every extra variant costs seconds of compile on a cold cache
(issue 18; timings in benchmarks/cold_start.py, not here)."""

from __future__ import annotations

import numpy as np

from t2dsim.physiology import meal, progression
from t2dsim.simulate import three_meal_day


def test_progression_kernel_has_one_variant() -> None:
    pr = progression
    ro = np.full(3, 28.0)
    ro.flags.writeable = False
    calls = (
        (3, 50.0, 25.0),
        (3, np.full(3, 50.0), np.full(3, 28.0)),
        (3, 50.0, ro),
        (3, ro, 25.0),
        (1, 50.0, 25.0),
        (1, np.array([40.0]), np.array([30.0])),
        (3, 50.0, np.full((3, 20), 27.0)),
    )
    for n, age, bmi in calls:
        pr.simulate_progression(pr.t2dsim_params(n), pr.t2dsim_initial_state(n), 20, age_years=age, bmi_kg_m2=bmi)
    rec = np.array([5, 10], dtype=np.int32)
    rec.flags.writeable = False
    pr.simulate_progression(pr.t2dsim_params(2), pr.t2dsim_initial_state(2), 10, record_days=rec)
    assert len(pr._kernel.signatures) == 1, pr._kernel.signatures
    assert len(pr._advance_patient.signatures) <= 1, pr._advance_patient.signatures  # 0 when loaded from cache


def test_meal_kernel_has_one_variant() -> None:
    three_meal_day(meal.dallaman_2007("t2d", n=1))
    three_meal_day(meal.dallaman_2007("normal", n=3))
    assert len(meal.integrate_meal_kernel.signatures) == 1, meal.integrate_meal_kernel.signatures
    # the callee lists its variants only when compiled in this process (not when the kernel loads from cache);
    # meal_rhs is not checked: tests also call it from Python with other argument types
    assert len(meal.integrate_patient.signatures) <= 1, meal.integrate_patient.signatures
