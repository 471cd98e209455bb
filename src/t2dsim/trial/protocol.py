"""Trial protocol: Pydantic v2 models and TOML loading.

A protocol file (TOML) describes one virtual randomised trial: population, arms with treatment
plans, randomisation, duration and visits, measurements with assay error, dropout, endpoints,
analysis and responder definitions. The format is documented in ``docs/trial.md``.

:func:`load_protocol` turns every problem (missing file, TOML syntax, validation) into a single
:class:`ProtocolError` whose message lists each problem as ``field.path: what is wrong (got X;
allowed ...)``, so a CLI can print it without a traceback.

Therapy specifications form a discriminated union on ``kind`` over the kinds registered in
:mod:`t2dsim.core.registry`; each therapy module declares and registers its own spec (importing
:mod:`t2dsim.therapies` registers the built-in ones). The protocol models are rebuilt whenever a kind
is registered, so a plug-in kind is accepted at once.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

import t2dsim.therapies  # noqa: F401  (importing the package registers every built-in therapy kind)
from t2dsim.core.registry import TherapySpec, on_change, therapy_kinds
from t2dsim.core.specs import StrictModel, TherapySpecBase, spec_error
from t2dsim.therapies.stemcells.params import ensemble_size
from t2dsim.trial.measurement import MEASURES
from t2dsim.trial.population_spec import (
    CATEGORICAL_COVARIATES,
    COVARIATES,
    Bounds,
    InclusionCriteria,
    PopulationSpec,
)
from t2dsim.trial.protocol_errors import format_validation_error

__all__ = [
    "AnalysisSpec",
    "ArmSpec",
    "AssaySpec",
    "BackgroundSpec",
    "Bounds",
    "DropoutSpec",
    "EndpointSpec",
    "EndpointsSpec",
    "InclusionCriteria",
    "PopulationSpec",
    "Protocol",
    "PosteriorSpec",
    "ProtocolError",
    "RandomisationSpec",
    "ResponderSpec",
    "TherapySpec",
    "TherapySpecBase",
    "load_protocol",
    "parse_protocol",
    "protocol_sha256",
    "therapy_kinds",
]


class ProtocolError(ValueError):
    """A protocol could not be read or is invalid. ``str(err)`` is a complete user-facing message.

    Attributes:
        problems: list of ``(field_path, message)``.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


# Arms, randomisation, measurements, endpoints, analysis
# ----------------------------------------------------------------------------------------------

_NAME = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", min_length=1, max_length=40)]


class ArmSpec(StrictModel):
    """One arm: a name, the number randomised, and the treatment plan (list of therapy specs)."""

    name: _NAME
    # up to 10^6: a large trial streams its chunks to Parquet parts (docs/scale.md); --max-memory refuses a plan
    # that cannot fit
    n: int = Field(ge=1, le=1_000_000, description="patients randomised to this arm")
    treatment: list[TherapySpec] = Field(default_factory=list)
    description: str = ""


class BackgroundSpec(StrictModel):
    """The regimen every patient is on before randomisation and keeps in every arm (``[background]``): its therapies
    start ``run_in_months`` before randomisation, so the baseline (and the inclusion criteria and baseline targets)
    are measured on it, and an arm's change from baseline holds only what the arm adds."""

    treatment: list[TherapySpec] = Field(default_factory=list)
    run_in_months: float = Field(default=0.0, ge=0, le=60, description="months on the background before baseline")
    description: str = ""


