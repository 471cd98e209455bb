"""The therapy interface shared by standard care and stem-cell therapies.

A therapy acts on a cohort of ``n`` patients only through

* **progression effects** (:class:`t2dsim.physiology.progression.Effects` fields, per patient, constant
  over a simulation segment), returned by :meth:`Therapy.effects`;
* **meal-model modifiers** (multipliers or additions on :mod:`t2dsim.physiology.meal` parameters,
  per patient) for the minute-scale days (visits, CGM weeks), returned by :meth:`Therapy.meal_modifiers`;
* an optional **feedback** step, :meth:`Therapy.observe`, called at the start of every segment with the
  current progression state, for titration and intensification rules (vectorised over patients).

The engine advances the cohort in segments (default 7 days, or shorter where a titration rule needs it):
for each segment it calls ``observe`` then ``effects`` on every therapy of the arm, combines them with
:func:`combine_effects`, and advances the progression model.

Every therapy carries its risks (:class:`Risk`) so that any report of a benefit can show them beside it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from t2dsim.core.calendar import month_to_day
from t2dsim.core.rng import patient_generators
from t2dsim.physiology.progression import EFFECT_NAMES, Effects

#: How each effect combines across therapies: multiplicative, additive, or as independent fractions.
MULTIPLICATIVE = ("si_mult", "hgp_mult", "secretion_mult", "inflammation_mult")
ADDITIVE = ("glucose_loss_per_day", "exog_insulin_uuml", "graft_beta_mass_mg")
FRACTION = ("beta_protect",)
assert set(MULTIPLICATIVE + ADDITIVE + FRACTION) == set(EFFECT_NAMES)

#: Meal-model parameters a therapy may modify, and how (multiplier or addition).
MEAL_MULTIPLIERS = ("Vmx", "kp3", "beta_Y", "beta_Y_up", "K", "kmax", "kmin", "kabs", "ke1", "ke2", "EGPb", "Vm0")
MEAL_ADDITIONS = ("Sfix", "u2ss")


@dataclass(frozen=True)
class Risk:
    """A harm that goes with a therapy, shown beside every benefit.

    ``rate`` is a probability per patient over ``period`` (e.g. 0.02 per "procedure"), with its 95 %
    interval if known, and ``source`` the evidence (trial, registry, review).
    """

    name: str
    description: str
    source: str
    rate: float | None = None
    rate_low: float | None = None
    rate_high: float | None = None
    period: str = ""
    severity: str = "moderate"  # "minor", "moderate", "serious", "life-threatening"


@dataclass
class PatientContext:
    """What therapies may read about the cohort (arrays of shape (n,))."""

    n: int
    body_weight_kg: np.ndarray
    age_years: np.ndarray
    female: np.ndarray
    seed: int = 0
    patient_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: Baseline covariates therapies may need, arrays (n,): e.g. ``insulin_dose_u_per_day`` (U/day),
    #: ``exog_insulin`` (progression insulin units), ``insulin_scale`` (κ), ``diabetes_duration_years``,
    #: ``hba1c_pct``, ``bmi_kg_m2``.
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    #: The cohort's progression-model parameters (ProgressionParams), set by the engine's ArmState: trial conducts
    #: that dose by the model's quasi-steady rules read them (therapies/insulin_sparing.py).
    progression_params: Any = None

    def __post_init__(self) -> None:
        if self.patient_ids.size == 0:
            self.patient_ids = np.arange(self.n, dtype=np.int64)

    def rng(self, stream: str) -> list[np.random.Generator]:
        """One generator per patient, keyed by (seed, patient_id, stream) — independent of chunking."""
        # the stream is keyed by its first 8 bytes (as the calibrated stem-cell responses were drawn)
        key = int.from_bytes(stream.encode()[:8].ljust(8, b"\0"), "little")
        return patient_generators(self.seed, self.patient_ids, key)

    def uniform(self, stream: str) -> np.ndarray:
        """One U(0, 1) draw per patient from its own stream (for per-patient response variability)."""
        return np.array([g.random() for g in self.rng(stream)])


class Therapy(ABC):
    """Base class: a treatment with a schedule (days since randomisation) and adherence (0–1)."""

    kind: str = "therapy"
    risks: tuple[Risk, ...] = ()

    def __init__(self, start_day: int = 0, stop_day: int | None = None, adherence: float = 1.0) -> None:
        if start_day < 0:
            raise ValueError(f"{self.kind}: start_day must be ≥ 0, got {start_day}")
        if stop_day is not None and stop_day <= start_day:
            raise ValueError(f"{self.kind}: stop_day ({stop_day}) must be after start_day ({start_day})")
        if not 0.0 <= adherence <= 1.0:
            raise ValueError(f"{self.kind}: adherence must lie in [0, 1], got {adherence}")
        self.start_day = int(start_day)
        self.stop_day = None if stop_day is None else int(stop_day)
        self.adherence = float(adherence)

    def active(self, day: int) -> bool:
        """Whether the therapy is given on ``day`` (days since randomisation)."""
        return day >= self.start_day and (self.stop_day is None or day < self.stop_day)

    def setup(self, ctx: PatientContext) -> None:  # noqa: B027 - optional hook
        """Called once before the first segment (draw per-patient responses here)."""

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:  # noqa: B027
        """Feedback hook at the start of each segment; ``state`` maps progression output names
        (e.g. ``glucose_mgdl``, ``hba1c_pct``) to (n,) arrays. Titration rules update doses here."""

    @abstractmethod
    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        """Progression effects for the segment starting at ``day`` (names of ``EFFECT_NAMES``)."""

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        """Meal-model modifiers on ``day``: names of MEAL_MULTIPLIERS (× factor) or MEAL_ADDITIONS (+)."""
        return {}

    def describe(self) -> str:
        return self.kind


def combine_effects(n: int, parts: Iterable[dict[str, np.ndarray]], n_days: int | None = None) -> Effects:
    """Combine therapies' effects: multipliers multiply, additive effects add, protective fractions
    combine as independent (1 − Π(1 − p)). With ``n_days``, parts may be (n,) or per-day (n, n_days) and
    the result is per day."""
    shape: tuple[int, ...] = (n,) if n_days is None else (n, n_days)
    acc = {k: np.ones(shape) for k in MULTIPLICATIVE}
    acc.update({k: np.zeros(shape) for k in ADDITIVE})
    keep = {k: np.ones(shape) for k in FRACTION}
    for part in parts:
        for name, value in part.items():
            v = np.asarray(value, dtype=float)
            if n_days is not None and v.ndim == 1:
                v = v[:, None]
            v = np.broadcast_to(v, shape)
            if name in MULTIPLICATIVE:
                acc[name] = acc[name] * v
            elif name in ADDITIVE:
                acc[name] = acc[name] + v
            elif name in FRACTION:
                keep[name] = keep[name] * (1.0 - v)
            else:
                raise ValueError(f"unknown effect {name!r}; allowed: {', '.join(EFFECT_NAMES)}")
    for name in FRACTION:
        acc[name] = 1.0 - keep[name]
    return Effects(**acc)


def combine_meal_modifiers(n: int, parts: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Combine meal-model modifiers (multipliers multiply, additions add)."""
    out: dict[str, np.ndarray] = {}
    for part in parts:
        for name, value in part.items():
            v = np.broadcast_to(np.asarray(value, dtype=float), (n,))
            if name in MEAL_MULTIPLIERS:
                out[name] = out.get(name, np.ones(n)) * v
            elif name in MEAL_ADDITIONS:
                out[name] = out.get(name, np.zeros(n)) + v
            else:
                raise ValueError(
                    f"unknown meal modifier {name!r}; allowed: {', '.join(MEAL_MULTIPLIERS + MEAL_ADDITIONS)}"
                )
    return out


