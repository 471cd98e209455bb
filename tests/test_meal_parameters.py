"""Parameter tables: units and sources on every row; derived basal values re-derived independently."""

import numpy as np
import pandas as pd
from scipy.optimize import fsolve

from t2dsim.physiology import cpeptide
from t2dsim.physiology.meal import PARAM_NAMES, PARAM_UNITS, dallaman_2007, dallaman_table


def test_every_parameter_has_unit_and_source():
    tab = dallaman_table()
    assert tab["unit"].notna().all() and tab["source"].str.len().gt(5).all()
    assert set(PARAM_NAMES) == set(PARAM_UNITS)


def test_basal_values_solve_table1_relations():
    """Gb, Ib, EGPb of the mean subjects satisfy Table 1's kp1, Vm0 and m6 (Dalla Man 2007 basal
    relations), solved here with fsolve independently of the package's derivation."""
    tab = dallaman_table().set_index("name")
    for subject in ("normal", "t2d"):
        t = tab[subject].astype(float)
        sb = (t["m6_table"] - t["HEb"]) / t["m5"]
        m30 = t["HEb"] * t["m1"] / (1 - t["HEb"])
        ib = sb / ((t["m1"] + m30) * (t["m2"] + t["m4"]) / t["m1"] - t["m2"]) / t["VI"]

        def eqs(z, t=t, ib=ib, sb=sb):
            gb, egp = z
            gp = gb * t["VG"]
            gt = (t["Fsnc"] - egp + t["k1"] * gp) / t["k2"]
            return [
                t["Vm0_table"] - (egp - t["Fsnc"]) * (t["Km0"] + gt) / gt,
                t["kp1_table"] - (egp + t["kp2"] * gp + t["kp3"] * ib + t["kp4"] * sb / t["gamma"]),
            ]

        gb, egp = fsolve(eqs, [120.0, 2.0])
        p = dallaman_2007(subject)
        assert abs(p["Gb"][0] - gb) < 0.05
        assert abs(p["EGPb"][0] - egp) < 0.005
        assert abs(p["Ib"][0] - ib) < 0.05
        # The package re-derives Vm0, kp1, m6 from the basal state: they must reproduce Table 1.
        np.testing.assert_allclose(p["Vm0"][0], t["Vm0_table"], rtol=2e-3)
        np.testing.assert_allclose(p["kp1"][0], t["kp1_table"], rtol=2e-3)
        np.testing.assert_allclose(p["m6"][0], t["m6_table"], rtol=2e-3)


def test_van_cauter_worked_example():
    """Reference §3.3 worked example (normal, 50 y): k1 0.05531, k2 0.04818, k3 0.05572 1/min,
    computed by hand from t½ short 4.95 min, F 0.76, t½ long 0.14·50 + 29.16 min."""
    k = cpeptide.van_cauter_kinetics([50.0], [False], [75.0], [175.0], "normal")
    np.testing.assert_allclose([k.k1[0], k.k2[0], k.k3[0]], [0.05531, 0.04818, 0.05572], atol=2e-5)
    # DuBois BSA for 75 kg, 175 cm = 1.9 m² (DuBois nomogram); men's volume 1.92·BSA + 0.64.
    bsa = cpeptide.body_surface_area_m2(75.0, 175.0)
    assert abs(float(bsa) - 1.90) < 0.01
    np.testing.assert_allclose(k.volume_l[0], 1.92 * bsa + 0.64)


def test_bad_cpeptide_group_is_refused():
    import pytest

    with pytest.raises(ValueError, match="group must be one of"):
        cpeptide.van_cauter_kinetics([50.0], [False], [75.0], [175.0], "athlete")
    assert isinstance(dallaman_table(), pd.DataFrame)
