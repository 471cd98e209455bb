"""One therapy per block of rows of a stacked cohort: the same patients run under several parameter sets at once.

A posterior draw of a trial (``trial/draws.py``) is the arm's patients again with other cell-therapy parameters.
Rather than run the arm once per draw, the engine runs one cohort of the patients repeated K times
(:meth:`Cohort.concat`; each copy keeps the patients' ids, hence their random numbers) and gives each block of rows
its own therapy object: :class:`RowBlocks` holds them and concatenates what they return along the patient axis.
Every engine step stays vectorised over all rows; the Python calls are per block, never per patient. A row's
course depends only on its own inputs, so each block's values are those of a separate run of that parameter set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from t2dsim.therapies.base import ADDITIVE, FRACTION, MEAL_ADDITIONS, PatientContext, Therapy

__all__ = ["RowBlocks", "context_rows"]

#: Hooks that change the engine's segments or visits; a therapy with one cannot be split into row blocks.
_UNSUPPORTED = ("next_decision_day", "weight_change_frac", "visit_measures", "steps", "continues_baseline")


def context_rows(ctx: PatientContext, a: int, b: int) -> PatientContext:
    """The patient context of rows ``a:b`` (per-patient arrays sliced, the rest shared)."""

    def rows(v: Any) -> Any:
        return v[a:b] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == ctx.n else v

    pp = ctx.progression_params
    return PatientContext(
        n=b - a,
        body_weight_kg=ctx.body_weight_kg[a:b],
        age_years=ctx.age_years[a:b],
        female=ctx.female[a:b],
        seed=ctx.seed,
        patient_ids=ctx.patient_ids[a:b],
        covariates={k: rows(v) for k, v in ctx.covariates.items()},
        progression_params=None if pp is None else pp.select(np.arange(a, b)),
    )


def _neutral(name: str) -> float:
    return 0.0 if name in ADDITIVE or name in FRACTION or name in MEAL_ADDITIONS else 1.0


class RowBlocks(Therapy):
    """Therapy ``parts[j]`` acts on rows ``[sum(sizes[:j]), sum(sizes[:j+1]))``; the parts are one therapy kind on
    one schedule (e.g. one cell therapy under K parameter sets). Effects missing from a block are neutral there."""

    def __init__(self, parts: Sequence[Therapy], sizes: Sequence[int]) -> None:  # noqa: D107 - no Therapy.__init__
        if not parts or len(parts) != len(sizes):
            raise ValueError(f"RowBlocks: {len(parts)} therapies for {len(sizes)} row blocks; give one per block")
        first = parts[0]
        for p in parts:
            if type(p) is not type(first) or (p.start_day, p.stop_day) != (first.start_day, first.stop_day):
                raise ValueError("RowBlocks: every block must hold the same therapy kind on the same schedule")
        bad = [h for h in _UNSUPPORTED if hasattr(first, h)]
        if bad:
            raise ValueError(f"RowBlocks: {first.kind} has {bad[0]!r}, which changes the engine's steps per block; "
                             "such a therapy cannot vary between row blocks")  # fmt: skip
        self.parts = list(parts)
        self.bounds = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64))])
        self.kind = first.kind
        self.spec_kind = getattr(first, "spec_kind", first.kind)
        self.risks = first.risks
        self.adherence = first.adherence
        self.start_day, self.stop_day = first.start_day, first.stop_day
        self._ctx: list[PatientContext] = []

    def active(self, day: int) -> bool:
        return self.parts[0].active(day)

    def _blocks(self, ctx: PatientContext) -> list[PatientContext]:
        if int(self.bounds[-1]) != ctx.n:
            raise ValueError(f"RowBlocks: blocks of {int(self.bounds[-1])} rows for a cohort of {ctx.n}")
        if not self._ctx:
            ends = zip(self.bounds[:-1], self.bounds[1:], strict=True)
            self._ctx = [context_rows(ctx, int(a), int(b)) for a, b in ends]
        return self._ctx

    def _join(self, ctx: PatientContext, parts: list[dict[str, np.ndarray]], n_days: int | None) -> dict:
        names = list(dict.fromkeys(k for p in parts for k in p))
        out = {}
        for name in names:
            acc = np.empty((ctx.n,) if n_days is None else (ctx.n, n_days))
            for p, a, b in zip(parts, self.bounds[:-1], self.bounds[1:], strict=True):
                v = np.asarray(p.get(name, _neutral(name)), dtype=float)
                acc[a:b] = v[:, None] if n_days is not None and v.ndim == 1 else v
            out[name] = acc
        return out

    def setup(self, ctx: PatientContext) -> None:
        self._ctx = []
        for p, c in zip(self.parts, self._blocks(ctx), strict=True):
            p.setup(c)

    def observe(self, ctx: PatientContext, day: int, state: dict[str, np.ndarray]) -> None:
        if type(self.parts[0]).observe is Therapy.observe:
            return  # no feedback hook (the cell therapies): nothing to slice
        for p, c, a, b in zip(self.parts, self._blocks(ctx), self.bounds[:-1], self.bounds[1:], strict=True):
            p.observe(c, day, {k: np.asarray(v)[a:b] if np.ndim(v) else v for k, v in state.items()})

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        blocks = zip(self.parts, self._blocks(ctx), strict=True)
        return self._join(ctx, [p.effects(c, day) for p, c in blocks], None)

    def daily_effects(self, ctx: PatientContext, days: np.ndarray) -> dict[str, np.ndarray]:
        """Per-day effects (n, len(days)); a part without daily effects holds its segment-start value."""
        parts = []
        for p, c in zip(self.parts, self._blocks(ctx), strict=True):
            daily = getattr(p, "daily_effects", None)
            parts.append(daily(c, days) if callable(daily) else p.effects(c, int(days[0])))
        return self._join(ctx, parts, len(days))

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        blocks = zip(self.parts, self._blocks(ctx), strict=True)
        return self._join(ctx, [p.meal_modifiers(c, day) for p, c in blocks], None)

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        """The parts' reports joined (empty if the therapy reports nothing)."""
        reps = [getattr(p, "report", None) for p in self.parts]
        if not all(callable(r) for r in reps):
            return {}
        return self._join(ctx, [r(c, day) for r, c in zip(reps, self._blocks(ctx), strict=True)], None)

    def describe(self) -> str:
        return f"{self.parts[0].describe()} ({len(self.parts)} parameter sets)"
