"""Complications in the trial report are standardised: every arm is the whole randomised population, so
arms with the same glycaemic effect show exactly the same outcomes (common random numbers), and a lower
HbA1c shows fewer myocardial infarctions (UKPDS 35 direction)."""

import numpy as np
import pandas as pd

from t2dsim.outcomes.compare import compare_arms
from t2dsim.outcomes.trial_link import om2_cohorts


def _trial(change_b: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 120
    ids = np.arange(n)
    arm = np.where(ids % 2 == 0, "a", "b")
    base = rng.normal(8.5, 0.6, n)
    last = base + np.where(arm == "a", -0.5, change_b)
    res = pd.DataFrame(
        {
            "arm": np.r_[arm, arm],
            "patient_id": np.r_[ids, ids],
            "visit_month": np.r_[np.zeros(n), np.full(n, 12.0)],
            "measure": "hba1c_percent",
            "value": np.r_[base, last],
        }
    )
    pts = pd.DataFrame(
        {
            "arm": arm,
            "patient_id": ids,
            "age_years": rng.uniform(45, 65, n),
            "sex": np.where(rng.random(n) < 0.4, "female", "male"),
            "diabetes_duration_years": rng.uniform(5, 15, n),
            "bmi_kg_m2": rng.uniform(25, 35, n),
        }
    )
    return res, pts


def test_same_glycaemic_effect_same_outcomes():
    res, pts = _trial(change_b=-0.5)
    cohorts = om2_cohorts(res, pts, seed=3, duration_months=12, arm_order=["a", "b"])
    assert list(cohorts) == ["a", "b"]
    df = compare_arms(cohorts, horizon_years=10, n_mc=20, seed=3, reference="a", n_boot=50)
    diff = df.loc[df["arm"] == "b", "difference"].to_numpy(dtype=float)
    assert np.all(np.abs(diff) < 1e-12)


def test_lower_hba1c_arm_has_fewer_infarctions():
    res, pts = _trial(change_b=-1.5)  # arm b: 1 %-point lower than arm a
    cohorts = om2_cohorts(res, pts, seed=3, duration_months=12, arm_order=["a", "b"])
    df = compare_arms(cohorts, horizon_years=10, n_mc=50, seed=3, reference="a", n_boot=50)
    mi = df[(df["arm"] == "b") & df["measure"].str.contains("myocardial infarction")]
    assert len(mi) and (mi["difference"].astype(float) < 0).all()
