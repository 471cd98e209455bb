"""From protocol therapy specs to therapy objects.

Each therapy module registers a builder for its ``kind`` with :func:`register_builder`; the trial runner
calls :func:`build_arm` with an arm's treatment list. A builder receives the validated Pydantic spec
and a :class:`BuildContext` (days per month, trial duration) and returns one or more
:class:`~t2dsim.therapies.base.Therapy` objects.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from t2dsim.core.calendar import DAYS_PER_MONTH
from t2dsim.therapies.base import Therapy, check_no_overlap


@dataclass(frozen=True)
class BuildContext:
    """What a builder may need beyond its spec."""

    duration_days: int
    days_per_month: float = DAYS_PER_MONTH

    def day(self, month: float | None) -> int | None:
        """Months after randomisation → day index (None stays None)."""
        return None if month is None else int(round(month * self.days_per_month))


Builder = Callable[[object, BuildContext], Sequence[Therapy]]
_BUILDERS: dict[str, Builder] = {}

#: Modules that register builders when imported (therapy families).
_BUILDER_MODULES = (
    "t2dsim.therapies.standard_builders",
    "t2dsim.therapies.usual_care",
    "t2dsim.therapies.stemcells.builders",
)


def register_builder(kind: str) -> Callable[[Builder], Builder]:
    """Decorator: register the builder of therapy ``kind`` (last registration wins)."""

    def deco(fn: Builder) -> Builder:
        _BUILDERS[kind] = fn
        return fn

    return deco


def _load_modules() -> None:
    for name in _BUILDER_MODULES:  # a missing module is a packaging bug: let the import error surface
        importlib.import_module(name)


def builders() -> dict[str, Builder]:
    """Registered builders by kind."""
    _load_modules()
    return dict(_BUILDERS)


def build_arm(treatment: Sequence[object], ctx: BuildContext, arm_name: str = "") -> list[Therapy]:
    """Therapies of one arm; refuses unknown kinds and overlapping schedules with a clear message."""
    table = builders()
    out: list[Therapy] = []
    for j, spec in enumerate(treatment):
        kind = getattr(spec, "kind", None)
        if kind not in table:
            raise ValueError(
                f"arm {arm_name!r}, treatment[{j}]: therapy kind {kind!r} has no simulator yet; "
                f"available: {', '.join(sorted(table)) or 'none'}"
            )
        built = list(table[kind](spec, ctx))
        for t in built:
            t.spec_kind = kind  # the protocol kind it came from (reports group risks by it)
        out.extend(built)
    check_no_overlap(out)
    return out
