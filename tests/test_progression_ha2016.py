"""Ha, Satin & Sherman 2016 human model, pure configuration (issue 3, acceptance 4).

Published anchor: the "Ending ICs" of the authors' fig7_human_early.set (day 1800 after an SI
intervention at day 1100: tSI2 = 0.014 /day, SI_target2 = 0.468): G 104.08 mg/dL, I 14.66 µU/mL,
β 854.8 mg, σ 545.3 (reference physiology-models.md §5.1, V). No-intervention G at day 1800 = 520.8 and
late (day 1400) intervention G = 434.5 come from the reference's LSODA reproduction of the same files.
An independent full-ODE right-hand side is written below from the reference equations and solved with
scipy solve_ivp (LSODA) to check the daily scheme's trajectory.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from t2dsim.physiology.progression import (
    ProgressionParams,
    ha2016_initial_state,
    ha2016_params,
    ha2016_table,
    simulate_progression,
)

EARLY_END = {"glucose_mgdl": 104.08, "insulin_uuml": 14.66, "beta_mass_mg": 854.8, "sigma": 545.3}

# Independent transcription of the Ha 2016 human model (reference §5.1), full ODE incl. fast G and I.
HA = dict(R0=864, EG0=1.44, k=700, V=5, aM=150, aISR=1.2, Pmax=4.55, aP=41.77, Amax=9, aA=0.44, Ab=0.8,
          tb=8570, Gbar=0.2, Gs=99.9, Gn=1, Gshft=0.1, tg=2.14, Gsh=75, ISRI=600, sISRI=0.1, nISRI=0.1,
          kISRI=1, MI=1, kMI=0.2, sMI=0.2, nMI=0.02, sb=3, ts=249.9)  # fmt: skip
Y0 = [99.7664, 9.025, 1000.423, -0.00666, 536.67, 0.8]


def _ha_rhs(t: float, y: np.ndarray, t_on: float, tsi2: float, si2: float) -> list[float]:
    g, i, b, gam, s, si = y
    m = g**2 / (HA["aM"] ** 2 + g**2)
    isr = s * (m + gam) ** 2 / (HA["aISR"] ** 2 + (m + gam) ** 2)
    prol = HA["Pmax"] * isr**4 / (HA["aP"] ** 4 + isr**4)
    apop = HA["Amax"] * m**6 / (HA["aA"] ** 6 + m**6) + HA["Ab"]
    ginf = HA["Gbar"] / (1 + np.exp(-(g - HA["Gs"]) / HA["Gn"])) - HA["Gshft"]
    msh = (g - HA["Gsh"]) ** 2 / (HA["aM"] ** 2 + (g - HA["Gsh"]) ** 2)
    isrsh = s * (msh + gam) ** 2 / (HA["aISR"] ** 2 + (msh + gam) ** 2)
    s_isri = HA["ISRI"] / (1 + HA["kISRI"] * np.exp(-(isrsh - HA["sISRI"]) / HA["nISRI"]))
    s_mi = 1 - HA["MI"] / (1 + HA["kMI"] * np.exp(-(msh - HA["sMI"]) / HA["nMI"]))
    tsi, sit = (0.00756, 0.18) if t < t_on else (tsi2, si2)
    return [
        HA["R0"] - (HA["EG0"] + si * i) * g,
        b * isr / HA["V"] - HA["k"] * i,
        (prol - apop) * b / HA["tb"],
        (ginf - gam) / HA["tg"],
        (s_mi * s_isri + HA["sb"] - s) / HA["ts"],
        -tsi * (si - sit),
    ]


def _run(t_on: float | None, steps_per_day: int = 1, n: int = 1):
    """Kernel run to day 1800 with an SI intervention at day t_on (None = no intervention)."""
    p = ha2016_params(n)
    st = ha2016_initial_state(n)
    days = [365, 730, 1100, 1400, 1800]
    recs = []
    t = 0
    for seg_end in sorted({*(d for d in days), *(() if t_on is None else (int(t_on),))}):
        if t_on is not None and t >= t_on:
            p = p.replace(tSI=0.014, SI_target=0.468)
        r = simulate_progression(p, st, seg_end - t, record_days="end", steps_per_day=steps_per_day)
        st, t = r.state, seg_end
        if seg_end in days:
            recs.append(float(st.glucose_mgdl[0]))
    return np.array(recs), st


def test_parameter_table_is_complete_and_sourced() -> None:
    t = ha2016_table()
    assert list(t.columns) == ["name", "value", "unit", "source"]
    assert t["source"].str.len().min() > 10
    p = ha2016_params(2)
    assert isinstance(p, ProgressionParams) and p["Amax"][0] == 9.0 and p["ISRI_bar"][0] == 600.0


def test_independent_ode_reproduces_published_end_state() -> None:
    """Sanity of the independent transcription itself against the authors' stored end state."""
    sol = solve_ivp(
        _ha_rhs, (0, 1800), Y0, method="LSODA", rtol=1e-8, atol=1e-8, args=(1100, 0.014, 0.468), max_step=1.0
    )
    g, i, b, _, s, _ = sol.y[:, -1]
    assert g == pytest.approx(104.08, abs=0.01) and i == pytest.approx(14.66, abs=0.01)
    assert b == pytest.approx(854.8, abs=0.1) and s == pytest.approx(545.3, abs=0.1)


