"""Endpoint definitions of the stem-cell validation cases and their statistics from a run's per-patient values.

A case's endpoints live beside its protocol (``data/validation/stem_cells/<case>.endpoints.toml``): for each
endpoint the statistic, the measure and how a patient's value is read from it, the arm(s), the visit, the trial's
published arm sizes (for resampling) and the evidence row its observed value comes from (the observed values
themselves are read from the evidence table by :mod:`t2dsim.calibration.evidence`, never copied here).

Statistics (:class:`EndpointStat`), from per-patient values x (and y):

* ``mean``: mean x in ``arm``; ``diff``: mean x in ``arm`` − mean x in ``reference_arm``;
* ``pct_of_means`` / ``pct_of_medians``: 100·(f(x at the visit) / f(x at baseline) − 1), f the mean or median over
  the arm, paired (the change of a group mean or median: "insulin 42.0 → 14.0 IU/day, decreased by 66.7 %");
* ``cond_mean``: Σ w·x / Σ w, w the indicator of ``conditions`` (e.g. HbA1c change of the responders);
* ``share``: mean of the indicator that every one of ``conditions`` holds (at ``visit_month``, or at any of
  ``any_visit_months``).

Indicators are step functions, or logistics of width ``width`` when ``soft`` (a smooth fitting objective).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from t2dsim.core.specs import StrictModel
from t2dsim.core.units import GLUCOSE_MGDL_PER_MMOLL

__all__ = ["CaseEndpoints", "Condition", "EndpointDef", "EndpointStat", "case_stats", "load_endpoints"]


class Condition(StrictModel):
    """Patient value of ``measure`` below ``below`` or at least ``above`` (one of them; soft: a logistic of width
    ``width``)."""

    measure: str
    below: float | None = None
    above: float | None = None
    width: float = Field(gt=0, description="width of the logistic used for the smooth fitting objective")

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if (self.below is None) == (self.above is None):
            raise ValueError(f"condition on {self.measure!r}: give exactly one of below or above")
        return self


class EndpointDef(StrictModel):
    """One endpoint of a case (see the module text)."""

    name: str
    kind: Literal["mean", "diff", "pct_of_means", "pct_of_medians", "cond_mean", "share"]
    arm: str
    visit_month: float
    n_trial: list[int] = Field(min_length=1, max_length=2, description="published arm size(s), for resampling")
    evidence: str = Field(description="row id in data/evidence/stem-cell-trials.csv")
    measure: str | None = None
    value: Literal["level", "change", "pct_change"] = Field(
        default="level", description="per-patient value: at the visit, minus baseline, or 100·(visit/baseline − 1)"
    )
    convert: Literal["none", "mgdl_to_mmol_l"] = "none"
    per_kg_of_baseline_weight: float | None = Field(
        default=None, description="multiply the value by this × baseline weight (kg), e.g. an assumed U/kg/day dose"
    )
    reference_arm: str | None = None
    conditions: list[Condition] = Field(default_factory=list)
    any_visit_months: list[float] = Field(default_factory=list)
    source: str = ""


class CaseEndpoints(StrictModel):
    """A case's endpoint file."""

    case: str
    endpoints: list[EndpointDef] = Field(min_length=1)


