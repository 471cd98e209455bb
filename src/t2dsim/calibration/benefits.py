"""Benefit summaries: every benefit the tool reports comes with its 95 % interval and its risk list.

:func:`benefit_summaries` simulates standard regimens on small virtual cohorts under every member of
the calibrated ensemble and returns treated-minus-control effects (central value = calibrated
parameters; interval = 2.5-97.5 percentiles over the ensemble, each member also carrying a random
trial-level efficacy offset δ ~ N(0, τ²) with the between-trial SD τ of the calibration, so the interval
is what a new trial or setting could show). A :class:`BenefitSummary` cannot be built without an interval
and a non-empty risk list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from t2dsim.calibration.fit import bounds_log, efficacy_index, laplace_draws, params_from_theta
from t2dsim.calibration.populations import population_for
from t2dsim.calibration.trials import simulate_arm
from t2dsim.therapies.base import Risk
from t2dsim.therapies.stemcells import BMMNCTherapy, MSCTherapy, PlaceboTrialEffect
from t2dsim.therapies.stemcells.risks import UNREGULATED_CLINIC_WARNING

__all__ = ["BenefitSummary", "benefit_summaries"]


@dataclass(frozen=True)
class BenefitSummary:
    """A benefit with its uncertainty and risks."""

    therapy: str
    measure: str
    unit: str
    central: float
    low: float
    high: float
    risks: tuple[Risk, ...]
    evidence: str
    label: str = ""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"benefit {self.measure!r}: a finite 95 % interval is required")
        if not self.risks:
            raise ValueError(f"benefit {self.measure!r}: the therapy's risk list is required")

    def text(self) -> str:
        risks = "; ".join(r.name for r in self.risks)
        return (
            f"{self.therapy}: {self.measure} {self.central:+.2f} {self.unit} (95 % interval {self.low:+.2f} "
            f"to {self.high:+.2f}). {self.label} Risks: {risks}."
        )


def benefit_summaries(
    results_path: str | Path | None = None, n_draws: int = 20, n: int = 24, seed: int = 0
) -> list[BenefitSummary]:
    """Placebo-adjusted benefits of standard regimens with ensemble intervals and risks."""
    from t2dsim.calibration import default_results_path

    res = json.loads(Path(results_path or default_results_path()).read_text())
    full = res["full"]
    draws = laplace_draws(full["log_theta"], full["cov"], n_draws, seed, bounds_log())
    tau = float(full.get("tau", 0.0))
    rng = np.random.default_rng([seed, 91])
    for k in (efficacy_index("skyler2015"), efficacy_index("bhansali2014_rct")):
        draws[1:, k] += tau * rng.standard_normal(draws.shape[0] - 1)  # row 0 stays the calibrated centre
    het = f"Model ensemble incl. between-trial heterogeneity (τ = {tau:.2f} on log efficacy)."
    pop_msc = population_for("skyler2015", n, seed)
    pop_mnc = population_for("bhansali2014_rct", n, seed)
    regimens = {
        "UC-MSC 1e6/kg IV, single dose": (lambda P: MSCTherapy(1e6, [0], "UC-MSC", params=P["msc"]), [84, 364]),
        "UC-MSC 1e6/kg IV, monthly × 12": (
            lambda P: MSCTherapy(1e6, list(range(0, 336, 28)), "UC-MSC", params=P["msc"]),
            [84, 364],
        ),
    }
    vals: dict[tuple[str, int], list[float]] = {}
    vals_mnc: list[float] = []
    for x in draws:
        P = params_from_theta(x)
        plc = simulate_arm(pop_msc, [PlaceboTrialEffect(params=P["placebo"])], [84, 364])
        for name, (make, days) in regimens.items():
            trt = simulate_arm(pop_msc, [PlaceboTrialEffect(params=P["placebo"]), make(P)], days)
            for d in days:
                vals.setdefault((name, d), []).append(float(np.mean(trt.at("hba1c", d) - plc.at("hba1c", d))))
        ctl = simulate_arm(pop_mnc, [PlaceboTrialEffect(params=P["placebo"])], [364], "reduce_only")
        mnc = simulate_arm(
            pop_mnc,
            [PlaceboTrialEffect(params=P["placebo"]), BMMNCTherapy(1e9, [0], params=P["bmmnc"])],
            [364],
            "reduce_only",
        )
        vals_mnc.append(float(100 * np.mean(mnc.at("dose_rel", 364) - ctl.at("dose_rel", 364))))
    out = []
    msc_risks = MSCTherapy(1e6, [0]).risks
    for (name, d), v in vals.items():
        a = np.asarray(v)
        out.append(
            BenefitSummary(
                name,
                f"HbA1c vs placebo at week {d // 7}",
                "%-points",
                a[0],
                *np.percentile(a, [2.5, 97.5]),
                msc_risks,
                "calibrated to Skyler 2015, Lian 2022 (small trials; low certainty)",
                het,
            )
        )
    a = np.asarray(vals_mnc)
    out.append(
        BenefitSummary(
            "autologous BM-MNC 1e9 cells, pancreatic artery",
            "insulin dose vs control at 12 months",
            "% of baseline dose",
            a[0],
            *np.percentile(a, [2.5, 97.5]),
            BMMNCTherapy(1e9, [0]).risks,
            "calibrated to Bhansali 2009/2014/2017, Wu 2014 (single-centre, open or single-blind)",
            het,
        )
    )
    assert all(UNREGULATED_CLINIC_WARNING in b.risks for b in out)
    return out