class RandomisationSpec(StrictModel):
    """Seeded stratified permuted-block randomisation (see ``trial.randomisation``)."""

    seed: int = Field(default=20240101, ge=0, le=2**63 - 1)
    stratify_by: list[str] = Field(default_factory=list, max_length=4)
    cutpoints: dict[str, list[float]] = Field(
        default_factory=dict, description="cut points to bin continuous stratification factors"
    )
    block_multipliers: list[Annotated[int, Field(ge=1, le=10)]] = Field(
        default_factory=lambda: [1, 2], min_length=1, description="block size = multiplier x sum of ratio"
    )

    @model_validator(mode="after")
    def _factors(self) -> RandomisationSpec:
        allowed = set(COVARIATES) | set(CATEGORICAL_COVARIATES)
        for i, f in enumerate(self.stratify_by):
            if f not in allowed:
                raise spec_error(
                    f"randomisation.stratify_by[{i}]",
                    f"unknown factor {f!r}; allowed: {', '.join(sorted(allowed))}",
                )
            if f in COVARIATES and f not in self.cutpoints:
                raise spec_error(
                    f"randomisation.cutpoints.{f}",
                    f"continuous factor {f!r} needs cut points, e.g. {f} = [8.5]",
                )
        for f, cuts in self.cutpoints.items():
            if f not in self.stratify_by:
                raise spec_error(f"randomisation.cutpoints.{f}", f"{f!r} is not in stratify_by {self.stratify_by}")
            if not cuts or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
                raise spec_error(
                    f"randomisation.cutpoints.{f}",
                    f"cut points must be non-empty and increasing (got {cuts})",
                )
        return self


class AssaySpec(StrictModel):
    """Override of a measure's assay error CVs (fractions: 0.02 = 2 %)."""

    cv_analytical: float | None = Field(default=None, ge=0, le=1)
    cv_within_subject: float | None = Field(default=None, ge=0, le=1)


class DropoutSpec(StrictModel):
    """Constant-hazard dropout: probability of dropping out within 12 months, overall or per arm."""

    annual_rate: float = Field(default=0.10, ge=0, lt=1)
    per_arm: dict[str, Annotated[float, Field(ge=0, lt=1)]] = Field(default_factory=dict)


def _clinical_measure(v: str) -> str:
    if v not in MEASURES or MEASURES[v].kind != "clinical":
        allowed = sorted(k for k, m in MEASURES.items() if m.kind == "clinical")
        raise ValueError(f"unknown clinical measure {v!r}; allowed: {', '.join(allowed)}")
    return v


class EndpointSpec(StrictModel):
    """Change from baseline (visit 0) of ``measure`` at ``visit_month``."""

    measure: str
    visit_month: float = Field(gt=0, le=600)
    name: str | None = None
    type: Literal["change_from_baseline"] = "change_from_baseline"

    @field_validator("measure")
    @classmethod
    def _known(cls, v: str) -> str:
        return _clinical_measure(v)

    @property
    def label(self) -> str:
        """Name used in tables: ``name`` or e.g. ``HbA1c (%), change at month 12``."""
        info = MEASURES[self.measure]
        return self.name or f"{info.label} ({info.unit}), change at month {self.visit_month:.4g}"


class EndpointsSpec(StrictModel):
    """Primary and secondary endpoints."""

    primary: EndpointSpec
    secondary: list[EndpointSpec] = Field(default_factory=list)


class AnalysisSpec(StrictModel):
    """Analysis: ANCOVA of change from baseline with baseline as covariate."""

    method: Literal["ancova"] = "ancova"
    reference_arm: str | None = Field(default=None, description="control arm; default the first arm")
    alpha: float = Field(default=0.05, gt=0, le=0.2)
    missing: Literal["complete_case", "locf"] = "complete_case"


class ResponderSpec(StrictModel):
    """A responder definition evaluated at one visit.

    Rules: ``value_below`` (value < threshold), ``value_at_most`` (value <= threshold),
    ``value_above`` (value > threshold), ``percent_reduction_at_least`` (100*(baseline-value)/baseline
    >= threshold), ``change_at_most`` (value - baseline <= threshold).
    """

    name: str = Field(min_length=1, max_length=80)
    measure: str
    visit_month: float = Field(gt=0, le=600)
    rule: Literal["value_below", "value_at_most", "value_above", "percent_reduction_at_least", "change_at_most"]
    threshold: float

    @field_validator("measure")
    @classmethod
    def _known(cls, v: str) -> str:
        return _clinical_measure(v)