def load_endpoints(path: Path | str, protocol) -> CaseEndpoints:  # noqa: ANN001 (Protocol)
    """Read ``path`` and check it against its ``protocol`` (arms, measures, visits); errors name the field."""
    try:
        spec = CaseEndpoints.model_validate(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ValueError(f"{path}: invalid endpoint file: {exc}") from None
    arms = [a.name for a in protocol.arms]
    visits = list(protocol.visit_months)
    measures = set(protocol.measurements)
    for i, e in enumerate(spec.endpoints):
        where = f"{path}: endpoints[{i}] ({e.name})"
        for a in (e.arm, e.reference_arm):
            if a is not None and a not in arms:
                raise ValueError(f"{where}.arm: unknown arm {a!r}; allowed: {', '.join(arms)}")
        if (e.kind == "diff") != (e.reference_arm is not None) or len(e.n_trial) != (2 if e.kind == "diff" else 1):
            raise ValueError(f"{where}: kind 'diff' needs reference_arm and two n_trial, the others neither")
        if e.kind in ("share", "cond_mean") and not e.conditions:
            raise ValueError(f"{where}.conditions: kind {e.kind!r} needs at least one condition")
        if e.kind != "share" and e.measure is None:
            raise ValueError(f"{where}.measure: kind {e.kind!r} needs a measure")
        for m in [e.measure, *(c.measure for c in e.conditions)]:
            if m is not None and m not in measures:
                raise ValueError(f"{where}: measure {m!r} is not measured; allowed: {', '.join(sorted(measures))}")
        for v in [e.visit_month, *e.any_visit_months]:
            if v not in visits:
                raise ValueError(f"{where}: visit month {v:g} is not a visit; allowed: {visits}")
    return spec


@dataclass
class EndpointStat:
    """A trial statistic from per-patient values (kinds in the module text); ``n_trial`` are the trial's arm
    sizes, for resampling a trial of the published size (``value(rng)``)."""

    kind: str
    x: np.ndarray
    n_trial: tuple[int, ...]
    y: np.ndarray | None = None
    w: np.ndarray | None = None

    def value(self, rng: np.random.Generator | None = None) -> float:
        def pick(a: np.ndarray, m: int) -> np.ndarray | slice:
            return slice(None) if rng is None else rng.integers(0, a.shape[0], m)

        if self.kind in ("mean", "share"):
            return float(np.mean(self.x[pick(self.x, self.n_trial[0])]))
        if self.kind == "diff":
            i, j = pick(self.x, self.n_trial[0]), pick(self.y, self.n_trial[1])
            return float(np.mean(self.x[i]) - np.mean(self.y[j]))
        if self.kind in ("pct_of_means", "pct_of_medians"):
            i = pick(self.x, self.n_trial[0])
            f = np.mean if self.kind == "pct_of_means" else np.median
            den = float(f(self.y[i]))
            return 100.0 * (float(f(self.x[i])) / den - 1.0) if den > 0 else float("nan")
        if self.kind == "cond_mean":
            i = pick(self.x, self.n_trial[0])
            sw = float(np.sum(self.w[i]))
            return float(np.sum(self.w[i] * self.x[i]) / sw) if sw > 1e-9 else float("nan")
        raise ValueError(f"unknown statistic kind {self.kind!r}")


def _below(x: np.ndarray, thr: float, width: float, soft: bool) -> np.ndarray:
    """Indicator x < thr, or a logistic of width ``width`` when ``soft`` (smooth fitting objective)."""
    if soft:
        return 1.0 / (1.0 + np.exp(-(thr - x) / width))
    return (x < thr).astype(float)


#: Measures whose formula is undefined for some physiological values (NaN there by design, not by failure).
UNDEFINED_OUTSIDE_DOMAIN = frozenset({"homa_b_progression_percent", "homa_b_percent"})


class _Arm:
    """Per-patient values of one arm: ``at(measure, month)`` (patients in id order)."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.wide = rows.pivot_table(index="patient_id", columns=["measure", "visit_month"], values="value")

    def at(self, measure: str, month: float) -> np.ndarray:
        cols = [c for c in self.wide.columns if c[0] == measure and np.isclose(c[1], month)]
        if len(cols) != 1:
            raise ValueError(f"no values of {measure!r} at month {month:g} in the run")
        return self.wide[cols[0]].to_numpy(float)


def _values(arm: _Arm, e: EndpointDef, month: float) -> np.ndarray:
    x = arm.at(e.measure, month)
    x0 = arm.at(e.measure, 0.0)
    if e.value == "change":
        x = x - x0
    elif e.value == "pct_change":
        x = 100.0 * (x / x0 - 1.0)
    if e.convert == "mgdl_to_mmol_l":
        x = x / GLUCOSE_MGDL_PER_MMOLL
    if e.per_kg_of_baseline_weight is not None:
        x = x * e.per_kg_of_baseline_weight * arm.at("weight_kg", 0.0)
    return x


def _all_below(arm: _Arm, conds: list[Condition], month: float, soft: bool) -> np.ndarray:
    out = np.ones(len(arm.wide))
    for c in conds:
        x = arm.at(c.measure, month)
        if c.below is not None:
            out = out * _below(x, c.below, c.width, soft)
        else:
            out = out * _below(-x, -c.above, c.width, soft)
    return out


def case_stats(true_results: pd.DataFrame, spec: CaseEndpoints, soft: bool = False) -> dict[str, EndpointStat]:
    """Every endpoint of ``spec`` from a run's true per-patient values (``TrialRun.true_results``)."""
    arms = {a: _Arm(r) for a, r in true_results.groupby("arm", sort=False)}
    out: dict[str, EndpointStat] = {}
    for e in spec.endpoints:
        arm, n = arms[e.arm], tuple(e.n_trial)
        if e.kind == "share":
            months = e.any_visit_months or [e.visit_month]
            miss = np.ones(len(arm.wide))
            for m in months:
                miss = miss * (1.0 - _all_below(arm, e.conditions, m, soft))
            out[e.name] = EndpointStat("share", 1.0 - miss, n)
        elif e.kind == "mean":
            x = _values(arm, e, e.visit_month)
            if e.measure in UNDEFINED_OUTSIDE_DOMAIN:
                # a patient whose index is undefined (HOMA1-%B at FPG ≤ 3.5 mmol/L) has no value, as in a lab report;
                # an arm with no defined value stays NaN, and the fit and validate raise on it
                x = x[np.isfinite(x)]
            out[e.name] = EndpointStat("mean", x, n)
        elif e.kind == "diff":
            y = _values(arms[e.reference_arm], e, e.visit_month)
            out[e.name] = EndpointStat("diff", _values(arm, e, e.visit_month), n, y=y)
        elif e.kind in ("pct_of_means", "pct_of_medians"):
            out[e.name] = EndpointStat(e.kind, _values(arm, e, e.visit_month), n, y=_values(arm, e, 0.0))
        else:  # cond_mean
            w = _all_below(arm, e.conditions, e.visit_month, soft)
            out[e.name] = EndpointStat("cond_mean", _values(arm, e, e.visit_month), n, w=w)
    return out
