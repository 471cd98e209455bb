"""First-event incidence rates and rate ratios from UKPDS OM2 simulations.

Epidemiological studies such as UKPDS 35 (Stratton et al. BMJ 2000;321:405) report the
association of HbA1c with complications as a hazard (rate) ratio per 1 %-point HbA1c, not as a
difference of cumulative incidences. To compare a simulation with them like with like, this
module turns an :class:`~t2dsim.outcomes.ukpds_om2.OM2Result` into first-event counts and
person-years at risk, and two paired runs (same patients and seed: common random numbers) into
an incidence rate ratio with a paired bootstrap interval over patients.

Time at risk for the first occurrence of any of ``outcomes`` (a composite when several):
the annual cycle of the event, of death or of censoring at ``max_age`` counts half a year (the
event is assumed to fall mid-year), each full cycle before it one year, up to ``years``.
Rows that already had the condition at entry must be excluded by the caller (the simulator
only records events that occur during the simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from t2dsim.outcomes.ukpds_om2 import OUTCOMES, OM2Result


@dataclass(frozen=True)
class FirstEventRates:
    """Per-patient first-event counts and person-years at risk (arrays ``(n_patients,)``,
    summed over Monte Carlo replicates)."""

    events: np.ndarray
    person_years: np.ndarray

    @property
    def rate(self) -> float:
        """Cohort incidence rate, events per person-year."""
        return float(self.events.sum() / self.person_years.sum())


def first_event_rates(res: OM2Result, outcomes: Sequence[str], years: int | None = None) -> FirstEventRates:
    """First occurrence of any of ``outcomes`` within ``years`` (default: the whole horizon)."""
    if not outcomes:
        raise ValueError("outcomes: at least one outcome is required")
    bad = [o for o in outcomes if o not in OUTCOMES or o == "death" and len(outcomes) > 1]
    if bad:
        raise ValueError(f"outcomes: {bad} not allowed; allowed: {list(OUTCOMES)} (death only on its own)")
    horizon = res.n_years if years is None else years
    if not 1 <= horizon <= res.n_years:
        raise ValueError(f"years must be in [1, {res.n_years}] (the simulated horizon), got {years}")
    big = np.iinfo(np.int32).max
    first = np.full(res.first_year[outcomes[0]].shape, big, dtype=np.int64)
    for o in outcomes:
        fy = res.first_year[o].astype(np.int64)
        first = np.minimum(first, np.where(fy >= 0, fy, big))
    event = first < horizon
    stop = first.copy()
    for extra in (res.first_year["death"], res.censor_year):
        e = extra.astype(np.int64)
        stop = np.minimum(stop, np.where(e >= 0, e, big))
    ended = stop < horizon
    py = np.where(ended, np.minimum(stop, horizon) + 0.5, float(horizon))
    return FirstEventRates(events=event.sum(axis=1).astype(np.float64), person_years=py.sum(axis=1))


@dataclass(frozen=True)
class RateRatio:
    """Incidence rate ratio ``rate(test) / rate(reference)`` with a 95 % percentile interval."""

    ratio: float
    lo95: float
    hi95: float
    se_log: float
    events_reference: float
    events_test: float

    @property
    def reduction(self) -> float:
        """Relative reduction ``1 - ratio`` (UKPDS 35 reports "risk reduction per 1 %")."""
        return 1.0 - self.ratio


def rate_ratio(
    reference: OM2Result,
    test: OM2Result,
    outcomes: Sequence[str],
    years: int | None = None,
    *,
    n_boot: int = 400,
    seed: int = 0,
) -> RateRatio:
    """Incidence rate ratio of the first ``outcomes`` event, test vs reference arm.

    The interval is a paired bootstrap over patients (the arms must hold the same patients in the
    same order, as with common random numbers), so it measures Monte Carlo and cohort-sampling
    error of the simulated ratio, not the uncertainty of the model's coefficients.
    """
    if not np.array_equal(reference.patient_id, test.patient_id):
        raise ValueError("rate_ratio: the two results must hold the same patients in the same order")
    if n_boot < 50:
        raise ValueError(f"n_boot must be >= 50, got {n_boot}")
    a = first_event_rates(reference, outcomes, years)
    b = first_event_rates(test, outcomes, years)
    if a.events.sum() == 0 or b.events.sum() == 0:
        raise ValueError(f"rate_ratio: no {list(outcomes)} events in one arm; increase n_mc or the cohort")
    ratio = b.rate / a.rate
    n = a.events.size
    rng = np.random.default_rng([seed, 0x5A7E])
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    boot = (w @ b.events / (w @ b.person_years)) / (w @ a.events / (w @ a.person_years))
    boot = boot[np.isfinite(boot) & (boot > 0)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return RateRatio(
        ratio=float(ratio),
        lo95=float(lo),
        hi95=float(hi),
        se_log=float(np.std(np.log(boot), ddof=1)),
        events_reference=float(a.events.sum()),
        events_test=float(b.events.sum()),
    )


__all__ = ["FirstEventRates", "RateRatio", "first_event_rates", "rate_ratio"]
