"""Stem-cell therapies: MSC, BM-MNC, β-cell replacement grafts, placebo/trial effect, and the
tissue-regeneration hypothesis, with their risks. See docs/stem_cells.md."""

from t2dsim.therapies.stemcells.bmmnc import BMMNCTherapy
from t2dsim.therapies.stemcells.islets import IsletGraft
from t2dsim.therapies.stemcells.msc import MSCTherapy
from t2dsim.therapies.stemcells.params import (
    BMMNCParams,
    IsletParams,
    MSCParams,
    PlaceboParams,
    calibrated,
    calibrated_ensemble,
)
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect
from t2dsim.therapies.stemcells.regeneration import TissueRegeneration, regeneration_hazard_modifiers
from t2dsim.therapies.stemcells.risks import UNREGULATED_CLINIC_WARNING
from t2dsim.therapies.stemcells.specs import IsletGraftSpec, PlaceboInfusionSpec, UCMSCSpec

__all__ = [
    "BMMNCParams",
    "BMMNCTherapy",
    "IsletGraft",
    "IsletGraftSpec",
    "PlaceboInfusionSpec",
    "UCMSCSpec",
    "IsletParams",
    "MSCParams",
    "MSCTherapy",
    "PlaceboParams",
    "PlaceboTrialEffect",
    "TissueRegeneration",
    "UNREGULATED_CLINIC_WARNING",
    "calibrated",
    "calibrated_ensemble",
    "regeneration_hazard_modifiers",
]