class PosteriorSpec(StrictModel):
    """Parameter uncertainty (docs/trial.md, "Posterior draws"): the trial is run again on the same patients for
    each of the first ``draws`` members of the stem-cell posterior ensemble (``calibrated_ensemble``)."""

    draws: int = Field(default=0, strict=True, description="posterior draws K; 0 = the calibrated central values only")

    @field_validator("draws")
    @classmethod
    def _in_ensemble(cls, v: int) -> int:
        n = ensemble_size()
        if not 0 <= v <= n:
            raise ValueError(
                f"allowed range 0 to {n} (the members of the shipped posterior ensemble, "
                "t2dsim/therapies/stemcells/calibrated/stemcells.json)"
            )
        return v


class Protocol(StrictModel):
    """A complete virtual-trial protocol. Build with :func:`load_protocol` or :func:`parse_protocol`."""

    name: str = Field(default="trial", min_length=1, max_length=120)
    description: str = ""
    population: PopulationSpec
    arms: list[ArmSpec] = Field(min_length=1, max_length=20)
    background: BackgroundSpec = Field(default_factory=BackgroundSpec)
    randomisation: RandomisationSpec = Field(default_factory=RandomisationSpec)
    duration_months: float = Field(gt=0, le=600)
    visit_months: list[float] = Field(min_length=2, max_length=200)
    measurements: list[str] = Field(default_factory=lambda: ["hba1c_percent", "fpg_mgdl"], min_length=1)
    assay_error: bool = True
    assay: dict[str, AssaySpec] = Field(default_factory=dict)
    dropout: DropoutSpec = Field(default_factory=DropoutSpec)
    endpoints: EndpointsSpec
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    responders: list[ResponderSpec] = Field(default_factory=list)
    posterior: PosteriorSpec = Field(default_factory=PosteriorSpec)
    glycation: Literal["fasting_line", "meal_days"] = Field(
        default="fasting_line",
        description="where HbA1c comes from: fasting_line = the progression model's glycation of the mean glucose "
        "read off fasting glucose (Wei 2014 line); meal_days = one glucose truth: weekly meal-model days (the CGM "
        "visit's day) drive glycation towards the GMI of their mean glucose (engine.glycation_days)",
    )
    trial_effect: bool = Field(
        default=True,
        description="give every arm the trial-participation effect fitted to the sham arms of the stem-cell "
        "trials (therapies.stemcells.PlaceboTrialEffect); false simulates care outside a trial",
    )

    _source_text: str | None = PrivateAttr(default=None)
    _source_path: str | None = PrivateAttr(default=None)

    @field_validator("measurements")
    @classmethod
    def _measures(cls, v: list[str]) -> list[str]:
        for i, m in enumerate(v):
            if m not in MEASURES:
                raise spec_error(f"measurements[{i}]", f"unknown measure {m!r}; allowed: {', '.join(sorted(MEASURES))}")
        if len(set(v)) != len(v):
            raise ValueError("measures must not repeat")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        names = [a.name for a in self.arms]
        for i, n in enumerate(names):
            if names.index(n) != i:
                raise spec_error(f"arms[{i}].name", f"arm name {n!r} is used twice; names must be unique")
        v = self.visit_months
        if v[0] != 0:
            raise spec_error("visit_months[0]", f"the first visit must be baseline 0 (got {v[0]:g})")
        for i in range(1, len(v)):
            if v[i] <= v[i - 1]:
                got = f"got {v[i]:g} after {v[i - 1]:g}"
                raise spec_error(f"visit_months[{i}]", f"visits must increase strictly ({got})")
        if v[-1] > self.duration_months:
            raise spec_error(
                f"visit_months[{len(v) - 1}]",
                f"{v[-1]:g} is after the end of the trial; allowed range [0, {self.duration_months:g}] months",
            )
        ep = [("endpoints.primary", self.endpoints.primary)]
        ep += [(f"endpoints.secondary[{i}]", e) for i, e in enumerate(self.endpoints.secondary)]
        ep += [(f"responders[{i}]", r) for i, r in enumerate(self.responders)]
        for path, e in ep:
            if e.measure not in self.measurements:
                raise spec_error(
                    f"{path}.measure",
                    f"{e.measure!r} is not measured; allowed: {', '.join(self.measurements)}",
                )
            if e.visit_month not in v:
                raise spec_error(
                    f"{path}.visit_month",
                    f"{e.visit_month:g} is not a visit; allowed: {', '.join(f'{x:g}' for x in v if x > 0)}",
                )
        ref = self.analysis.reference_arm
        if ref is not None and ref not in names:
            raise spec_error("analysis.reference_arm", f"unknown arm {ref!r}; allowed: {', '.join(names)}")
        for arm in self.dropout.per_arm:
            if arm not in names:
                raise spec_error(f"dropout.per_arm.{arm}", f"unknown arm {arm!r}; allowed: {', '.join(names)}")
        for m in self.assay:
            if m not in self.measurements:
                raise spec_error(f"assay.{m}", f"{m!r} is not in measurements; allowed: {', '.join(self.measurements)}")
        bg_kinds = {t.kind for t in self.background.treatment}
        for j, t in enumerate(self.background.treatment):
            if t.start_month != 0 or t.stop_month is not None:
                raise spec_error(
                    f"background.treatment[{j}].start_month",
                    f"background therapies run from the start of the run-in to the end (got start_month="
                    f"{t.start_month:g}, stop_month={t.stop_month}); allowed: start_month 0, no stop_month",
                )
        for i, arm in enumerate(self.arms):
            for j, t in enumerate(arm.treatment):
                if t.kind in bg_kinds:
                    raise spec_error(
                        f"arms[{i}].treatment[{j}].kind",
                        f"{t.kind!r} is already in background.treatment (patients are on it in every arm); "
                        "allowed: kinds not in the background",
                    )
                if t.start_month >= self.duration_months:
                    raise spec_error(
                        f"arms[{i}].treatment[{j}].start_month",
                        f"{t.start_month:g} is not before the end of the trial; allowed range "
                        f"[0, {self.duration_months:g}) months",
                    )
        return self

    # convenience -------------------------------------------------------------------------
    @property
    def reference_arm(self) -> str:
        """The control arm used in comparisons."""
        return self.analysis.reference_arm or self.arms[0].name

    @property
    def source_text(self) -> str | None:
        """The TOML text this protocol was parsed from (None if built in code)."""
        return self._source_text

    @property
    def sha256(self) -> str:
        """SHA-256 of the source text, or of the canonical JSON dump if built in code."""
        return protocol_sha256(self._source_text if self._source_text is not None else self.model_dump_json())

    def arm(self, name: str) -> ArmSpec:
        """The arm called ``name``."""
        for a in self.arms:
            if a.name == name:
                return a
        raise KeyError(f"no arm {name!r}; arms: {[a.name for a in self.arms]}")