def check_no_overlap(therapies: Sequence[Therapy]) -> None:
    """Refuse two therapies of the same kind whose schedules overlap (ambiguous dosing)."""
    by_kind: dict[str, list[Therapy]] = {}
    for t in therapies:
        by_kind.setdefault(t.kind, []).append(t)
    for kind, items in by_kind.items():
        items = sorted(items, key=lambda t: t.start_day)
        for a, b in zip(items, items[1:], strict=False):
            a_end = a.stop_day if a.stop_day is not None else np.inf
            if b.start_day < a_end:
                raise ValueError(
                    f"overlapping schedules for {kind!r}: one runs from day {a.start_day} to "
                    f"{'end' if a.stop_day is None else a.stop_day}, another starts on day {b.start_day}; "
                    "give one course a stop_day before the next starts, or change the dose instead"
                )


def schedule_days(spec: Any, window: bool = True) -> dict[str, int | None]:
    """``start_day``/``stop_day`` keyword arguments from a spec's ``start_month``/``stop_month`` (months after
    randomisation; :mod:`t2dsim.core.calendar`); empty when ``window`` is false (a step of a plan)."""
    if not window:
        return {}
    return {
        "start_day": month_to_day(getattr(spec, "start_month", 0.0)) or 0,
        "stop_day": month_to_day(getattr(spec, "stop_month", None)),
    }
