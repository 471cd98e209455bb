"""The quasi-steady glucose without background therapy (physiology.quasi_steady.unaided_glucose) is the root of
insulin_need(G) = 0: checked against the definition, bisection written out on insulin_need itself."""

from __future__ import annotations

import numpy as np

from t2dsim.physiology.progression import ProgressionState
from t2dsim.physiology.progression_params import t2dsim_initial_state, t2dsim_params
from t2dsim.physiology.quasi_steady import insulin_need, unaided_glucose


def _patients(n: int = 300):
    """Varied states (β-cell mass 5-100 % of the start, σ, SI, inflammation) under varied therapy effects."""
    rng = np.random.default_rng(11)
    params = t2dsim_params(n)
    s0 = t2dsim_initial_state(n)
    state = ProgressionState(
        glucose_mgdl=rng.uniform(80, 300, n),
        insulin_uuml=s0.insulin_uuml,
        beta_mass_mg=s0.beta_mass_mg * rng.uniform(0.05, 1.0, n),
        gamma=s0.gamma,
        sigma=s0.sigma * rng.uniform(0.3, 1.5, n),
        si_state=s0.si_state * rng.uniform(0.2, 1.2, n),
        inflammation=rng.uniform(0.0, 0.4, n),
        hba1c_pct=s0.hba1c_pct,
    )
    eff = {
        "si_mult": rng.uniform(1.0, 1.6, n),
        "hgp_mult": rng.uniform(0.7, 1.0, n),
        "glucose_loss_per_day": rng.uniform(0.0, 0.3, n),
        "secretion_mult": rng.uniform(1.0, 2.0, n),
        "graft_beta_mass_mg": np.where(rng.random(n) < 0.3, rng.uniform(0, 300, n), 0.0),
    }
    return params, state, rng.uniform(35, 75, n), rng.uniform(22, 40, n), eff


def test_unaided_glucose_is_the_root_of_insulin_need_bit_for_bit():
    """Same 48 halvings on [1, 3000] mg/dL as the definition evaluated through insulin_need at every midpoint:
    the faster function (G-independent terms computed once) must give the identical root, and insulin_need must
    change sign across it (need falls with G)."""
    params, state, age, bmi, eff = _patients()
    lo, hi = np.full(state.n, 1.0), np.full(state.n, 3000.0)
    for _ in range(48):
        mid = 0.5 * (lo + hi)
        pos = insulin_need(params, state, age, bmi, eff, mid) > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
    reference = 0.5 * (lo + hi)
    g = unaided_glucose(params, state, age, bmi, eff)
    assert np.array_equal(g, reference)
    assert np.all(insulin_need(params, state, age, bmi, eff, g * (1 - 1e-6)) > 0)
    assert np.all(insulin_need(params, state, age, bmi, eff, g * (1 + 1e-6)) < 0)
    assert 60 < np.median(g) < 400
