"""Tissue regeneration against complications (vessels, nerves, kidney): a HYPOTHESIS.

There is no solid human evidence that stem cells lower the hazard of diabetic complications: claims
rest on Hu 2016 (complication incidence, definitions not retrieved) and small eGFR trials (Packham
2016; Perico 2023). The default is no effect. When switched on, the complications model
(outcomes/ukpds_om2.py) receives hazard multipliers with an explicit uncertainty range that includes
1 (no effect), and the label "hypothesis, no solid human evidence" travels with every result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from t2dsim.therapies.base import PatientContext, Risk, Therapy
from t2dsim.therapies.stemcells.risks import UNREGULATED_CLINIC_WARNING

__all__ = [
    "HAZARD_GROUPS",
    "HYPOTHESIS_LABEL",
    "SCENARIOS",
    "TISSUE_REGENERATION_RANGES",
    "HazardModifiers",
    "TissueRegeneration",
    "regeneration_hazard_modifiers",
    "tissue_regeneration_modifiers",
]

#: Event groups of the complications model (UKPDS OM2) a hazard multiplier may act on.
HAZARD_GROUPS: tuple[str, ...] = ("mi", "ihd", "stroke", "chf", "amputation", "blindness", "renal", "ulcer")

SCENARIOS = ("none", "null", "central", "optimistic")

HYPOTHESIS_LABEL = "hypothesis, no solid human evidence"


@dataclass(frozen=True)
class HazardModifiers:
    """Multipliers on the annual hazard of selected event groups (1 = no change).

    Applied as ``p' = 1 - (1 - p)^m``, i.e. the cycle's cumulative hazard ``-ln(1 - p)`` is
    multiplied by ``m`` (for the logistic ulcer equation this treats ``-ln(1-p)`` as its hazard).
    Groups: ``mi, ihd, stroke, chf, amputation, blindness, renal, ulcer``.
    """

    multipliers: Mapping[str, float]
    label: str = ""
    uncertainty: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k, v in self.multipliers.items():
            if k not in HAZARD_GROUPS:
                raise ValueError(f"hazard modifier: unknown event group {k!r}; allowed: {list(HAZARD_GROUPS)}")
            if not (np.isfinite(v) and v >= 0.0):
                raise ValueError(f"hazard modifier {k}: multiplier must be >= 0, got {v}")


#: Tissue-regeneration hypothesis of the stem-cell issue: NOT evidence-based. Central values and
#: ranges are illustrative assumptions chosen by t2dsim (no human outcome data exist); the range
#: includes 1.0 (no effect). Off by default: pass explicitly via ``OM2Inputs.hazard_modifiers``.
TISSUE_REGENERATION_RANGES: Mapping[str, tuple[float, float, float]] = MappingProxyType(
    {
        # group: (optimistic, central, null)
        "renal": (0.5, 0.8, 1.0),
        "blindness": (0.6, 0.85, 1.0),
        "ulcer": (0.6, 0.85, 1.0),
        "amputation": (0.6, 0.85, 1.0),
        "chf": (0.75, 0.9, 1.0),
    }
)


def tissue_regeneration_modifiers(scenario: str = "central") -> HazardModifiers:
    """Hazard multipliers for the tissue-regeneration hypothesis (``optimistic|central|null``)."""
    idx = {"optimistic": 0, "central": 1, "null": 2}
    if scenario not in idx:
        raise ValueError(f"scenario must be one of {list(idx)}, got {scenario!r}")
    return HazardModifiers(
        multipliers={k: v[idx[scenario]] for k, v in TISSUE_REGENERATION_RANGES.items()},
        label=f"tissue regeneration ({scenario}): {HYPOTHESIS_LABEL}",
        uncertainty={k: (v[0], v[2]) for k, v in TISSUE_REGENERATION_RANGES.items()},
    )


def regeneration_hazard_modifiers(scenario: str = "none") -> HazardModifiers | None:
    """Hazard modifiers for the complications model. ``"none"`` (default) returns None (no effect);
    ``"null" | "central" | "optimistic"`` return labelled multipliers with their uncertainty ranges."""
    if scenario not in SCENARIOS:
        raise ValueError(f"regeneration scenario must be one of {SCENARIOS} (got {scenario!r})")
    if scenario == "none":
        return None
    return tissue_regeneration_modifiers(scenario)


class TissueRegeneration(Therapy):
    """A switch carried in a treatment plan: no glycaemic effect; its complication-hazard modifiers
    are read by the outcomes layer via :meth:`hazard_modifiers`."""

    kind = "tissue_regeneration"
    label = HYPOTHESIS_LABEL
    risks: tuple[Risk, ...] = (UNREGULATED_CLINIC_WARNING,)

    def __init__(self, scenario: str = "none", start_day: int = 0) -> None:
        super().__init__(start_day=start_day)
        if scenario not in SCENARIOS:
            raise ValueError(f"tissue_regeneration.scenario must be one of {SCENARIOS} (got {scenario!r})")
        self.scenario = scenario

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {}

    def hazard_modifiers(self) -> HazardModifiers | None:
        return regeneration_hazard_modifiers(self.scenario)
