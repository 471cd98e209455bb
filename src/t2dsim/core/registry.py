"""The one therapy registry: protocol ``kind`` → (Pydantic spec class, builder of therapy objects).

A therapy module registers its kind once, at import::

    register_therapy(MySpec, build_my_therapy)

(or ``register_therapy(MySpec)`` when ``MySpec.therapy()`` builds the one object) where
``MySpec`` subclasses :class:`~t2dsim.core.specs.TherapySpecBase` with ``kind: Literal["my"]`` and
``build_my_therapy(spec, ctx: BuildContext) -> Sequence[Therapy]``. The protocol validates an arm's
treatment list as a union tagged by ``kind`` over the registered specs (:class:`TherapySpec`), and the
engine builds the arm's therapies with :func:`builder_for`. Models that embed :class:`TherapySpec`
ask to be rebuilt when the registry changes (:func:`on_change`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from t2dsim.core.calendar import DAYS_PER_MONTH, month_to_day
from t2dsim.core.specs import TherapySpecBase

__all__ = [
    "BuildContext",
    "Builder",
    "TherapySpec",
    "builder_for",
    "kind_of",
    "on_change",
    "register_therapy",
    "therapy_kinds",
    "unregister_therapy",
]


@dataclass(frozen=True)
class BuildContext:
    """What a builder may need beyond its spec: the trial's length (days), the calendar, the diabetes type and the
    cell-therapy parameter set."""

    duration_days: int
    days_per_month: float = DAYS_PER_MONTH
    #: "t2d" or "t1d": the cohort's diabetes type (β-cell grafts lose cells to autoimmunity in T1D)
    diabetes_type: str = "t2d"
    #: Parameter sets of the cell-therapy models by group ("msc", "bmmnc", "placebo", "islet": the dataclasses of
    #: therapies/stemcells/params.py); a group absent here (or None) uses the shipped calibration. A calibration
    #: evaluates candidate parameters through it, and a posterior draw of a run (ChunkKey.draw) is one such set.
    cell_params: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.diabetes_type not in ("t2d", "t1d"):
            raise ValueError(f"diabetes_type must be 't2d' or 't1d', got {self.diabetes_type!r}")

    def cell_param(self, group: str) -> Any:
        """The parameter set of cell-therapy group ``group`` if one was given, else None (the shipped calibration)."""
        return None if self.cell_params is None else self.cell_params.get(group)

    def day(self, month: float | None) -> int | None:
        """Months after randomisation → day index (None stays None)."""
        return month_to_day(month)


#: ``builder(spec, ctx) -> therapy objects`` (``Therapy`` instances of :mod:`t2dsim.therapies.base`).
Builder = Callable[[Any, BuildContext], Sequence[Any]]


@dataclass(frozen=True)
class _Entry:
    spec: type[TherapySpecBase]
    builder: Builder


_KINDS: dict[str, _Entry] = {}
_LISTENERS: list[Callable[[], None]] = []


def kind_of(cls: type[TherapySpecBase]) -> str:
    """The ``kind`` a spec class declares (``kind: Literal['name']``)."""
    ann = cls.model_fields["kind"].annotation
    args = getattr(ann, "__args__", ())
    if len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f"{cls.__name__}.kind must be annotated Literal['<one kind>']")
    return args[0]


def _changed() -> None:
    for fn in list(_LISTENERS):
        fn()


def _one_therapy(spec: Any, ctx: BuildContext) -> list[Any]:
    """The default builder: the spec's own ``therapy()`` method gives one therapy object."""
    return [spec.therapy()]


def register_therapy(spec: type[TherapySpecBase], builder: Builder | None = None) -> type[TherapySpecBase]:
    """Register a therapy kind: its spec class and its builder. A kind is registered once.

    Without ``builder`` the spec class must define ``therapy(self) -> Therapy`` (one object per entry).

    Raises:
        TypeError: ``spec`` is not a ``TherapySpecBase`` subclass with a one-value ``kind`` literal.
        ValueError: the kind is already registered with another class.
    """
    if not (isinstance(spec, type) and issubclass(spec, TherapySpecBase)):
        raise TypeError("therapy spec classes must subclass t2dsim.core.specs.TherapySpecBase")
    if builder is None:
        if not callable(getattr(spec, "therapy", None)):
            raise TypeError(f"{spec.__name__} needs a builder or a therapy() method")
        builder = _one_therapy
    if not callable(builder):
        raise TypeError(f"the builder of {spec.__name__} must be callable")
    kind = kind_of(spec)
    old = _KINDS.get(kind)
    if old is not None and old.spec is not spec:
        raise ValueError(f"therapy kind {kind!r} is already registered by {old.spec.__name__}")
    _KINDS[kind] = _Entry(spec, builder)
    _changed()
    return spec


def unregister_therapy(kind: str) -> None:
    """Remove a registered kind (for tests of plug-in therapies)."""
    if _KINDS.pop(kind, None) is not None:
        _changed()


def therapy_kinds() -> dict[str, type[TherapySpecBase]]:
    """Registered kinds → spec class (a copy)."""
    return {k: e.spec for k, e in sorted(_KINDS.items())}


def builder_for(kind: str) -> Builder:
    """The builder of a registered kind; a clear error lists the registered kinds otherwise."""
    if kind not in _KINDS:
        raise ValueError(f"therapy kind {kind!r} has no simulator; available: {', '.join(sorted(_KINDS)) or 'none'}")
    return _KINDS[kind].builder


def on_change(callback: Callable[[], None]) -> None:
    """Call ``callback`` after every registration change (models embedding :class:`TherapySpec`
    rebuild their schema there)."""
    _LISTENERS.append(callback)


class TherapySpec:
    """Annotation for 'any registered therapy spec', validated as a union tagged by ``kind``."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        choices = {k: handler.generate_schema(e.spec) for k, e in sorted(_KINDS.items())}
        return core_schema.tagged_union_schema(
            choices,
            discriminator="kind",
            custom_error_type="unknown_therapy_kind",
            custom_error_message="unknown or missing therapy kind; allowed: " + ", ".join(sorted(choices)),
        )
