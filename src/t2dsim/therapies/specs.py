"""Therapy specs outside a protocol file: validate a spec mapping and build therapy objects.

Every kind is registered in :mod:`t2dsim.core.registry` by the module that owns it (drugs, insulin,
lifestyle, plan, usual_care, stemcells). :func:`parse_spec` validates a mapping against the registered
specs; :func:`build_therapies` refuses overlapping schedules of the same kind. Errors name the field and
its allowed range, e.g. ``metformin.dose_mg_per_day: Input should be less than or equal to 3000 (got -5);
allowed range [250, 3000] mg/day``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from t2dsim.core.registry import BuildContext, TherapySpec, builder_for, therapy_kinds
from t2dsim.core.specs import TherapySpecBase
from t2dsim.therapies.base import Therapy, check_no_overlap

__all__ = ["build_arm", "build_therapies", "build_therapy", "parse_spec"]


def _bounds(model: type | None, field: str) -> str:
    if model is None or field not in getattr(model, "model_fields", {}):
        return ""
    lo = hi = None
    for m in model.model_fields[field].metadata:
        lo = getattr(m, "ge", getattr(m, "gt", lo))
        hi = getattr(m, "le", getattr(m, "lt", hi))
    unit = model.model_fields[field].description or ""
    if lo is None and hi is None:
        return ""
    return (
        f"; allowed range [{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}] {unit}".rstrip()
    )


def _message(err: ValidationError, data: Any) -> str:
    kinds = therapy_kinds()
    lines = []
    kind = data.get("kind") if isinstance(data, Mapping) else None
    for e in err.errors():
        loc = [str(x) for x in e["loc"]]
        if e["type"] in ("union_tag_invalid", "union_tag_not_found", "unknown_therapy_kind"):
            lines.append(f"kind: unknown or missing therapy kind {kind!r}; allowed: {', '.join(sorted(kinds))}")
            continue
        if loc and loc[0] in kinds:  # tagged-union branch name
            loc = loc[1:]
        path = ".".join(loc)
        got = e.get("input")
        extra = _bounds(kinds.get(kind), loc[-1]) if loc and e["type"] in (
            "greater_than_equal", "less_than_equal", "greater_than", "less_than") else ""  # fmt: skip
        shown = "" if isinstance(got, Mapping) else f" (got {got!r})"
        where = f"{kind or 'therapy'}.{path}" if path else f"{kind or 'therapy'}"
        lines.append(f"{where}: {e['msg'].removeprefix('Value error, ')}{shown}{extra}")
    return "; ".join(lines)


def parse_spec(data: Mapping[str, Any] | TherapySpecBase) -> TherapySpecBase:
    """Validate a therapy spec given as a mapping (or pass a spec object through).

    Raises ValueError naming the field and its allowed range."""
    if isinstance(data, TherapySpecBase):
        return data
    if not isinstance(data, Mapping):
        raise ValueError(f"a therapy spec must be a mapping with a 'kind' key, got {type(data).__name__}")
    try:
        return TypeAdapter(Annotated[TherapySpec, Field()]).validate_python(dict(data))
    except ValidationError as err:
        raise ValueError(_message(err, data)) from None


def _kinds(spec: Any) -> set[str]:
    return {s.kind for s in spec.steps} if spec.kind == "treatment_plan" else {spec.kind}


def _check_overlaps(parsed: Sequence[Any]) -> None:
    for i in range(len(parsed)):
        for j in range(i + 1, len(parsed)):
            a, b = parsed[i], parsed[j]
            common = _kinds(a) & _kinds(b)
            if not common:
                continue
            a0, a1 = a.start_month, a.stop_month if a.stop_month is not None else float("inf")
            b0, b1 = b.start_month, b.stop_month if b.stop_month is not None else float("inf")
            if a0 < b1 and b0 < a1:
                raise ValueError(
                    f"treatment[{j}] ({', '.join(sorted(common))}): schedule start_month={b0:g}, stop_month="
                    f"{'end' if b.stop_month is None else f'{b1:g}'} overlaps treatment[{i}] (start_month={a0:g}, "
                    f"stop_month={'end' if a.stop_month is None else f'{a1:g}'}); allowed: the same kind may run "
                    "again only after the earlier course stops (give it a stop_month ≤ the next start_month)"
                )


def build_therapy(spec: Mapping[str, Any] | TherapySpecBase, duration_days: int = 36525) -> Therapy:
    """The therapy object of one spec (mapping or validated spec object)."""
    parsed = parse_spec(spec)
    built = list(builder_for(parsed.kind)(parsed, BuildContext(duration_days=duration_days)))
    if len(built) != 1:
        raise ValueError(f"{parsed.kind}: builds {len(built)} therapy objects; use build_therapies")
    return built[0]


def build_therapies(specs: Sequence[Mapping[str, Any] | TherapySpecBase], duration_days: int = 36525) -> list[Therapy]:
    """An arm's therapies from its treatment list; refuses overlapping schedules of the same kind
    (also a kind inside a treatment plan against the same kind outside it), naming both entries."""
    parsed = []
    for j, s in enumerate(specs):
        try:
            parsed.append(parse_spec(s))
        except ValueError as exc:
            raise ValueError(f"treatment[{j}]: {exc}") from None
    _check_overlaps(parsed)
    ctx = BuildContext(duration_days=duration_days)
    return [t for s in parsed for t in builder_for(s.kind)(s, ctx)]


def build_arm(treatment: Sequence[TherapySpecBase], ctx: BuildContext, arm_name: str = "") -> list[Therapy]:
    """Therapies of one arm from its validated treatment list; refuses kinds without a simulator and
    overlapping schedules with a clear message. Each object carries ``spec_kind``, the protocol kind it
    came from (reports group risks by it)."""
    out: list[Therapy] = []
    for j, spec in enumerate(treatment):
        kind = getattr(spec, "kind", None)
        try:
            builder = builder_for(kind)
        except ValueError as exc:
            raise ValueError(f"arm {arm_name!r}, treatment[{j}]: {exc}") from None
        built = list(builder(spec, ctx))
        for t in built:
            t.spec_kind = kind
        out.extend(built)
    check_no_overlap(out)
    return out
