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


def test_baseline_visit_is_measured_before_the_first_dose_the_same_in_every_arm():
    """The visit at randomisation is the baseline: on the SAME patients, the insulin arm and the GLP-1 RA arm of
    examples/basal-insulin-vs-glp1ra.toml must report identical month-0 CGM and insulin dose (insulin-naive: 0 U/day).
    Before the fix (2026-12-06) the month-0 CGM fortnight ran under the arm's new drugs: on 60 identical patients the
    semaglutide arm's baseline CGM mean was 15.5 mg/dL below the glargine arm's, the glargine arm had time below
    range from the titration's fasting variability, and its baseline dose was the 10 U start dose
    (experiments/i15/baseline_visit_by_arm.py). The background regimen and usual care, which the patients were on
    before randomisation, still count (engine.visits.new_at_randomisation)."""
    from pathlib import Path

    from t2dsim.trial.protocol import load_protocol
    from t2dsim.trial.runner import plan_trial, simulate_chunk

    protocol = load_protocol(Path(__file__).parents[1] / "examples" / "basal-insulin-vs-glp1ra.toml")
    arms = [a.model_copy(update={"n": 8}) for a in protocol.arms]
    protocol = protocol.model_copy(update={"duration_months": 1, "visit_months": [0], "arms": arms})
    plan = plan_trial(protocol)
    base = {}
    for arm in protocol.arms:
        r = simulate_chunk(protocol, plan.seed, arm.name, plan.cohort)
        base[arm.name] = r.pivot_table(index="patient_id", columns="measure", values="value")
    a, b = base["glargine"], base["semaglutide"]
    for m in ("cgm_mean_glucose_mgdl", "cgm_tir_percent", "cgm_tbr_percent", "hba1c_percent", "fpg_mgdl"):
        np.testing.assert_array_equal(a[m].to_numpy(), b[m].to_numpy(), err_msg=m)
    assert (a["insulin_u_per_day"] == 0).all() and (b["insulin_u_per_day"] == 0).all()
    assert a["cgm_mean_glucose_mgdl"].between(100, 400).all()


#: MOBILE (Martens et al., JAMA 325:2262, 2021; baseline paper Diabetes Obes Metab 2021, abstract): 173 adults with
#: T2D on basal insulin without prandial insulin (40 % also on a sulfonylurea), HbA1c 9.1 % (range 7.1-11.6; SD 0.9 in
#: the JAMA paper), 10 days of blinded CGM before randomisation: mean glucose 208 ± 47 mg/dL (SD), time in range 40 %.
MOBILE_CGM_MEAN_MGDL, MOBILE_CGM_SD_MGDL, MOBILE_N = 208.0, 47.0, 173

MOBILE_PROTOCOL = """
name = "mobile-baseline"
description = "MOBILE baseline: T2D on basal insulin without prandial insulin, blinded CGM before randomisation"
duration_months = 1
visit_months = [0, 1]
measurements = ["hba1c_percent", "cgm_mean_glucose_mgdl"]
[population]
preset = "insulin-requiring"
baseline_pool_factor = 10
[population.inclusion]
age_years = { min = 30, max = 70 }
hba1c_percent = { min = 7.8, max = 11.5 }
insulin_use = "required"
[population.distributions]
hba1c_percent = { dist = "normal", mean = 9.1, sd = 0.9 }
[[arms]]
name = "usual"
n = 120
treatment = [{ kind = "standard_care", conduct = "protocol_taper" }]
[randomisation]
seed = 173
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 1
"""


@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 15; docs/capacity_law.md, 'Session 11'): the insulin-requiring cohort matched to MOBILE's "
    "HbA1c 9.1 % has a baseline CGM mean of 249 mg/dL with the capacity law (SE 3, 120 patients; 282 with the "
    "proportional gains before 2026-12-06) against MOBILE's 208 (95 % CI 201-215). The remaining fault: "
    "background-insulin patients are placed on the Wei line (baseline_targets.place_glycaemia, phi = 1, FPG 200), "
    "while published basal-insulin users sit 30-47 mg/dL below it (Riddle 2011 pooled, LANMET); placed with phi 0.6 "
    "the cohort gives 200.8 mg/dL and TIR 38 % (MOBILE 40 %), but that placement cannot build two Bhansali cases.",
)
def test_basal_insulin_cohort_baseline_cgm_mean_matches_mobile():
    """An independent published check of the meal model in the default trial's population (insulin-treated T2D), not
    used to set any parameter: a cohort of the insulin-requiring preset matched to MOBILE's baseline HbA1c (mean 9.1,
    SD 0.9, inclusion 7.8-11.5 %) on its usual basal insulin, CGM fortnight before the first dose. Pass: the model's
    mean CGM glucose lies inside MOBILE's 95 % CI of the mean (208 ± 1.96·47/√173 = 201.0-215.0 mg/dL) widened by 2
    Monte Carlo SE of the model's mean (the standard-care validation's rule, docs/standard_care.md)."""
    from t2dsim.trial.protocol import parse_protocol
    from t2dsim.trial.runner import run_trial

    r = run_trial(parse_protocol(MOBILE_PROTOCOL)).true_results
    base = r[r["visit_month"] == 0].pivot_table(index="patient_id", columns="measure", values="value")
    assert abs(base["hba1c_percent"].mean() - 9.1) < 0.1  # the cohort is MOBILE's at baseline
    cgm = base["cgm_mean_glucose_mgdl"]
    mc_se = cgm.std() / np.sqrt(len(cgm))
    half = 1.96 * MOBILE_CGM_SD_MGDL / np.sqrt(MOBILE_N) + 2 * mc_se
    assert abs(cgm.mean() - MOBILE_CGM_MEAN_MGDL) <= half, (cgm.mean(), mc_se)
