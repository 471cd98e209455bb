"""Builders of the stem-cell protocol kinds (uc_msc, islet_graft, placebo_infusion) for the trial runner."""

from __future__ import annotations

from collections.abc import Sequence

from t2dsim.therapies.base import Therapy
from t2dsim.therapies.stemcells.placebo import ShamInfusion
from t2dsim.therapies.stemcells.specs import STEM_CELL_KINDS, from_spec
from t2dsim.trial.builders import BuildContext, register_builder


def _builder(spec: object, ctx: BuildContext) -> Sequence[Therapy]:
    if getattr(spec, "stop_month", None) is not None:
        raise ValueError(
            f"{spec.kind}.stop_month: not supported for cell therapies (cells act from their infusion days; "
            "give n_infusions/interval_months instead); allowed: leave stop_month unset"
        )
    if getattr(spec, "kind", None) == "placebo_infusion":
        # The trial-participation effect is given to every arm by the runner; the sham adds only its risks.
        return [ShamInfusion(start_day=ctx.day(getattr(spec, "start_month", 0.0)) or 0)]
    return [from_spec(spec)]


for _kind in STEM_CELL_KINDS:
    register_builder(_kind)(_builder)
