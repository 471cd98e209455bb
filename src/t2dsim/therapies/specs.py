"""Pydantic specifications of the standard-care therapies and the factory that builds them.

The spec classes extend the built-in ones of :mod:`t2dsim.trial.protocol` (same ``kind`` and fields, so
existing protocol files stay valid) with the options the simulator uses (adherence, insulin type,
titration algorithm, eGFR, ...), and add two kinds: ``basal_bolus_insulin`` and ``treatment_plan``.
:func:`register_specs` puts them into the protocol registry (``register_therapy_spec(..., replace=True)``)
and is called when this module is imported.

Errors are refused with messages that name the field and its allowed range, e.g.
``metformin.dose_mg_per_day: -5 is outside the allowed range [0, 3000] mg/day``; unknown kinds or drugs
list the allowed values; overlapping schedules of the same kind name both entries.

Times in specs are months after randomisation (``start_month``/``stop_month``), converted to days with
365.25/12 days per month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from t2dsim.core.calendar import month_to_day
from t2dsim.therapies.base import Therapy
from t2dsim.therapies.drugs import GLP1RA, Metformin, SGLT2Inhibitor, StandardCareTherapy, Sulfonylurea
from t2dsim.therapies.insulin import BasalBolus, BasalInsulin
from t2dsim.therapies.lifestyle import Lifestyle
from t2dsim.therapies.plan import TreatmentPlan
from t2dsim.trial import protocol as P

__all__ = [
    "BasalBolusInsulinSpec",
    "BasalInsulinSpec",
    "GLP1RASpec",
    "LifestyleSpec",
    "MetforminSpec",
    "SGLT2iSpec",
    "STANDARD_SPECS",
    "SulfonylureaSpec",
    "TreatmentPlanSpec",
    "build_therapies",
    "build_therapy",
    "parse_spec",
    "register_specs",
]

_ADH = Field(default=1.0, ge=0, le=1, description="fraction of doses taken (0-1)")


class MetforminSpec(P.MetforminSpec):
    """Metformin, 250-3000 mg/day (the protocol's range; EU SmPC maximum 3000 mg/day)."""

    adherence: float = _ADH


class SulfonylureaSpec(P.SulfonylureaSpec):
    """Sulfonylurea; dose within the label range of the drug (mg/day)."""

    adherence: float = _ADH


class GLP1RASpec(P.GLP1RASpec):
    """GLP-1 receptor agonist; ``dose_mg`` per injection within the label range."""

    adherence: float = _ADH


class SGLT2iSpec(P.SGLT2iSpec):
    """SGLT2 inhibitor; ``egfr_ml_min`` (15-200 mL/min) scales urinary glucose loss (default 90)."""

    adherence: float = _ADH
    egfr_ml_min: float | None = Field(default=None, ge=15, le=200, description="mL/min")


class LifestyleSpec(P.LifestyleSpec):
    """Diet and exercise programme; acts through the weight lost."""

    weight_loss_sd_percent: float | None = Field(default=None, ge=0, le=15, description="% of body weight")
    regain_percent_per_year: float = Field(default=0.0, ge=0, le=20, description="% of body weight per year")


class _TitrationConduct(P.TherapySpecBase):
    """Titration conduct shared by the basal and basal-bolus insulin specs (``BasalInsulin`` arguments)."""

    titration_adherence: float | None = Field(
        default=None, ge=0, le=1, description="median probability a due dose increase is made (default 1)"
    )
    titration_fatigue_per_visit: float | None = Field(
        default=None,
        ge=0,
        le=10,
        description="λ per visit near target (default 0; 1.5 = calibrated on Riddle 2003 trial conduct)",
    )


class BasalInsulinSpec(P.BasalInsulinSpec, _TitrationConduct):
    """Basal insulin titrated to a fasting target (Riddle 2003 weekly algorithm by default)."""

    insulin: Literal["glargine", "nph"] = "glargine"
    start_dose_u: float | None = Field(default=None, ge=0, le=100, description="IU/day; overrides the per-kg dose")
    algorithm: Literal["riddle", "3-day"] = "riddle"
    titrate: bool = True
    adherence: float = _ADH


class BasalBolusInsulinSpec(_TitrationConduct):
    """Basal insulin plus prandial boluses (carbohydrate ratio and correction) on meal-model days."""

    kind: Literal["basal_bolus_insulin"]
    insulin: Literal["glargine", "nph"] = "glargine"
    start_dose_u_per_kg_day: float = Field(default=0.1, ge=0, le=2, description="IU/kg/day")
    start_dose_u: float | None = Field(default=None, ge=0, le=100, description="IU/day")
    target_fpg_mgdl: float = Field(default=100.0, ge=70, le=180, description="mg/dL")
    algorithm: Literal["riddle", "3-day"] = "riddle"
    basal_share: float = Field(default=0.5, ge=0.2, le=0.8, description="basal / total daily dose")
    correction_target_mgdl: float = Field(default=120.0, ge=80, le=200, description="mg/dL")
    adherence: float = _ADH


StepSpec = Annotated[
    MetforminSpec | SulfonylureaSpec | GLP1RASpec | SGLT2iSpec | BasalInsulinSpec | BasalBolusInsulinSpec
    | LifestyleSpec,
    Field(discriminator="kind"),
]  # fmt: skip


class TreatmentPlanSpec(P.TherapySpecBase):
    """Stepwise standard care: ``steps`` in order; the first ``n_initial`` start at once, each later one is
    added per patient after ``months_above`` months with HbA1c above ``hba1c_target_pct``."""

    kind: Literal["treatment_plan"]
    steps: list[StepSpec] = Field(min_length=1, max_length=8)
    n_initial: int = Field(default=1, ge=0, le=8)
    hba1c_target_pct: float = Field(default=7.0, ge=5.5, le=10.0, description="%")
    months_above: float = Field(default=3.0, ge=0.5, le=24.0, description="months")

    @model_validator(mode="after")
    def _consistent(self) -> TreatmentPlanSpec:
        if self.n_initial > len(self.steps):
            raise P._fail("n_initial", f"{self.n_initial} exceeds the number of steps ({len(self.steps)})")
        kinds = [s.kind for s in self.steps]
        dup = sorted({k for k in kinds if kinds.count(k) > 1})
        if dup:
            raise P._fail("steps", f"each kind may appear once (repeated: {', '.join(dup)})")
        return self


#: The spec classes this module provides (registered in the protocol registry).
STANDARD_SPECS: tuple[type[P.TherapySpecBase], ...] = (
    MetforminSpec, SulfonylureaSpec, GLP1RASpec, SGLT2iSpec, LifestyleSpec, BasalInsulinSpec,
    BasalBolusInsulinSpec, TreatmentPlanSpec,
)  # fmt: skip

_BY_KIND = {P._kind_of(c): c for c in STANDARD_SPECS}
AnySpec = Annotated[
    MetforminSpec | SulfonylureaSpec | GLP1RASpec | SGLT2iSpec | LifestyleSpec | BasalInsulinSpec
    | BasalBolusInsulinSpec | TreatmentPlanSpec,
    Field(discriminator="kind"),
]  # fmt: skip
_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnySpec)


