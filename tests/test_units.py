import numpy as np

from t2dsim.core import units


def test_hba1c_master_equation_known_points():
    # IFCC-NGSP master equation (Hoelzel 2004): 7.0 % ↔ 53 mmol/mol, 6.5 % ↔ 48 mmol/mol (ADA/IFCC tables).
    assert round(float(units.hba1c_pct_to_mmolmol(7.0))) == 53
    assert round(float(units.hba1c_pct_to_mmolmol(6.5))) == 48
    np.testing.assert_allclose(units.hba1c_mmolmol_to_pct(units.hba1c_pct_to_mmolmol(8.3)), 8.3)


def test_glucose_and_insulin_conversions():
    # 7.0 mmol/L (ADA FPG threshold 126 mg/dL) and 6 pmol/L per µU/mL.
    assert abs(float(units.mmoll_to_mgdl(7.0)) - 126.1) < 0.1
    np.testing.assert_allclose(units.pmoll_to_uuml(60.0), 10.0)
