"""Background regimen and run-in: the therapy patients were on before randomisation.

A protocol's background therapies start ``run_in_days`` before randomisation and continue in every arm; the engine
clock of an arm then starts at day −run_in_days (randomisation is day 0, so every arm treatment and visit keeps its
own days). The background therapies are built as usual (their day 0 = start of the run-in) and wrapped in
:class:`Shifted`, which translates engine days to theirs. During the run-in the cohort's own baseline effect (the
preset's titrated background insulin) is held constant (:class:`HeldBackground`); from randomisation on it is
carried, as before, by the arms' ``standard_care`` (which continues each patient's baseline dose).

Every patient's course depends only on its own keys, so the run-in of a screening pool and the replay of it for an
enrolled chunk give the same baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from t2dsim.engine.arm import ArmState, advance
from t2dsim.engine.cohort import Cohort
from t2dsim.therapies.base import PatientContext, Therapy

__all__ = ["HeldBackground", "Shifted", "run_in", "start_arm"]

#: Methods whose second argument is a day (or days) and so are translated by :class:`Shifted`.
_DAY_METHODS = frozenset({"daily_effects", "report", "weight_change_frac"})


class Shifted(Therapy):
    """A therapy started ``offset_days`` before randomisation: engine day d is the therapy's day d + offset."""

    def __init__(self, inner: Therapy, offset_days: int) -> None:  # noqa: D107 - no Therapy.__init__ (negative days)
        self.inner = inner
        self.offset = int(offset_days)
        self.kind = inner.kind
        self.risks = inner.risks
        self.adherence = inner.adherence
        self.start_day = inner.start_day - self.offset
        self.stop_day = None if inner.stop_day is None else inner.stop_day - self.offset

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not yet set (copy, pickle)
            raise AttributeError(name)
        attr = getattr(self.inner, name)
        if name in _DAY_METHODS:
            return lambda ctx, day: attr(ctx, np.asarray(day) + self.offset if np.ndim(day) else day + self.offset)
        return attr

    def active(self, day: int) -> bool:
        return self.inner.active(day + self.offset)

    def setup(self, ctx: PatientContext) -> None:
        self.inner.setup(ctx)

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        self.inner.observe(ctx, day + self.offset, state)

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return self.inner.effects(ctx, day + self.offset)

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return self.inner.meal_modifiers(ctx, day + self.offset)


class HeldBackground(Therapy):
    """The cohort's baseline plasma-insulin effect held constant before randomisation (days < 0)."""

    kind = "baseline_background"

    def __init__(self, exog_insulin_uuml: np.ndarray) -> None:  # noqa: D107
        self.exog = np.asarray(exog_insulin_uuml, dtype=float)
        self.start_day, self.stop_day, self.adherence = -(10**9), 0, 1.0

    def active(self, day: int) -> bool:
        return day < 0

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {"exog_insulin_uuml": self.exog}


def start_arm(
    cohort: Cohort, therapies: Sequence[Therapy], background: Sequence[Therapy], run_in_days: int
) -> ArmState:
    """An arm whose clock starts ``run_in_days`` before randomisation with ``background`` (built with day 0 = start
    of the run-in) running from then on, and ``therapies`` (the arm's, days since randomisation)."""
    if run_in_days < 0:
        raise ValueError(f"run_in_days must be ≥ 0, got {run_in_days}")
    # a background that itself continues the baseline regimen (standard_care) replaces the held effect
    continues = any(getattr(t, "continues_baseline", False) for t in background)
    held = [HeldBackground(cohort.background_effects.exog_insulin_uuml)] if run_in_days > 0 and not continues else []
    wrapped = [Shifted(t, run_in_days) for t in background]
    return ArmState(cohort, [*held, *wrapped, *therapies], day=-int(run_in_days))


def run_in(cohort: Cohort, background: Sequence[Therapy], run_in_days: int) -> ArmState:
    """The cohort advanced through its run-in to randomisation (day 0) on its background."""
    arm = start_arm(cohort, [], background, run_in_days)
    if run_in_days > 0:
        advance(arm, run_in_days)
    return arm
