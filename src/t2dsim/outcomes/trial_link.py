"""Link a trial run to the UKPDS OM2 complications model: one OM2 cohort per arm, standardised.

Each arm's OM2 cohort is the *whole randomised population* (same patients, same risk-factor draws, same
random numbers in every arm), with each patient's HbA1c set to their own baseline plus the arm's mean
modelled HbA1c change at the final visit, held for the trial's years and then extended by the OM2
risk-factor equations. Arms therefore differ only by their glycaemic effect (and any explicitly
switched-on hazard modifier), never by which patients happened to be randomised to them. The other OM2
risk factors are not simulated by t2dsim; each patient gets keyed draws (seed, patient_id) from the
distributions below.

Baseline risk-factor distributions (mean, SD; truncated to the OM2 accepted ranges). Tag U: typical
values of insulin-treated T2D cohorts in the trials summarised in ``shared/reference/`` (ADVANCE,
UKPDS, stem-cell trials report ranges of this order), not a fit to one cohort:
SBP 135 ± 16 mmHg, LDL 2.6 ± 0.8 mmol/L, HDL 1.15 ± 0.3 mmol/L, eGFR 82 ± 18 mL/min/1.73 m²,
heart rate 74 ± 10 /min, WBC 7.0 ± 1.8 ×10⁹/L, haemoglobin 13.8 ± 1.4 g/dL, current smoker 15 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from t2dsim.core.rng import keyed_normal, keyed_uniform
from t2dsim.outcomes.compare import compare_arms, format_comparison
from t2dsim.outcomes.ukpds_om2 import OM2Inputs, tissue_regeneration_modifiers

RISK_FACTORS_U = {
    "sbp": (135.0, 16.0, 90.0, 220.0),
    "ldl": (2.6, 0.8, 0.8, 6.0),
    "hdl": (1.15, 0.3, 0.5, 2.5),
    "egfr": (82.0, 18.0, 20.0, 130.0),
    "heart_rate": (74.0, 10.0, 45.0, 120.0),
    "wbc": (7.0, 1.8, 3.0, 15.0),
    "haemoglobin": (13.8, 1.4, 9.0, 18.0),
}
SMOKER_SHARE_U = 0.15


def om2_cohorts(
    results: pd.DataFrame,
    patients: pd.DataFrame,
    seed: int,
    duration_months: float,
    regeneration: str | None = None,
    arm_order: list[str] | None = None,
) -> dict[str, OM2Inputs]:
    """Standardised OM2 cohorts per arm from a trial's true (model) HbA1c (see module docstring)."""
    hb = results[results["measure"] == "hba1c_percent"]
    last_visit = hb["visit_month"].max()
    a1c_last = hb[hb["visit_month"] == last_visit].groupby("patient_id")["value"].mean()
    a1c_base = hb[hb["visit_month"] == 0].groupby("patient_id")["value"].mean()
    change = (a1c_last - a1c_base).dropna()
    arm_of = patients.set_index("patient_id")["arm"]
    mean_change = change.groupby(arm_of.reindex(change.index)).mean()
    years = max(1, int(np.ceil(duration_months / 12.0)))
    ids = patients["patient_id"].to_numpy()
    base = a1c_base.reindex(ids).to_numpy()
    age = patients["age_years"].to_numpy() + duration_months / 12.0
    # OM2 accepts diabetes onset at age ≥ 10; a protocol's age override can make the preset's
    # duration longer than that allows, so duration is capped at age − 10 (documented limitation).
    duration = np.minimum(patients["diabetes_duration_years"].to_numpy() + duration_months / 12.0, age - 10.0)
    kw = {}
    for name, (mu, sd, lo, hi) in RISK_FACTORS_U.items():
        z = keyed_normal(seed, ids, "om2:" + name)
        kw[name] = np.clip(mu + sd * z, lo, hi)
    kw["smoker"] = (keyed_uniform(seed, ids, "om2:smoker") < SMOKER_SHARE_U).astype(int)
    arms = arm_order or list(dict.fromkeys(patients["arm"]))
    out: dict[str, OM2Inputs] = {}
    for arm in arms:
        a1c = np.clip(base + float(mean_change.get(arm, 0.0)), 4.0, 16.0)
        out[str(arm)] = OM2Inputs(
            age=age,
            female=(patients["sex"] == "female").to_numpy().astype(int),
            duration=np.maximum(duration, 0.0),
            hba1c=np.repeat(a1c[:, None], years, axis=1),
            bmi=patients["bmi_kg_m2"].to_numpy(),
            patient_id=ids,
            hazard_modifiers=None if regeneration is None else tissue_regeneration_modifiers(regeneration),
            **kw,
        )
    return out


def complications_table(
    results: pd.DataFrame,
    patients: pd.DataFrame,
    seed: int,
    duration_months: float,
    reference: str,
    n_mc: int = 50,
    arm_order: list[str] | None = None,
) -> pd.DataFrame:
    """Report table: 10-year and lifetime outcomes per arm with differences vs ``reference``."""
    cohorts = om2_cohorts(results, patients, seed, duration_months, arm_order=arm_order)
    df = compare_arms(cohorts, horizon_years=None, n_mc=n_mc, seed=seed, reference=reference, n_boot=300)
    return format_comparison(df)
