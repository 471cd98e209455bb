"""Topp 2000 βIG model: fixed points, saddle-node, dynamical pathway (issue 3, acceptance 1).

Independent references: scipy.optimize.fsolve on the full right-hand side (several starts) and
scipy.integrate.solve_ivp (LSODA); the closed-form points in the reference (§4.3: G 100/250/600 mg/dL,
I 10/2.8/0 µU/mL, β 300/37/0 mg) are hand-derived from the Topp 2000 Table 1 values.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import fsolve

from t2dsim.physiology.topp import (
    ToppParams,
    discriminant,
    fixed_points,
    integrate,
    rhs,
    saddle_node_d0,
    topp_params,
)


def _solve_roots(p: ToppParams) -> list[np.ndarray]:
    """All distinct roots fsolve finds from a grid of starts (scaled variables for conditioning)."""
    scale = np.array([100.0, 10.0, 100.0])

    def f(z: np.ndarray) -> np.ndarray:
        return rhs(z * scale, p) / np.array([864.0, 4320.0, 10.0])

    roots: list[np.ndarray] = []
    for g0 in (80.0, 120.0, 230.0, 270.0, 550.0, 650.0):
        for b0 in (0.0, 20.0, 40.0, 300.0, 600.0):
            i0 = max((864.0 / g0 - 1.44) / 0.72, 0.0)
            z, info, ier, _ = fsolve(f, np.array([g0, i0, b0]) / scale, full_output=True, xtol=1e-13)
            x = z * scale
            if ier == 1 and np.max(np.abs(rhs(x, p))) < 1e-6 and x[0] > 0 and x[2] > -1e-9:
                if not any(np.allclose(x, r, rtol=1e-6, atol=1e-6) for r in roots):
                    roots.append(x)
    return sorted(roots, key=lambda r: r[0])


def test_parameter_file_matches_reference_table() -> None:
    p = topp_params()
    assert p == ToppParams()  # CSV values = Topp 2000 Table 1 as in reference §4.2


def test_three_fixed_points_match_independent_root_finder() -> None:
    p = topp_params()
    roots = _solve_roots(p)
    assert len(roots) == 3, roots
    fp = fixed_points(p)
    for key, root in zip(("physiological", "saddle", "pathological"), roots, strict=True):
        np.testing.assert_allclose(fp[key], root, rtol=1e-6, atol=1e-6)
    # hand values, reference §4.3
    np.testing.assert_allclose(fp["physiological"], [100.0, 10.0, 300.0], rtol=1e-9)
    np.testing.assert_allclose(fp["saddle"], [250.0, 2.8, 36.96], rtol=1e-4)
    np.testing.assert_allclose(fp["pathological"], [600.0, 0.0, 0.0], rtol=1e-12)


def test_stability_from_numerical_jacobian() -> None:
    """Physiological: all eigenvalues < 0 (stable node); saddle: one positive eigenvalue."""
    p = topp_params()
    fp = fixed_points(p)

    def jac(x: np.ndarray) -> np.ndarray:
        h = 1e-6 * np.maximum(np.abs(x), 1.0)
        e = np.eye(3)
        cols = [(rhs(x + h[j] * e[j], p) - rhs(x - h[j] * e[j], p)) / (2 * h[j]) for j in range(3)]
        return np.array(cols).T

    ev_phys = np.linalg.eigvals(jac(fp["physiological"])).real
    ev_sad = np.linalg.eigvals(jac(fp["saddle"])).real
    ev_path = np.linalg.eigvals(jac(fp["pathological"])).real
    assert np.all(ev_phys < 0)
    assert np.sum(ev_sad > 0) == 1 and np.sum(ev_sad < 0) == 2
    assert np.all(ev_path < 0)


def test_saddle_node_at_r1_squared_equals_4_r2_d0() -> None:
    p = topp_params()
    d0_crit = float(saddle_node_d0(p))
    assert d0_crit == pytest.approx(0.0735, rel=1e-12)  # r1²/(4 r2) = 7.056e-7 / 9.6e-6 (reference §4.4)
    below = p.with_(d0=d0_crit * 0.98)
    above = p.with_(d0=d0_crit * 1.02)
    assert discriminant(below) > 0 and discriminant(above) < 0
    # below: fsolve still finds three fixed points; above: only the pathological one
    assert len(_solve_roots(below)) == 3
    roots_above = _solve_roots(above)
    assert len(roots_above) == 1
    np.testing.assert_allclose(roots_above[0], [600.0, 0.0, 0.0], atol=1e-6)
    fp = fixed_points(above)
    assert np.all(np.isnan(fp["physiological"])) and np.all(np.isnan(fp["saddle"]))
    # node and saddle approach each other as d0 → d0_crit
    near = fixed_points(p.with_(d0=d0_crit * 0.9999))
    assert abs(near["physiological"][0] - near["saddle"][0]) < 5.0
    # beyond the bifurcation a trajectory started at the old physiological point goes to G = 600
    sol = solve_ivp(
        lambda t, y: rhs(y, above), (0, 3000), fixed_points(p)["physiological"], method="LSODA", rtol=1e-8, atol=1e-8
    )
    np.testing.assert_allclose(sol.y[:, -1], [600.0, 0.0, 0.0], atol=0.5)


def _si_decline(tau_days: float, si_end: float = 0.05) -> object:
    return lambda t: si_end + (0.72 - si_end) * np.exp(-t / tau_days)


@pytest.mark.parametrize(
    ("tau_days", "expect_pathological"),
    # SI falls from 0.72 to 0.05 mL/(µU·day) exponentially with time constant tau (days).
    # Slow (300 d): β-mass expands ~14-fold (β*·SI constant) and G returns to 100 mg/dL.
    # Fast (10 d): G overshoots the saddle's stable manifold and β collapses (Topp's dynamical pathway).
    [(300.0, False), (1000.0, False), (10.0, True), (2.0, True)],
)
def test_dynamical_pathway(tau_days: float, expect_pathological: bool) -> None:
    p = topp_params()
    x0 = fixed_points(p)["physiological"]
    si = _si_decline(tau_days)
    sol = solve_ivp(lambda t, y: rhs(y, p.with_(SI=si(t))), (0, 8000), x0, method="LSODA", rtol=1e-8, atol=1e-8)
    end = sol.y[:, -1]
    if expect_pathological:
        np.testing.assert_allclose(end, [600.0, 0.0, 0.0], atol=0.5)
        assert sol.y[0].max() > 250.0  # crossed the saddle's glucose level
    else:
        np.testing.assert_allclose(end[0], 100.0, atol=0.1)
        # compensation: new physiological point for SI = 0.05: I = 7.2/0.05 = 144, β = 4320 mg
        np.testing.assert_allclose(end[2], 4320.0, rtol=0.01)


def test_batched_rk4_matches_solve_ivp() -> None:
    p = topp_params().with_(SI=np.array([0.72, 0.3, 0.1]))
    x0 = np.tile(fixed_points(topp_params())["physiological"], (3, 1))
    _, xs = integrate(x0, p, days=200.0, dt_days=0.002, record_every=1000)
    for j in range(3):
        pj = topp_params().with_(SI=float(p.SI[j]))  # type: ignore[index]
        sol = solve_ivp(lambda t, y, q=pj: rhs(y, q), (0, 200), x0[j], method="LSODA", rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(xs[-1, j], sol.y[:, -1], rtol=1e-5)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="days"):
        integrate(np.zeros(3), topp_params(), days=-1.0)
