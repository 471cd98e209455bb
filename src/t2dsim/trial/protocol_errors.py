"""Turning Pydantic validation errors of a protocol into user messages: ``field.path: what is wrong (got X;
allowed ...)``, one per problem, with the allowed range or keys of the field."""

from __future__ import annotations

from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError

from t2dsim.core.registry import TherapySpec, therapy_kinds
from t2dsim.trial.population_spec import CategoricalDist, FixedDist, LogNormalDist, NormalDist, UniformDist

__all__ = ["format_validation_error"]


def _loc_to_path(loc: tuple[Any, ...], data: Any) -> str:
    """``('arms', 0, 'treatment', 1, 'metformin', 'dose')`` -> ``arms[0].treatment[1].dose``.

    Union tags that pydantic inserts in the location (not keys of the input) are dropped.
    """
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
            node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            continue
        if isinstance(node, dict) and key not in node and (node.get("kind") == key or node.get("dist") == key):
            continue  # discriminator tag inserted by pydantic
        if isinstance(key, str) and key.startswith(("function-", "tagged-union")):
            continue
        parts.append(("." if parts else "") + str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _num(x: Any) -> str:
    """A bound as a user reads it: integers in full (1000000, not 1e+06), other numbers in short form."""
    return str(x) if isinstance(x, int) else f"{x:g}"


def _constraint_text(ctx: dict[str, Any] | None, field_bounds: tuple[Any, Any, Any, Any]) -> str:
    ge, gt, le, lt = field_bounds
    if ctx:
        ge = ctx.get("ge", ge)
        gt = ctx.get("gt", gt)
        le = ctx.get("le", le)
        lt = ctx.get("lt", lt)
    if all(x is None for x in (ge, gt, le, lt)):
        return ""
    lo = f"[{_num(ge)}" if ge is not None else (f"({_num(gt)}" if gt is not None else "(-inf")
    hi = f"{_num(le)}]" if le is not None else (f"{_num(lt)})" if lt is not None else "inf)")
    return f"allowed range {lo}, {hi}"


def _resolve_model(ann: Any, node: Any) -> tuple[type[BaseModel] | None, Any]:
    """From an annotation and the input at that place, the model class to descend into (or the
    value type of a ``dict[str, X]``): returns ``(model, dict_value_annotation)``."""
    import typing

    stack = [ann]
    while stack:
        a = stack.pop(0)
        if a is TherapySpec:
            kind = node.get("kind") if isinstance(node, dict) else None
            return (therapy_kinds().get(kind) if isinstance(kind, str) else None), None
        if isinstance(a, type) and issubclass(a, BaseModel):
            if isinstance(node, dict) and "dist" in a.model_fields and "dist" in node:
                for cand in (NormalDist, LogNormalDist, UniformDist, FixedDist, CategoricalDist):
                    if cand.model_fields["dist"].annotation.__args__[0] == node["dist"]:
                        return cand, None
            return a, None
        if typing.get_origin(a) is dict:
            return None, typing.get_args(a)[1]
        stack.extend(typing.get_args(a))
    return None, None


def _field_info_for(loc: tuple[Any, ...], data: Any, root: type[BaseModel]) -> Any:
    """Walk the model tree along ``loc`` and return the FieldInfo of the last named field (or None)."""
    ann: Any = root
    node = data
    info = None
    for key in loc:
        if isinstance(key, int):
            node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            continue
        if isinstance(node, dict) and key not in node and (node.get("kind") == key or node.get("dist") == key):
            continue  # union tag inserted by pydantic
        model, dict_value = _resolve_model(ann, node)
        if model is not None and key in model.model_fields:
            info = model.model_fields[key]
            ann = info.annotation
        elif dict_value is not None:
            ann = dict_value
        else:
            return None
        node = node.get(key) if isinstance(node, dict) else None
    return info


def _bounds_of(info: Any) -> tuple[Any, Any, Any, Any]:
    ge = gt = le = lt = None
    for m in getattr(info, "metadata", []) or []:
        if isinstance(m, Ge):
            ge = m.ge
        elif isinstance(m, Gt):
            gt = m.gt
        elif isinstance(m, Le):
            le = m.le
        elif isinstance(m, Lt):
            lt = m.lt
    return ge, gt, le, lt


def _short(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


def format_validation_error(err: ValidationError, data: Any, root: type[BaseModel]) -> list[tuple[str, str]]:
    """Turn a pydantic ValidationError into ``[(field_path, message)]`` with value and allowed range."""
    out: list[tuple[str, str]] = []
    for e in err.errors(include_url=False):
        loc = tuple(e.get("loc", ()))
        ctx = e.get("ctx") or {}
        if e["type"] == "protocol_consistency":
            prefix = _loc_to_path(loc, data)
            path = str(ctx["path"])
            if prefix != "(top level)" and not path.startswith(prefix.split("[")[0].split(".")[0]):
                path = f"{prefix}.{path}"
            out.append((path, str(ctx["detail"])))
            continue
        path = _loc_to_path(loc, data)
        msg = str(e["msg"])
        msg = msg.removeprefix("Value error, ")
        value = e.get("input")
        if e["type"] == "missing":
            info = _field_info_for(loc, data, root)
            desc = f" ({info.description})" if info is not None and info.description else ""
            out.append((path, f"required field is missing{desc}"))
            continue
        if e["type"] == "extra_forbidden":
            parent = loc[:-1]
            allowed = _allowed_keys(parent, data, root)
            hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            out.append((path, f"unknown field (got {_short(value)}){hint}"))
            continue
        info = _field_info_for(loc, data, root)
        rng = _constraint_text(ctx, _bounds_of(info)) if info is not None or ctx else ""
        if e["type"] == "literal_error" and "expected" in ctx:
            rng = f"allowed: {ctx['expected']}"
            msg = "invalid choice"
        if e["type"] == "unknown_therapy_kind" and isinstance(value, dict):
            got = f"kind = {_short(value.get('kind'))}"
        else:
            got = _short(value)
        if "(got " in msg:
            detail = msg
        else:
            detail = f"{msg} (got {got}"
            detail += f"; {rng})" if rng and rng not in msg else ")"
        out.append((path, detail))
    return out


def _allowed_keys(loc: tuple[Any, ...], data: Any, root: type[BaseModel]) -> list[str]:
    """Field names accepted at ``loc`` (for 'unknown field' hints)."""
    if not loc:
        return list(root.model_fields)
    info = _field_info_for(loc, data, root)
    if info is None:
        return []
    node = data
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        elif isinstance(node, dict) and key in node:
            node = node[key]
    model, _ = _resolve_model(info.annotation, node)
    return list(model.model_fields) if model is not None else []
