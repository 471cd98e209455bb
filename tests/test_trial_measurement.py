"""Measurement layer: assay error, dropout, visit masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from t2dsim.trial.measurement import (
    MEASURES,
    apply_assay_error,
    dropout_months,
    mask_after_dropout,
    monthly_hazard,
)


def test_assay_error_mean_preserving_with_expected_cv() -> None:
    n = 100_000
    true = np.full(n, 8.0)
    meas = apply_assay_error(true, np.arange(n), 1, "hba1c_percent", seed=3)
    info = MEASURES["hba1c_percent"]
    cv = np.hypot(info.cv_analytical, info.cv_within_subject)
    ratio = meas / true
    # mean within 4 standard errors of 1; sample CV within 2 % (relative) of the target
    assert abs(ratio.mean() - 1) < 4 * cv / np.sqrt(n)
    assert ratio.std() / ratio.mean() == pytest.approx(cv, rel=0.02)
    # a different visit gives a different error, the same visit the same one
    np.testing.assert_array_equal(meas, apply_assay_error(true, np.arange(n), 1, "hba1c_percent", seed=3))
    assert not np.array_equal(meas, apply_assay_error(true, np.arange(n), 2, "hba1c_percent", seed=3))


def test_assay_error_overrides_and_errors() -> None:
    x = np.array([5.0, 0.0, np.nan])
    np.testing.assert_array_equal(
        apply_assay_error(x, [0, 1, 2], 0, "fpg_mgdl", 1, cv_analytical=0.0, cv_within_subject=0.0), x
    )
    y = apply_assay_error(x, [0, 1, 2], 0, "fpg_mgdl", 1, cv_analytical=0.5)
    assert y[1] == 0.0 and np.isnan(y[2]) and y[0] != 5.0
    with pytest.raises(ValueError, match=r"cv_analytical = 1.5 is outside the allowed range \[0, 1\]"):
        apply_assay_error(x, [0, 1, 2], 0, "fpg_mgdl", 1, cv_analytical=1.5)
    with pytest.raises(ValueError, match="measure 'glucose' unknown"):
        apply_assay_error(x, [0, 1, 2], 0, "glucose", 1)


def test_measures_with_error_have_sources() -> None:
    for name, m in MEASURES.items():
        if m.cv_analytical or m.cv_within_subject:
            assert m.source and "[V" in m.source, name


def test_dropout_rate() -> None:
    n = 200_000
    d = dropout_months(np.arange(n), 0.2, seed=4, duration_months=24)
    # P(drop by 12 m) = 0.2 and P(by 24 m) = 1 - 0.8**2 = 0.36 under a constant hazard
    tol = 4 * np.sqrt(0.36 * 0.64 / n)
    assert np.mean(d < 12) == pytest.approx(0.2, abs=tol)
    assert np.mean(~np.isnan(d)) == pytest.approx(0.36, abs=tol)
    assert monthly_hazard(0.2) == pytest.approx(-np.log(0.8) / 12)
    assert np.all(np.isnan(dropout_months(np.arange(10), 0.0, 1, 12)))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        dropout_months(np.arange(3), 1.0, 1, 12)


def test_mask_after_dropout() -> None:
    visits = np.array([0.0, 3, 6, 12])
    m = mask_after_dropout(visits[None, :], np.array([np.nan, 4.0, 0.5])[:, None])
    assert m.tolist() == [[True, True, True, True], [True, True, False, False], [True, False, False, False]]


def _proto(extra: str = "", rate: str = "annual_rate = 0.3\nper_arm = { islets = 0.0 }"):
    from pathlib import Path

    from t2dsim.trial.protocol import parse_protocol

    text = (Path(__file__).parent / "data" / "good_protocol.toml").read_text()
    text = text.replace("annual_rate = 0.1", rate)
    return parse_protocol(text + extra)


def test_observe_dropout_and_assay_error() -> None:
    from t2dsim.trial.measurement import observe
    from t2dsim.trial.synthetic import synthetic_trial

    true, _ = synthetic_trial({"placebo": 3000, "islets": 3000}, {"islets": -1.0}, seed=2)
    obs, flow = observe(true, _proto(), seed=1)
    f = flow.set_index("patient_id")
    n = 3000
    tol = 4 * np.sqrt(0.3 * 0.7 / n)
    assert (~f.loc[f.arm == "placebo", "completed"]).mean() == pytest.approx(0.3, abs=tol)
    assert f.loc[f.arm == "islets", "completed"].all()
    # no observation at or after a patient's dropout, baseline always kept
    j = obs.join(f["dropout_month"], on="patient_id")
    assert not ((j["visit_month"] > 0) & (j["visit_month"] >= j["dropout_month"])).any()
    assert (obs["visit_month"] == 0).groupby(obs["measure"]).sum().eq(2 * n).all()
    # assay error on clinical measures only, with the catalogue CV
    m = obs.merge(true, on=["arm", "patient_id", "visit_month", "measure"], suffixes=("", "_true"))
    hb = m[m.measure == "hba1c_percent"]
    ratio = hb["value"] / hb["value_true"]
    info = MEASURES["hba1c_percent"]
    assert ratio.std() == pytest.approx(np.hypot(info.cv_analytical, info.cv_within_subject), rel=0.03)
    for name in ("beta_cell_mass_mg", "insulin_u_per_day"):
        mm = m[m.measure == name]
        np.testing.assert_array_equal(mm["value"], mm["value_true"])


def test_observe_independent_of_chunking_and_switches() -> None:
    from t2dsim.trial.measurement import observe
    from t2dsim.trial.synthetic import synthetic_trial

    true, _ = synthetic_trial({"placebo": 50, "islets": 50}, {"islets": -1.0}, seed=2)
    proto = _proto()
    full, _ = observe(true, proto)
    part, _ = observe(true[true.patient_id >= 50].sample(frac=1.0, random_state=0), proto)
    key = ["patient_id", "measure", "visit_month"]
    a = full[full.patient_id >= 50].sort_values(key).reset_index(drop=True)
    b = part.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # assay error switched off, or CVs overridden to zero -> values unchanged
    off, _ = observe(true, _proto(rate="annual_rate = 0.0").model_copy(update={"assay_error": False}))
    pd.testing.assert_frame_equal(off, true.reset_index(drop=True))
    zero = _proto(rate="annual_rate = 0.0\n\n[assay.hba1c_percent]\ncv_analytical = 0.0\ncv_within_subject = 0.0")
    z, _ = observe(true, zero)
    np.testing.assert_array_equal(
        z[z.measure == "hba1c_percent"]["value"], true[true.measure == "hba1c_percent"]["value"]
    )


def test_visit_days() -> None:
    from t2dsim.core.calendar import visit_days

    # 365.25 / 12 = 30.4375 days per month
    assert visit_days([0, 1, 3, 6, 12, 24]).tolist() == [0, 30, 91, 183, 365, 730]
    with pytest.raises(ValueError):
        visit_days([-1])
