"""Clinical markers against values computed by hand from the published definitions."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.physiology.glycation import (
    HBA1C_TAU_DAYS,
    step_hba1c,
)
from t2dsim.physiology.markers import (
    auc_trapezoid,
    cgm_metrics,
    gmi_pct,
    hba1c_from_mean_glucose,
    homa1_b_pct,
    homa1_ir,
    matsuda_index,
    mean_glucose_from_hba1c,
)

MMOL = 18.016  # mg/dL per mmol/L (t2dsim.core.units)


def test_homa1_reference_point_and_hand_values() -> None:
    # Matthews 1985 normal reference: FPG 4.5 mmol/L, FPI 5 µU/mL → IR 1, %B 100
    g = np.array([4.5 * MMOL, 8.0 * MMOL, 3.0 * MMOL])
    i = np.array([5.0, 12.0, 4.0])
    np.testing.assert_allclose(homa1_ir(g, i), [1.0, 8.0 * 12.0 / 22.5, 3.0 * 4.0 / 22.5])
    b = homa1_b_pct(g, i)
    np.testing.assert_allclose(b[:2], [100.0, 20.0 * 12.0 / 4.5])  # 53.33 %
    assert np.isnan(b[2])  # FPG below 3.5 mmol/L: undefined


def test_matsuda_hand_value() -> None:
    g = np.array([[90.0, 150.0, 140.0, 120.0, 100.0]])
    i = np.array([[5.0, 50.0, 40.0, 30.0, 25.0]])
    # means: G 120, I 30 → 10000/sqrt(90·5·120·30) = 10000/sqrt(1 620 000) = 7.8567
    assert matsuda_index(g, i)[0] == pytest.approx(10000.0 / np.sqrt(90 * 5 * 120 * 30), rel=1e-12)
    assert matsuda_index(g, i)[0] == pytest.approx(7.8567, abs=1e-4)


def test_auc_trapezoid_hand_value() -> None:
    t = [0, 30, 60, 120]
    c = np.array([[500.0, 1500.0, 2000.0, 1000.0], [0.0, 0.0, 0.0, 0.0]])
    # 30·(500+1500)/2 + 30·(1500+2000)/2 + 60·(2000+1000)/2 = 30000 + 52500 + 90000 = 172500
    np.testing.assert_allclose(auc_trapezoid(t, c), [172500.0, 0.0])
    np.testing.assert_allclose(auc_trapezoid(t, c, per="h"), [2875.0, 0.0])
    with pytest.raises(ValueError, match="increasing"):
        auc_trapezoid([0, 0, 1, 2], c)


def test_cgm_metrics_hand_values() -> None:
    # 10 readings: 50, 60, 70, 100, 150, 180, 181, 200, 260, 300 (mg/dL)
    g = np.array([[50, 60, 70, 100, 150, 180, 181, 200, 260, 300.0]])
    m = cgm_metrics(g)
    assert m["tbr_54_pct"][0] == 10.0  # 50
    assert m["tbr_70_pct"][0] == 20.0  # 50, 60
    assert m["tir_70_180_pct"][0] == 40.0  # 70, 100, 150, 180
    assert m["tar_180_pct"][0] == 40.0  # 181, 200, 260, 300
    assert m["tar_250_pct"][0] == 20.0  # 260, 300
    mean = 1551.0 / 10
    assert m["mean_mgdl"][0] == pytest.approx(mean)
    sd = np.sqrt(np.mean((g[0] - mean) ** 2))
    assert m["cv_pct"][0] == pytest.approx(100 * sd / mean)
    assert m["gmi_pct"][0] == pytest.approx(3.31 + 0.02392 * 155.1)
    # NaN readings are ignored
    g2 = np.array([[100.0, np.nan, 200.0]])
    m2 = cgm_metrics(g2)
    assert m2["mean_mgdl"][0] == 150.0 and m2["tar_180_pct"][0] == 50.0 and m2["n_valid"][0] == 2


def test_gmi_and_adag_hand_values() -> None:
    assert gmi_pct(154.0) == pytest.approx(6.99368)  # 3.31 + 0.02392·154
    assert hba1c_from_mean_glucose(154.2) == pytest.approx(7.0)  # (154.2 + 46.7)/28.7
    assert mean_glucose_from_hba1c(8.0) == pytest.approx(182.9)


def test_hba1c_kinetics_half_life_and_adag_steady_state() -> None:
    """Step in mean glucose 154.2 → 240.3 mg/dL (ADAG 7 % → 10 %): half the change after 30 days
    (Tahara & Shima weights, 50 % from the last month), and ADAG value after 1 year."""
    h = np.array([7.0])
    h30 = h
    for _ in range(30):
        h30 = step_hba1c(h30, 240.3, 1.0)
    assert float(h30[0]) == pytest.approx(8.5, abs=0.01)
    h365 = step_hba1c(h, 240.3, 365.0)
    assert float(h365[0]) == pytest.approx(10.0, abs=0.001)
    assert HBA1C_TAU_DAYS == pytest.approx(43.28, abs=0.01)