# ----------------------------------------------------------------------------------------------
# Loading and error formatting
# ----------------------------------------------------------------------------------------------


def protocol_sha256(text: str) -> str:
    """Hex SHA-256 of a protocol's text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_protocol(text: str, source: str = "<protocol>") -> Protocol:
    """Parse and validate protocol TOML text.

    Raises:
        ProtocolError: with one line per problem, each naming the field path.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{source}: TOML syntax error: {exc}", [("(toml)", str(exc))]) from None
    try:
        proto = Protocol.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_error(exc, data, Protocol)
        lines = [f"{source}: invalid protocol ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
        lines += [f"  - {p}: {m}" for p, m in problems]
        raise ProtocolError("\n".join(lines), problems) from None
    proto._source_text = text
    proto._source_path = source
    return proto


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol TOML file.

    Raises:
        ProtocolError: file missing/unreadable, TOML syntax error, or invalid content; the message
            names each offending field with its value and the allowed range.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProtocolError(f"{p}: protocol file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{p}: cannot read protocol file: {exc}") from None
    return parse_protocol(text, source=str(p))


def _rebuild_models() -> None:
    """Rebuild the models that embed the therapy union (inner first) after a registry change."""
    for model in (ArmSpec, BackgroundSpec, Protocol):
        if model.__pydantic_complete__:
            model.model_rebuild(force=True)


on_change(_rebuild_models)
