"""CGM fortnight of the trial runner with the real standard-care therapies: insulin-treated patients carry
the day-to-day variability of fasting glucose their titration sees (``insulin.day_fasting_glucose``).

* determinism: the same seed gives identical CGM measures at chunk sizes 5 and 64 (the day's fasting
  value is keyed by (seed, patient, calendar day), not by position in a chunk);
* effect: with the variability the fortnight has time below range on low days; without it (the smoothed
  fasting glucose every day, as before 2026-11-29; the usual-care titration then also sees smoothed
  values) there is none in this cohort, and mean glucose moves by less than 10 mg/dL (the variability is
  mean-one log-normal on fasting glucose). Measured: TBR 0.26 % vs 0.00 %, CGM mean 231.8 vs 230.4 mg/dL.
"""

import numpy as np
import pytest

from t2dsim.therapies import insulin as insulin_mod
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

PROTOCOL = """
name = "cgm-test"
duration_months = 3
visit_months = [0, 3]
measurements = ["hba1c_percent", "insulin_u_per_day", "cgm_mean_glucose_mgdl", "cgm_tbr_percent", "cgm_tir_percent"]
[population]
preset = "insulin-requiring"
[population.inclusion]
hba1c_percent = { min = 7.0, max = 10.5 }
insulin_use = "required"
[[arms]]
name = "usual"
n = 24
treatment = [{ kind = "standard_care", target_fpg_mgdl = 130, insulin_intensify = false }]
[randomisation]
seed = 11
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 3
"""


def _cgm(run):
    r = run.results
    return r[r["measure"].str.startswith("cgm_")].sort_values(["patient_id", "visit_month", "measure"])


@pytest.fixture(scope="module")
def runs():
    p = parse_protocol(PROTOCOL)
    return run_trial(p, chunk_size=5), run_trial(p, chunk_size=64)


def test_cgm_with_fasting_variability_is_chunk_invariant(runs):
    a, b = (_cgm(r) for r in runs)
    assert len(a) > 0
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def _measure(d, name):
    return d[d["measure"] == name]["value"].to_numpy()


def test_fasting_variability_gives_time_below_range_without_moving_the_mean(runs, monkeypatch):
    with_var = _cgm(runs[1])

    def smooth(self, g, day, n_days):
        return np.repeat(np.asarray(g)[:, None], n_days, 1)

    monkeypatch.setattr(insulin_mod.BasalInsulin, "daily_fasting", smooth)
    without = _cgm(run_trial(parse_protocol(PROTOCOL), chunk_size=64))
    tbr = {"var": _measure(with_var, "cgm_tbr_percent"), "none": _measure(without, "cgm_tbr_percent")}
    mean = {"var": _measure(with_var, "cgm_mean_glucose_mgdl"), "none": _measure(without, "cgm_mean_glucose_mgdl")}
    print(f"\nTBR mean {tbr['var'].mean():.2f} % (variability) vs {tbr['none'].mean():.2f} % (none); "
          f"CGM mean {mean['var'].mean():.1f} vs {mean['none'].mean():.1f} mg/dL")  # fmt: skip
    assert tbr["var"].mean() > 0.0 and np.count_nonzero(tbr["var"]) >= 2
    assert tbr["none"].mean() < tbr["var"].mean()
    assert abs(mean["var"].mean() - mean["none"].mean()) < 10.0
