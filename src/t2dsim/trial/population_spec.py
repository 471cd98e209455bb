"""Protocol specification of the population: covariates with their plausibility ranges, distributions,
inclusion criteria and the preset (Pydantic v2). Errors name the field and the allowed range."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from t2dsim.core.specs import StrictModel, spec_error
from t2dsim.population.baseline_targets import TARGETABLE
from t2dsim.population.presets import PRESETS

__all__ = [
    "CATEGORICAL_COVARIATES",
    "COVARIATES",
    "Bounds",
    "CategoricalDist",
    "Distribution",
    "FixedDist",
    "InclusionCriteria",
    "LogNormalDist",
    "NormalDist",
    "PopulationSpec",
    "UniformDist",
]


# ----------------------------------------------------------------------------------------------
# Covariates (baseline characteristics) and plausibility ranges for input checking
# ----------------------------------------------------------------------------------------------

#: Baseline covariates a protocol may give distributions for or filter on: name -> (unit, lo, hi).
#: The ranges are plausibility bounds for input checking (adult T2D), not population statistics.
COVARIATES: dict[str, tuple[str, float, float]] = {
    "age_years": ("years", 18.0, 100.0),
    "bmi_kg_m2": ("kg/m²", 15.0, 70.0),
    "weight_kg": ("kg", 35.0, 250.0),
    "diabetes_duration_years": ("years", 0.0, 60.0),
    "hba1c_percent": ("%", 4.0, 16.0),
    "fpg_mgdl": ("mg/dL", 50.0, 500.0),
    "fasting_cpeptide_pmol_l": ("pmol/L", 0.0, 5000.0),
    "fasting_insulin_pmol_l": ("pmol/L", 0.0, 3000.0),
    "insulin_u_per_kg_day": ("U/kg/day", 0.0, 3.0),
    "insulin_u_per_day": ("U/day", 0.0, 300.0),
}
#: Categorical covariates and their levels.
CATEGORICAL_COVARIATES: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male"),
    "insulin_use": ("no", "yes"),
}


def _covariate_range(name: str) -> str:
    unit, lo, hi = COVARIATES[name]
    return f"[{lo:g}, {hi:g}] {unit}"


class Bounds(StrictModel):
    """A closed interval ``[min, max]``; either end may be omitted (unbounded)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise spec_error("max", f"max ({self.max:g}) must be >= min ({self.min:g})")
        return self

    def contains(self, lo: float, hi: float) -> bool:
        """Whether this interval lies inside ``[lo, hi]``."""
        return (self.min is None or lo <= self.min <= hi) and (self.max is None or lo <= self.max <= hi)


# ----------------------------------------------------------------------------------------------
# Population
# ----------------------------------------------------------------------------------------------


class NormalDist(StrictModel):
    """Normal distribution (``mean``, ``sd`` in the covariate's unit), optionally truncated to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None


class LogNormalDist(StrictModel):
    """Log-normal: ``median`` in the covariate's unit, ``sigma_log`` the SD of the natural log."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma_log: float = Field(gt=0, le=3)
    low: float | None = None
    high: float | None = None


class UniformDist(StrictModel):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> UniformDist:
        if not self.low < self.high:
            raise spec_error("high", f"high ({self.high:g}) must be > low ({self.low:g})")
        return self


class FixedDist(StrictModel):
    """Every patient gets ``value``."""

    dist: Literal["fixed"]
    value: float


class CategoricalDist(StrictModel):
    """Categorical covariate: ``probabilities`` maps level -> probability (sums to 1)."""

    dist: Literal["categorical"]
    probabilities: dict[str, Annotated[float, Field(ge=0, le=1)]]

    @field_validator("probabilities")
    @classmethod
    def _sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        if not math.isclose(sum(v.values()), 1.0, abs_tol=1e-6):
            raise ValueError(f"probabilities must sum to 1 (got {sum(v.values()):g})")
        return v


Distribution = Annotated[
    NormalDist | LogNormalDist | UniformDist | FixedDist | CategoricalDist, Field(discriminator="dist")
]


