"""Monte Carlo power against the analytic power of a two-sample t-test.

Generator: baseline ~ N(8, 1) and change ~ N(effect, 1) independent of baseline, so ANCOVA on
change has the power of a two-sample t-test on change (statsmodels TTestIndPower) up to one lost
degree of freedom (< 0.005 in power at these sizes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from statsmodels.stats.power import TTestIndPower

from t2dsim.trial.power import power_curve, power_curve_for_protocol, replicate_seed

D = 0.5  # standardised effect


def simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(["placebo", "active"], n)
    base = rng.normal(8.0, 1.0, 2 * n)
    change = rng.normal(0.0, 1.0, 2 * n) - D * (arm == "active")
    pid = np.arange(2 * n)
    return pd.DataFrame(
        {
            "arm": np.concatenate([arm, arm]),
            "patient_id": np.concatenate([pid, pid]),
            "visit_month": np.repeat([0.0, 12.0], 2 * n),
            "measure": "hba1c_percent",
            "value": np.concatenate([base, base + change]),
        }
    )


def test_power_matches_ttest_analytic() -> None:
    reps = 500
    ns = [20, 40, 64]
    res = power_curve(simulate, ns, reps, seed=123, endpoint=("hba1c_percent", 12), reference_arm="placebo")
    tab = res.table.set_index("n_per_arm")
    for n in ns:
        analytic = TTestIndPower().power(effect_size=D, nobs1=n, alpha=0.05, ratio=1.0)
        se = np.sqrt(analytic * (1 - analytic) / reps)
        # within 3.5 Monte Carlo SEs (plus 0.005 for the covariate's lost degree of freedom)
        assert abs(tab.loc[n, "power"] - analytic) < 3.5 * se + 0.005, (n, tab.loc[n, "power"], analytic)
        assert tab.loc[n, "ci_low"] <= tab.loc[n, "power"] <= tab.loc[n, "ci_high"]
        assert tab.loc[n, "mean_estimate"] == pytest.approx(-D, abs=4 * np.sqrt(2 / n) / np.sqrt(reps))
    assert (tab["arm"] == "active").all() and (tab["n_failed"] == 0).all()
    assert isinstance(res.figure, go.Figure) and len(res.figure.data) == 1


def test_power_deterministic_and_extensible() -> None:
    a = power_curve(simulate, [10, 20], 30, seed=5).table
    b = power_curve(simulate, [20], 30, seed=5).table
    pd.testing.assert_frame_equal(a[a.n_per_arm == 20].reset_index(drop=True), b)
    assert replicate_seed(5, 20, 3) != replicate_seed(5, 20, 4)
    with pytest.raises(ValueError, match="reps"):
        power_curve(simulate, [10], 0, seed=1)


def test_power_for_protocol_uses_primary_endpoint() -> None:
    from pathlib import Path

    from t2dsim.trial.protocol import load_protocol

    proto = load_protocol(Path(__file__).parent / "data" / "good_protocol.toml")
    calls = []
    res = power_curve_for_protocol(proto, simulate, [15], 10, seed=2, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (10, 10)
    assert res.table["reference"].iloc[0] == "placebo" and res.table["reps"].iloc[0] == 10
