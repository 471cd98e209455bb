"""Long-term complications and survival: UKPDS Outcomes Model 2 (Hayes et al. 2013)."""

from t2dsim.outcomes.compare import compare_arms, format_comparison
from t2dsim.outcomes.rates import RateRatio, first_event_rates, rate_ratio
from t2dsim.outcomes.ukpds_om2 import (
    HYPOTHESIS_LABEL,
    OUTCOME_LABELS,
    OUTCOMES,
    HazardModifiers,
    OM2Inputs,
    OM2Result,
    equation_probability,
    load_coefficients,
    model_covariates,
    simulate,
    tissue_regeneration_modifiers,
)
from t2dsim.outcomes.utilities import UtilitySet, utility_set

__all__ = [
    "HYPOTHESIS_LABEL",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "HazardModifiers",
    "OM2Inputs",
    "OM2Result",
    "RateRatio",
    "UtilitySet",
    "compare_arms",
    "equation_probability",
    "first_event_rates",
    "format_comparison",
    "load_coefficients",
    "model_covariates",
    "rate_ratio",
    "simulate",
    "tissue_regeneration_modifiers",
    "utility_set",
]