class InclusionCriteria(StrictModel):
    """Inclusion/exclusion on baseline covariates; a patient is eligible if inside every given interval."""

    age_years: Bounds | None = None
    bmi_kg_m2: Bounds | None = None
    diabetes_duration_years: Bounds | None = None
    hba1c_percent: Bounds | None = None
    fasting_cpeptide_pmol_l: Bounds | None = None
    insulin_u_per_kg_day: Bounds | None = None
    insulin_use: Literal["any", "required", "excluded"] = "any"

    @model_validator(mode="after")
    def _plausible(self) -> InclusionCriteria:
        for name in COVARIATES:
            b = getattr(self, name, None)
            if b is not None:
                _, lo, hi = COVARIATES[name]
                for end in ("min", "max"):
                    v = getattr(b, end)
                    if v is not None and not lo <= v <= hi:
                        allowed = _covariate_range(name)
                        raise spec_error(f"{name}.{end}", f"{v:g} is outside the allowed range {allowed}")
        return self


class PopulationSpec(StrictModel):
    """Who is simulated: a named preset and/or explicit covariate distributions, then inclusion criteria."""

    preset: str | None = Field(default=None, min_length=1, max_length=80)
    distributions: dict[str, Distribution] = Field(default_factory=dict)
    inclusion: InclusionCriteria = Field(default_factory=InclusionCriteria)
    max_screening_factor: float = Field(
        default=20.0, ge=1, le=1000, description="screen at most this many candidates per randomised patient"
    )
    baseline_pool_factor: float = Field(
        default=5.0,
        ge=1,
        le=100,
        description="eligible candidates per randomised patient from which a cohort with the requested baseline "
        "distributions is matched (population.baseline_targets)",
    )

    @property
    def baseline_targets(self) -> dict[str, Distribution]:
        """The requested baseline distributions the screened cohort is matched to (with a preset): the
        distributions of HbA1c, FPG, BMI, duration, insulin dose and fasting C-peptide."""
        if self.preset is None:
            return {}
        return {k: d for k, d in self.distributions.items() if k in TARGETABLE}

    @model_validator(mode="after")
    def _check(self) -> PopulationSpec:
        if self.preset is None and not self.distributions:
            raise spec_error("population", "give a preset name or [population.distributions] (both are allowed)")
        if self.preset is not None:
            known = set(PRESETS)
            if known is not None and self.preset not in known:
                raise spec_error(
                    "population.preset",
                    f"unknown preset {self.preset!r}; allowed: {', '.join(sorted(known))}",
                )
        for name, d in self.distributions.items():
            path = f"population.distributions.{name}"
            if name in CATEGORICAL_COVARIATES:
                if not isinstance(d, CategoricalDist):
                    raise spec_error(path, f"{name} is categorical: use dist = 'categorical'")
                bad = set(d.probabilities) - set(CATEGORICAL_COVARIATES[name])
                if bad:
                    raise spec_error(
                        path + ".probabilities",
                        f"unknown level(s) {sorted(bad)}; allowed: {', '.join(CATEGORICAL_COVARIATES[name])}",
                    )
                continue
            if name not in COVARIATES:
                allowed = sorted(COVARIATES) + sorted(CATEGORICAL_COVARIATES)
                raise spec_error(path, f"unknown covariate {name!r}; allowed: {', '.join(allowed)}")
            if isinstance(d, CategoricalDist):
                raise spec_error(path, f"{name} is continuous: use normal, lognormal, uniform or fixed")
            if self.preset is not None and name in TARGETABLE and d.dist == "fixed":
                raise spec_error(
                    f"{path}.dist",
                    f"a baseline target of {name} needs a spread with preset {self.preset!r}; "
                    "allowed: normal, lognormal, uniform",
                )
            _, lo, hi = COVARIATES[name]
            centre = {"normal": "mean", "lognormal": "median", "fixed": "value"}.get(d.dist)
            checks = [centre] if centre else []
            checks += [k for k in ("low", "high") if getattr(d, k, None) is not None]
            for key in checks:
                v = getattr(d, key)
                if not lo <= v <= hi:
                    raise spec_error(f"{path}.{key}", f"{v:g} is outside the allowed range {_covariate_range(name)}")
        return self


# ----------------------------------------------------------------------------------------------
