"""Trial runner: chunk-size invariance (issue 6, acceptance 2), screening, flow and measurement wiring.

The therapy layer is replaced here by two small test therapies registered for the protocol's kinds
(usual care continuing each patient's baseline insulin; an inert infusion), so the runner is tested on
its own; the real therapies are tested in their own modules.
"""

import numpy as np
import pandas as pd
import pytest

from t2dsim.physiology.coupling import basal_insulin_u_per_day_to_pmol_kg_min
from t2dsim.therapies import specs as therapy_specs
from t2dsim.therapies.base import Therapy
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

PROTOCOL = """
name = "runner-test"
duration_months = 6
visit_months = [0, 3, 6]
measurements = ["hba1c_percent", "fpg_mgdl", "fasting_cpeptide_pmol_l", "cpeptide_auc_nmol_min_l",
                "insulin_u_per_day", "fasting_insulin_pmol_l", "homa_ir", "cgm_tir_percent", "cgm_mean_glucose_mgdl"]
[population]
preset = "insulin-requiring"
[population.inclusion]
hba1c_percent = { min = 7.0, max = 10.5 }
[[arms]]
name = "control"
n = 12
treatment = [{ kind = "standard_care" }]
[[arms]]
name = "infused"
n = 12
treatment = [{ kind = "standard_care" }, { kind = "placebo_infusion", n_infusions = 1 }]
[randomisation]
seed = 7
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 6
"""


class _UsualCare(Therapy):
    kind = "test_usual_care"

    def effects(self, ctx, day):
        return {"exog_insulin_uuml": ctx.covariates["exog_insulin"]}

    def meal_modifiers(self, ctx, day):
        return {
            "u2ss": basal_insulin_u_per_day_to_pmol_kg_min(ctx.covariates["insulin_dose_u_per_day"], ctx.body_weight_kg)
        }

    def report(self, ctx, day):
        return {"insulin_dose_u_per_day": ctx.covariates["insulin_dose_u_per_day"]}


class _Inert(Therapy):
    kind = "test_inert"

    def effects(self, ctx, day):
        return {}


@pytest.fixture
def test_builders(monkeypatch):
    table = {"standard_care": lambda s, c: [_UsualCare()], "placebo_infusion": lambda s, c: [_Inert()]}
    monkeypatch.setattr(therapy_specs, "builder_for", table.__getitem__)
    return table


def _protocol():
    return parse_protocol(PROTOCOL)


def test_same_seed_same_numbers_whatever_the_chunk_size(test_builders):
    p = _protocol()
    a = run_trial(p, chunk_size=5)
    b = run_trial(p, chunk_size=64)
    key = ["arm", "patient_id", "visit_month", "measure"]
    ra = a.results.sort_values(key).reset_index(drop=True)
    rb = b.results.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(ra, rb)
    pd.testing.assert_frame_equal(
        a.patients.sort_values("patient_id").reset_index(drop=True),
        b.patients.sort_values("patient_id").reset_index(drop=True),
    )


def test_flow_screening_and_measures(test_builders):
    r = run_trial(_protocol())
    assert r.screening["enrolled"] == 24 and r.screening["screened"] >= 24
    assert set(r.patients["arm"]) == {"control", "infused"}
    base = r.patients
    assert base["hba1c_percent"].between(7.0, 10.5).all()  # inclusion applied to baseline
    m = set(r.results["measure"])
    for name in ("hba1c_percent", "fasting_cpeptide_pmol_l", "cpeptide_auc_nmol_min_l", "homa_ir", "beta_cell_mass_mg"):
        assert name in m
    # The baseline visit's HbA1c is the patient's baseline (true value before assay error).
    t0 = r.true_results.query("measure == 'hba1c_percent' and visit_month == 0").set_index("patient_id")["value"]
    np.testing.assert_allclose(
        t0.sort_index().to_numpy(), base.set_index("patient_id")["hba1c_percent"].sort_index().to_numpy()
    )


def test_unknown_therapy_kind_is_refused(monkeypatch):
    def no_builder(kind):
        raise ValueError(f"therapy kind {kind!r} has no simulator; available: none")

    monkeypatch.setattr(therapy_specs, "builder_for", no_builder)
    with pytest.raises(ValueError, match="has no simulator"):
        run_trial(_protocol())


def test_pooled_power_simulator_resamples_whole_patients(test_builders, monkeypatch):
    """`t2dsim power` draws patients with replacement from a simulated pool: each drawn copy must be a
    whole patient (all its rows) under a new id, whatever the repeats."""
    from t2dsim import pipeline

    p = _protocol()
    sim = pipeline.pooled_simulator(p, pool_per_arm=6)
    df = sim(20, seed=1)  # 20 draws from 6 per arm: repeats are certain
    per_arm = df.groupby("arm")["patient_id"].nunique()
    assert (per_arm == 20).all()
    rows = df.groupby("patient_id").size()
    assert rows.nunique() <= 2  # every copy carries a complete set of rows (dropouts have fewer)
    a = sim(20, seed=1)
    pd.testing.assert_frame_equal(df, a)  # same replicate seed, same draw


def test_a_kind_registers_once_and_only_with_a_way_to_build_it():
    """The registry refuses a spec without builder or therapy() method and a second class for a taken kind."""
    from typing import Literal

    from t2dsim.core.registry import builder_for, register_therapy, therapy_kinds
    from t2dsim.core.specs import TherapySpecBase

    class NoBuild(TherapySpecBase):
        kind: Literal["no_build"]

    with pytest.raises(TypeError, match="needs a builder"):
        register_therapy(NoBuild)

    class Metformin2(TherapySpecBase):
        kind: Literal["metformin"]

    with pytest.raises(ValueError, match="already registered"):
        register_therapy(Metformin2, lambda s, c: [])
    assert "no_build" not in therapy_kinds()
    for kind in therapy_kinds():
        assert callable(builder_for(kind))
    with pytest.raises(ValueError, match="available: .*metformin"):
        builder_for("no_such_kind")


def test_stop_month_on_a_cell_therapy_is_refused():
    from t2dsim.core.registry import BuildContext
    from t2dsim.therapies.specs import build_arm
    from t2dsim.therapies.stemcells.specs import UCMSCSpec

    spec = UCMSCSpec(kind="uc_msc", stop_month=3)
    with pytest.raises(ValueError, match="uc_msc.stop_month"):
        build_arm([spec], BuildContext(duration_days=365), "arm")
