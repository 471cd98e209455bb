"""t2dsim's neutral-by-default extensions of the Dalla Man 2007 meal model (``meal.NEUTRAL_EXTENSIONS``).

* ``beta_Y_up`` multiplies β_Y only while plasma glucose is above the threshold h: 1 gives the published
  model back exactly; > 1 raises secretion when glucose rises above basal and leaves every trace unchanged
  while glucose stays at or below basal (an insulin challenge without food).
* a parameter set that omits the extensions gets their neutral values, and the caller's mapping is not
  modified.
"""

import numpy as np

from t2dsim.physiology.meal import NEUTRAL_EXTENSIONS, MealParams, dallaman_2007
from t2dsim.simulate import meal_inputs, simulate


def _with(params: MealParams, **updates) -> MealParams:
    vals = dict(params.values)
    for k, v in updates.items():
        vals[k] = np.full(params.n, float(v))
    return MealParams(vals, params.names)


def test_beta_y_up_one_is_the_published_model():
    p = dallaman_2007("t2d")
    cho = meal_inputs(600, [(60, 75.0)])
    a = simulate(p, cho)
    b = simulate(_with(p, beta_Y_up=1.0), cho)
    for k in ("plasma_glucose_mgdl", "secretion_pmol_kg_min"):
        np.testing.assert_array_equal(a[k], b[k])


def test_beta_y_up_acts_only_above_threshold():
    p = dallaman_2007("t2d")
    # a meal: glucose rises above basal, so secretion rises more and glucose peaks lower
    cho = meal_inputs(600, [(60, 75.0)])
    base = simulate(p, cho)
    amp = simulate(_with(p, beta_Y_up=1.5), cho)
    assert amp["secretion_pmol_kg_min"].max() > 1.1 * base["secretion_pmol_kg_min"].max()
    assert amp["plasma_glucose_mgdl"].max() < base["plasma_glucose_mgdl"].max() - 5.0
    # no food, 10 U s.c. at minute 0: glucose only falls, so the traces are identical
    ins = np.zeros((1, 480))
    ins[0, 0] = 10.0
    low = simulate(p, np.zeros((1, 480)), ins)
    low_amp = simulate(_with(p, beta_Y_up=1.5), np.zeros((1, 480)), ins)
    assert low["plasma_glucose_mgdl"].max() <= float(p["Gb"][0]) + 1e-9
    np.testing.assert_array_equal(low["secretion_pmol_kg_min"], low_amp["secretion_pmol_kg_min"])


def test_missing_extensions_get_neutral_values_without_touching_the_callers_mapping():
    p = dallaman_2007("t2d")
    vals = {k: v for k, v in p.values.items() if k not in NEUTRAL_EXTENSIONS}
    q = MealParams(vals, p.names)
    for k, neutral in NEUTRAL_EXTENSIONS.items():
        assert float(q[k][0]) == neutral
        assert k not in vals
