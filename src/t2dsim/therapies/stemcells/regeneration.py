"""Tissue regeneration against complications (vessels, nerves, kidney): a HYPOTHESIS.

There is no solid human evidence that stem cells lower the hazard of diabetic complications: claims
rest on Hu 2016 (complication incidence, definitions not retrieved) and small eGFR trials (Packham
2016; Perico 2023). The default is no effect. When switched on, the complications model
(outcomes/ukpds_om2.py) receives hazard multipliers with an explicit uncertainty range that includes
1 (no effect), and the label "hypothesis, no solid human evidence" travels with every result.
"""

from __future__ import annotations

import numpy as np

from t2dsim.outcomes.ukpds_om2 import HYPOTHESIS_LABEL, HazardModifiers, tissue_regeneration_modifiers
from t2dsim.therapies.base import PatientContext, Risk, Therapy
from t2dsim.therapies.stemcells.risks import UNREGULATED_CLINIC_WARNING

__all__ = ["TissueRegeneration", "regeneration_hazard_modifiers", "SCENARIOS", "HYPOTHESIS_LABEL"]

SCENARIOS = ("none", "null", "central", "optimistic")


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
