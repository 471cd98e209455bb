"""Therapy specifications: bad specs refused with clear messages (issue 4, acceptance 3), factory,
registration with the protocol, and builders for the trial runner."""

from __future__ import annotations

import pytest

from t2dsim.core.registry import BuildContext
from t2dsim.therapies.drugs import GLP1RA, Metformin, SGLT2Inhibitor, SGLT2iSpec, Sulfonylurea
from t2dsim.therapies.insulin import BasalBolus, BasalInsulin
from t2dsim.therapies.lifestyle import Lifestyle
from t2dsim.therapies.plan import TreatmentPlan
from t2dsim.therapies.specs import build_arm, build_therapies, build_therapy, parse_spec
from t2dsim.trial import protocol as P


@pytest.mark.parametrize(
    ("spec", "needles"),
    [
        ({"kind": "metformin", "dose_mg_per_day": -5}, ["metformin.dose_mg_per_day", "-5", "[250, 3000]"]),
        ({"kind": "metformin", "dose_mg_per_day": 5000}, ["metformin.dose_mg_per_day", "5000", "[250, 3000]"]),
        (
            {"kind": "sulfonylurea", "drug": "glimepiride", "dose_mg_per_day": -1},
            ["dose", "-1", "[1, 8]", "glimepiride"],
        ),
        (
            {"kind": "sulfonylurea", "drug": "tolbutamide"},
            ["sulfonylurea.drug", "tolbutamide", "glimepiride", "gliclazide"],
        ),
        ({"kind": "glp1ra", "drug": "exenatide"}, ["glp1ra.drug", "exenatide", "semaglutide", "liraglutide"]),
        ({"kind": "sglt2i", "drug": "dapagliflozin", "dose_mg_per_day": 25}, ["25", "[5, 10]", "dapagliflozin"]),
        ({"kind": "sglt2i", "egfr_ml_min": 5}, ["sglt2i.egfr_ml_min", "5", "[15, 200] mL/min"]),
        ({"kind": "basal_insulin", "start_dose_u": -10}, ["basal_insulin.start_dose_u", "-10", "[0, 100] IU/day"]),
        ({"kind": "basal_insulin", "insulin": "detemirx"}, ["basal_insulin.insulin", "glargine", "nph"]),
        (
            {"kind": "basal_insulin", "titration_fatigue_per_visit": -1},
            ["basal_insulin.titration_fatigue_per_visit", "-1", "greater than or equal to 0"],
        ),
        (
            {"kind": "basal_bolus_insulin", "titration_adherence": 1.5},
            ["basal_bolus_insulin.titration_adherence", "1.5", "less than or equal to 1"],
        ),
        ({"kind": "unicorn_pill"}, ["unknown or missing therapy kind 'unicorn_pill'", "metformin", "treatment_plan"]),
        ({"kind": "metformin", "dose_mg": 500}, ["metformin.dose_mg", "Extra inputs are not permitted"]),
        ({"kind": "metformin", "start_month": 6, "stop_month": 3}, ["stop_month", "must be > start_month"]),
        (
            {"kind": "treatment_plan", "steps": [{"kind": "metformin"}, {"kind": "metformin"}]},
            ["treatment_plan", "steps", "repeated: metformin"],
        ),
        (
            {"kind": "treatment_plan", "steps": [{"kind": "metformin"}], "n_initial": 3},
            ["n_initial", "exceeds the number of steps (1)"],
        ),
    ],
)
def test_bad_specs_are_refused_with_field_and_allowed_values(spec, needles):
    with pytest.raises(ValueError) as info:
        build_therapy(spec)
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_overlapping_schedules_are_refused_naming_both_entries():
    with pytest.raises(ValueError) as info:
        build_therapies([{"kind": "metformin"}, {"kind": "metformin", "start_month": 3, "dose_mg_per_day": 1000}])
    msg = str(info.value)
    assert "treatment[1] (metformin)" in msg and "overlaps treatment[0]" in msg and "stop_month" in msg
    # a drug inside a treatment plan overlapping the same drug given outside the plan
    with pytest.raises(ValueError, match="treatment\\[1\\] \\(sulfonylurea\\)"):
        build_therapies(
            [
                {"kind": "sulfonylurea"},
                {"kind": "treatment_plan", "steps": [{"kind": "metformin"}, {"kind": "sulfonylurea"}]},
            ]
        )
    # consecutive courses are fine
    out = build_therapies([{"kind": "metformin", "stop_month": 3}, {"kind": "metformin", "start_month": 3}])
    assert [t.start_day for t in out] == [0, 91]


def test_factory_builds_each_kind_with_its_options():
    cases = {
        "metformin": ({"dose_mg_per_day": 1500, "adherence": 0.8}, Metformin),
        "sulfonylurea": ({"drug": "gliclazide", "dose_mg_per_day": 160}, Sulfonylurea),
        "glp1ra": ({"drug": "liraglutide", "dose_mg": 1.2}, GLP1RA),
        "sglt2i": ({"drug": "empagliflozin", "dose_mg_per_day": 25, "egfr_ml_min": 60}, SGLT2Inhibitor),
        "lifestyle": ({"target_weight_loss_percent": 10, "adherence": 0.5}, Lifestyle),
        "basal_insulin": ({"insulin": "nph", "start_dose_u": 10}, BasalInsulin),
        "basal_bolus_insulin": ({"basal_share": 0.4}, BasalBolus),
        "treatment_plan": ({"steps": [{"kind": "metformin"}, {"kind": "basal_insulin"}]}, TreatmentPlan),
    }
    for kind, (opts, cls) in cases.items():
        t = build_therapy({"kind": kind, "start_month": 1, **opts})
        assert type(t) is cls and t.start_day == 30
    assert build_therapy({"kind": "metformin", "adherence": 0.8}).adherence == 0.8
    assert build_therapy({"kind": "basal_insulin", "insulin": "nph"}).insulin == "nph"
    tired = build_therapy({"kind": "basal_insulin", "titration_fatigue_per_visit": 1.5, "titration_adherence": 0.8})
    assert tired.titration_fatigue_per_visit == 1.5 and tired.titration_adherence == 0.8
    assert build_therapy({"kind": "basal_insulin"}).titration_fatigue_per_visit == 0.0  # protocol-enforced default


def test_specs_are_registered_with_the_protocol_and_runner():
    kinds = P.therapy_kinds()
    # each kind is declared by the module that owns its model
    assert kinds["metformin"].__module__ == "t2dsim.therapies.drugs"
    assert kinds["basal_insulin"].__module__ == "t2dsim.therapies.insulin"
    assert kinds["uc_msc"].__module__ == "t2dsim.therapies.stemcells.specs"
    assert "treatment_plan" in kinds and "basal_bolus_insulin" in kinds
    spec = parse_spec({"kind": "glp1ra", "drug": "semaglutide", "dose_mg": 1.0})
    therapies = build_arm([spec], BuildContext(duration_days=365), "active")
    assert isinstance(therapies[0], GLP1RA)
    builtin = SGLT2iSpec(kind="sglt2i", drug="dapagliflozin", dose_mg_per_day=10)
    assert isinstance(build_therapy(builtin), SGLT2Inhibitor)
