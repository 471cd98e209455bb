"""Engine: segmenting the progression run changes nothing; therapies act only while active."""

from pathlib import Path

import numpy as np

from t2dsim.engine import ArmState, Cohort, advance, run_meal_day
from t2dsim.physiology.progression import ha2016_initial_state, ha2016_params, simulate_progression
from t2dsim.simulate import meal_inputs, mmtt_cho_g
from t2dsim.therapies.base import PatientContext, Therapy


def _cohort(n=4):
    params = ha2016_params(n)
    state = ha2016_initial_state(n)
    ctx = PatientContext(n=n, body_weight_kg=np.full(n, 80.0), age_years=np.full(n, 50.0), female=np.zeros(n, bool))
    return Cohort(params, state, ctx, np.full(n, 25.0), np.full(n, 175.0))


class HalfHGP(Therapy):
    kind = "half_hgp"

    def effects(self, ctx, day):
        return {"hgp_mult": np.full(ctx.n, 0.8)}


def test_segmented_run_equals_single_run():
    c = _cohort()
    arm = ArmState(c, [])
    advance(arm, 400, segment_days=7, record_days=[400])
    ref = simulate_progression(c.params, c.state, 400, age_years=50.0, bmi_kg_m2=25.0, record_days="end")
    np.testing.assert_array_equal(arm.state.to_matrix(), ref.state.to_matrix())


def test_therapy_acts_only_while_active():
    c = _cohort(2)
    treated = ArmState(c, [HalfHGP(start_day=100, stop_day=200)])
    control = ArmState(c, [])
    days = [50, 150, 400]
    tt = advance(treated, 400, record_days=days)
    tc = advance(control, 400, record_days=days)
    g_t, g_c = tt["glucose_mgdl"], tc["glucose_mgdl"]
    assert list(tt.days) == days
    np.testing.assert_array_equal(g_t[:, 0], g_c[:, 0])  # before start: identical
    assert np.all(g_t[:, 1] < g_c[:, 1] - 1)  # during: lower hepatic output, lower glucose (β cells compensate)


def test_meal_day_from_progression_state():
    c = _cohort(3)
    arm = ArmState(c, [])
    advance(arm, 30)
    grams = float(mmtt_cho_g(80.0))
    res = run_meal_day(arm, meal_inputs(240, [(0, grams)], rate_g_per_min=grams / 5))
    g = res["plasma_glucose_mgdl"]
    # The visit day starts at the progression model's fasting glucose (coupling sets Gb = G).
    np.testing.assert_allclose(g[:, 0], arm.last["glucose_mgdl"], rtol=1e-6)
    assert np.all(g.max(axis=1) > g[:, 0] + 20)


def test_meal_day_glycation_relaxes_to_the_gmi_of_the_days_mean():
    """engine.glycation_days: with a steady physiology (Ha 2016 initial state, no therapy), after 12 weekly steps HbA1c
    has moved 1 − (1 − 84/100)² of the way from its start to the GMI of the meal-day mean glucose (Bergenstal 2018:
    3.31 + 0.02392 × mean): the start's share of a 100-day red-cell window whose weight falls linearly (Tahara &
    Shima 1995); hand computation with the last week's mean. ±0.05 %-point: the
    Ha initial state drifts slowly, so the weekly means are not exactly constant (0.026 measured). Bad step sizes
    are refused."""
    import pytest

    from t2dsim.engine.glycation_days import MealGlycation, advance_with_meal_glycation

    arm = ArmState(_cohort(2), [])
    glyc = MealGlycation(arm)
    h0 = glyc.hba1c_pct.copy()
    advance_with_meal_glycation(arm, 84, glyc)
    mean = glyc.mean_glucose_mgdl
    assert np.all(mean > arm.last["glucose_mgdl"])  # meals lift the day's mean above fasting
    target = 3.31 + 0.02392 * mean
    expected = target + (h0 - target) * (1.0 - 84.0 / 100.0) ** 2
    np.testing.assert_allclose(glyc.hba1c_pct, expected, atol=0.05)
    with pytest.raises(ValueError, match="step_days"):
        MealGlycation(arm, step_days=0)


THREADS_SCRIPT = """
import sys

import numba
import numpy as np

sys.path.insert(0, sys.argv[1])  # this test file's folder: the same cohort and therapy as the tests above
from test_engine import HalfHGP, _cohort  # noqa: E402

from t2dsim.engine import ArmState, advance, run_meal_day  # noqa: E402
from t2dsim.simulate import meal_inputs  # noqa: E402

out = []
for threads in (1, 2):
    numba.set_num_threads(threads)
    c = _cohort(64)
    c.state.beta_mass_mg[:] *= np.random.default_rng(5).uniform(0.3, 1.0, 64)
    arm = ArmState(c, [HalfHGP(start_day=30)])
    advance(arm, 120)
    res = run_meal_day(arm, meal_inputs(240, [(0, 75.0)], rate_g_per_min=15.0))
    out.append((arm.state.to_matrix(), res["plasma_glucose_mgdl"]))
print(numba.config.NUMBA_NUM_THREADS, np.array_equal(out[0][0], out[1][0]), np.array_equal(out[0][1], out[1][1]))
"""


def test_one_and_two_numba_threads_give_identical_courses_and_meal_days():
    """The progression and meal kernels loop over patients with prange and each patient's course is independent, so
    the number of threads cannot change a number. The suite's xdist workers run Numba on one thread (conftest.py:
    two workers with two threads each oversubscribe the 2-core machine), so the two-thread path is checked here, in
    a fresh interpreter whose Numba pool has 2 threads whatever the machine (NUMBA_NUM_THREADS=2)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    here = str(Path(__file__).parent)
    cmd = [sys.executable, "-c", THREADS_SCRIPT, here]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["2", "True", "True"], out.stdout
