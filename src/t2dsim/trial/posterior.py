"""Posterior prediction intervals of a trial's endpoints (docs/trial.md, "Posterior draws").

Two intervals answer two questions and are never merged:

* the **sampling CI** (``ci_low``/``ci_high``, the ANCOVA's t interval of the central run, draw 0): how much the
  estimate would move with other patients, were the model's parameters the central calibrated ones;
* the **posterior PI** (``pi_low``/``pi_high``): the alpha/2 and 1 − alpha/2 quantiles (NumPy's linear
  interpolation) over the K posterior draws of the same estimate on the same patients (same screening,
  randomisation, dropout and measurement error): how much it moves with the stem-cell parameters' uncertainty.

Per-draw estimates are kept (:func:`draw_estimates`): endpoint, arm, the ANCOVA difference and adjusted mean
changes, and each arm's raw mean change (which stays the same in every draw for an arm whose patients no drawn
parameter touches, e.g. standard care in a protocol without the trial effect).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.trial.statistics import analyse_endpoints, endpoint_frame

__all__ = ["CI_LABEL", "DRAW_COLUMNS", "PI_LABEL", "draw_estimates", "prediction_intervals"]

#: Labels of the two intervals wherever they are shown (format with the level in % and the number of draws).
CI_LABEL = "{level:g}% CI (sampling, these patients)"
PI_LABEL = "{level:g}% PI (parameter uncertainty, {k} posterior draws)"
#: Columns of the per-draw endpoint table.
DRAW_COLUMNS = ("draw", "endpoint", "measure", "visit_month", "arm", "reference", "estimate",
                "arm_adj_mean_change", "ref_adj_mean_change", "arm_mean_change", "ref_mean_change")  # fmt: skip


def _raw_changes(results: pd.DataFrame, endpoints: Sequence[Any], missing: str) -> dict[tuple[str, str], float]:
    out = {}
    for e in endpoints:
        fr = endpoint_frame(results, e.measure, float(e.visit_month), missing=missing)
        for arm, v in fr.groupby("arm")["change"].mean().items():
            out[(e.label, arm)] = float(v)
    return out


def draw_estimates(draw_results: pd.DataFrame, protocol: Any, arms: Sequence[str]) -> pd.DataFrame:
    """The endpoint analysis of each posterior draw's observed results (column ``draw``): one row per (draw,
    endpoint, non-reference arm), columns :data:`DRAW_COLUMNS` (units of the endpoint's measure)."""
    eps = [protocol.endpoints.primary, *protocol.endpoints.secondary]
    ref, alpha, missing = protocol.reference_arm, protocol.analysis.alpha, protocol.analysis.missing
    rows = []
    for d, res in draw_results.groupby("draw", sort=True):
        tab = analyse_endpoints(res, eps, ref, alpha=alpha, missing=missing, arms=arms)
        raw = _raw_changes(res, eps, missing)
        tab.insert(0, "draw", int(d))
        tab["arm_mean_change"] = [raw.get((e, a), np.nan) for e, a in zip(tab["endpoint"], tab["arm"], strict=True)]
        tab["ref_mean_change"] = [raw.get((e, ref), np.nan) for e in tab["endpoint"]]
        rows.append(tab[list(DRAW_COLUMNS)])
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(DRAW_COLUMNS))


def prediction_intervals(per_draw: pd.DataFrame, alpha: float, column: str = "estimate") -> pd.DataFrame:
    """Per (endpoint, arm): ``pi_low``/``pi_high`` = the alpha/2, 1 − alpha/2 quantiles of ``column`` over the
    draws, and ``n_draws``."""
    g = per_draw.groupby(["endpoint", "arm"], sort=False)[column]
    out = pd.DataFrame({
        "pi_low": g.quantile(alpha / 2),
        "pi_high": g.quantile(1 - alpha / 2),
        "n_draws": g.size(),
    })  # fmt: skip
    return out.reset_index()
