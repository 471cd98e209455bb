"""Builders of the stem-cell protocol kinds (uc_msc, islet_graft, placebo_infusion) for the trial runner."""

from __future__ import annotations

from collections.abc import Sequence

from t2dsim.therapies.base import Therapy
from t2dsim.therapies.stemcells.specs import STEM_CELL_KINDS, from_spec
from t2dsim.trial.builders import BuildContext, register_builder


def _builder(spec: object, ctx: BuildContext) -> Sequence[Therapy]:
    return [from_spec(spec)]


for _kind in STEM_CELL_KINDS:
    register_builder(_kind)(_builder)