def test_early_intervention_reverses_and_matches_authors_end_state() -> None:
    g_traj, st = _run(1100)
    # Tolerances for the 1-day scheme (first order in the step; see test_step_convergence):
    # G and I within 2 %, σ within 3 %, β within 5 % of the fig7_human_early.set ending values.
    assert st.glucose_mgdl[0] == pytest.approx(EARLY_END["glucose_mgdl"], rel=0.02)
    assert st.insulin_uuml[0] == pytest.approx(EARLY_END["insulin_uuml"], rel=0.02)
    assert st.sigma[0] == pytest.approx(EARLY_END["sigma"], rel=0.03)
    assert st.beta_mass_mg[0] == pytest.approx(EARLY_END["beta_mass_mg"], rel=0.05)
    assert g_traj[2] > 170.0 and g_traj[-1] < 110.0  # diabetic at 1100 d, reversed by 1800 d


def test_late_intervention_fails_to_reverse() -> None:
    g_traj, st = _run(1400)
    assert g_traj[-1] == pytest.approx(434.5, rel=0.03)  # reference LSODA value
    assert st.sigma[0] < 50.0  # β-cell function stays collapsed (hysteresis)
    g_none, _ = _run(None)
    assert g_none[-1] == pytest.approx(520.8, rel=0.02)
    np.testing.assert_allclose(g_none[:3], [122.4, 133.4, 176.3], rtol=0.01)


def test_step_convergence_to_solve_ivp() -> None:
    """With 16 sub-steps per day the scheme converges to the full-ODE solution (errors shrink ~1/h)."""
    sol = solve_ivp(
        _ha_rhs,
        (0, 1800),
        Y0,
        method="LSODA",
        rtol=1e-9,
        atol=1e-9,
        args=(1100, 0.014, 0.468),
        max_step=1.0,
        t_eval=[365, 730, 1100, 1400, 1800],
    )
    g1, st1 = _run(1100, steps_per_day=1)
    g16, st16 = _run(1100, steps_per_day=16)
    ref = sol.y[:, -1]
    err1 = abs(st1.beta_mass_mg[0] - ref[2]) / ref[2]
    err16 = abs(st16.beta_mass_mg[0] - ref[2]) / ref[2]
    assert err16 < 0.005 and err16 < err1 / 4
    np.testing.assert_allclose(g16[:3], sol.y[0, :3], rtol=0.002)
    assert st16.sigma[0] == pytest.approx(ref[4], rel=0.005)
    assert st16.glucose_mgdl[0] == pytest.approx(ref[0], rel=0.002)


def test_batched_patients_are_independent_of_chunking() -> None:
    n = 7
    p = ha2016_params(n).replace(SI_target=np.linspace(0.15, 0.5, n))
    st = ha2016_initial_state(n)
    full = simulate_progression(p, st, 400)
    part = simulate_progression(p.select([2, 5]), st.select([2, 5]), 400)
    np.testing.assert_array_equal(full["glucose_mgdl"][[2, 5]], part["glucose_mgdl"])
    assert full["glucose_mgdl"].shape == (n, 13)  # monthly snapshots for 400 days
