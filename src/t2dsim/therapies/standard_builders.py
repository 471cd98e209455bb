"""Builders of the standard-care therapy kinds for the trial runner (t2dsim.trial.builders).

Importing this module registers one builder per kind (metformin, sulfonylurea, glp1ra, sglt2i,
lifestyle, basal_insulin, basal_bolus_insulin, treatment_plan); each turns a validated protocol spec
into a therapy object with :func:`t2dsim.therapies.specs.build_therapy`. Months are converted to days
with the BuildContext's days per month (365.25/12, the same as specs.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from t2dsim.therapies.base import Therapy
from t2dsim.therapies.specs import STANDARD_SPECS, build_therapy
from t2dsim.trial import protocol as P
from t2dsim.trial.builders import BuildContext, register_builder


def _builder(spec: object, ctx: BuildContext) -> Sequence[Therapy]:
    return [build_therapy(spec)]  # type: ignore[arg-type]


for _cls in STANDARD_SPECS:
    register_builder(P._kind_of(_cls))(_builder)