def register_specs() -> None:
    """Register the standard-care spec classes with the protocol (replacing the built-in ones)."""
    for cls in STANDARD_SPECS:
        P.register_therapy_spec(cls, replace=True)


# ---------------------------------------------------------------------------------------------------
# Validation with clear messages
# ---------------------------------------------------------------------------------------------------


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
    lines = []
    kind = data.get("kind") if isinstance(data, Mapping) else None
    for e in err.errors():
        loc = [str(x) for x in e["loc"]]
        if e["type"] == "union_tag_invalid" or e["type"] == "union_tag_not_found":
            lines.append(f"kind: unknown or missing therapy kind {kind!r}; allowed: {', '.join(sorted(_BY_KIND))}")
            continue
        if loc and loc[0] in _BY_KIND:  # tagged-union branch name
            loc = loc[1:]
        path = ".".join(loc)
        got = e.get("input")
        extra = _bounds(_BY_KIND.get(kind), loc[-1]) if loc and e["type"] in (
            "greater_than_equal", "less_than_equal", "greater_than", "less_than") else ""  # fmt: skip
        shown = "" if isinstance(got, Mapping) else f" (got {got!r})"
        where = f"{kind or 'therapy'}.{path}" if path else f"{kind or 'therapy'}"
        lines.append(f"{where}: {e['msg'].removeprefix('Value error, ')}{shown}{extra}")
    return "; ".join(lines)


def parse_spec(data: Mapping[str, Any] | P.TherapySpecBase) -> P.TherapySpecBase:
    """Validate a therapy spec given as a mapping (or pass a spec object through).

    Raises ValueError naming the field and its allowed range."""
    if isinstance(data, P.TherapySpecBase):
        return data
    if not isinstance(data, Mapping):
        raise ValueError(f"a therapy spec must be a mapping with a 'kind' key, got {type(data).__name__}")
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as err:
        raise ValueError(_message(err, data)) from None


# ---------------------------------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------------------------------


def _days(month: float | None) -> int | None:
    return month_to_day(month)


def _window(spec: Any) -> dict[str, Any]:
    return {
        "start_day": _days(getattr(spec, "start_month", 0.0)) or 0,
        "stop_day": _days(getattr(spec, "stop_month", None)),
    }


def _basal_kwargs(spec: Any) -> dict[str, Any]:
    start_u = getattr(spec, "start_dose_u", None)
    kw: dict[str, Any] = {
        "insulin": getattr(spec, "insulin", "glargine"),
        "target_fpg_mgdl": spec.target_fpg_mgdl,
        "algorithm": getattr(spec, "algorithm", "riddle"),
        "adherence": getattr(spec, "adherence", 1.0),
    }
    for name in ("titration_adherence", "titration_fatigue_per_visit"):
        if getattr(spec, name, None) is not None:
            kw[name] = getattr(spec, name)
    if start_u is not None:
        kw["start_dose_u"] = start_u
    else:
        kw["start_dose_u_per_kg"] = spec.start_dose_u_per_kg_day
    return kw


def _build(spec: Any, window: bool = True) -> StandardCareTherapy | TreatmentPlan:
    w = _window(spec) if window else {}
    adh = getattr(spec, "adherence", 1.0)
    kind = spec.kind
    if kind == "metformin":
        return Metformin(spec.dose_mg_per_day, adherence=adh, **w)
    if kind == "sulfonylurea":
        return Sulfonylurea(spec.drug, spec.dose_mg_per_day, adherence=adh, **w)
    if kind == "glp1ra":
        return GLP1RA(spec.drug, spec.dose_mg, adherence=adh, **w)
    if kind == "sglt2i":
        return SGLT2Inhibitor(
            spec.drug, spec.dose_mg_per_day, egfr_ml_min=getattr(spec, "egfr_ml_min", None), adherence=adh, **w
        )
    if kind == "lifestyle":
        return Lifestyle(
            spec.target_weight_loss_percent, adherence=adh,
            weight_loss_sd_pct=getattr(spec, "weight_loss_sd_percent", None),
            regain_pct_per_year=getattr(spec, "regain_percent_per_year", 0.0), **w,
        )  # fmt: skip
    if kind == "basal_insulin":
        return BasalInsulin(titrate=getattr(spec, "titrate", True), **_basal_kwargs(spec), **w)
    if kind == "basal_bolus_insulin":
        return BasalBolus(
            basal_share=spec.basal_share, correction_target_mgdl=spec.correction_target_mgdl, **_basal_kwargs(spec), **w
        )
    if kind == "treatment_plan":
        steps = [_build(s, window=False) for s in spec.steps]
        return TreatmentPlan(
            steps, n_initial=spec.n_initial, hba1c_target_pct=spec.hba1c_target_pct, months_above=spec.months_above, **w
        )  # fmt: skip
    raise ValueError(
        f"kind: no standard-care simulator for therapy kind {kind!r}; allowed: {', '.join(sorted(_BY_KIND))}"
    )


def build_therapy(spec: Mapping[str, Any] | P.TherapySpecBase) -> Therapy:
    """One therapy object from a spec (mapping or validated spec object; built-in protocol specs work)."""
    return _build(parse_spec(spec))


def _kinds(spec: Any) -> set[str]:
    return {s.kind for s in spec.steps} if spec.kind == "treatment_plan" else {spec.kind}


def build_therapies(specs: Sequence[Mapping[str, Any] | P.TherapySpecBase]) -> list[Therapy]:
    """An arm's therapies from its treatment list; refuses overlapping schedules of the same kind
    (also a kind inside a treatment plan against the same kind outside it), naming both entries."""
    parsed = []
    for j, s in enumerate(specs):
        try:
            parsed.append(parse_spec(s))
        except ValueError as exc:
            raise ValueError(f"treatment[{j}]: {exc}") from None
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
    return [_build(s) for s in parsed]


register_specs()
