"""Protocol specifications of the stem-cell kinds and the therapy objects they build.

For the lead's / standard-care helper's spec → therapy factory: ``from_spec(spec)`` handles the
stem-cell kinds ``uc_msc``, ``islet_graft`` and ``placebo_infusion`` (duck-typed on the spec's fields,
so this module does not import the protocol layer). Months are converted with 365.25/12 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from t2dsim.core.calendar import month_to_day
from t2dsim.core.registry import BuildContext, register_therapy
from t2dsim.core.specs import TherapySpecBase, spec_error
from t2dsim.therapies.base import Therapy
from t2dsim.therapies.stemcells.bmmnc import BMMNCTherapy
from t2dsim.therapies.stemcells.islets import IsletGraft
from t2dsim.therapies.stemcells.msc import MSCTherapy
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect, ShamInfusion

__all__ = ["STEM_CELL_KINDS", "BMMNCSpec", "IsletGraftSpec", "PlaceboInfusionSpec", "UCMSCSpec", "from_spec"]

STEM_CELL_KINDS = ("uc_msc", "islet_graft", "placebo_infusion", "bmmnc")
_ROUTES = {"intravenous": "iv", "pancreatic_artery": "pancreatic_artery"}
_BMMNC_ROUTES = {"pancreatic_artery": "pancreatic_artery", "intravenous": "iv"}
_SITES = {
    "portal_vein": "portal_vein",
    "anterior_rectus_sheath": "muscle",
    "omentum": "omentum",
    "subcutaneous": "subcutaneous_device",
}
_SOURCES = {  # spec source -> (product, origin)
    "autologous_ipsc": ("sc_islet", "autologous"),
    "allogeneic_esc": ("sc_islet", "allogeneic"),
    "donor_islets": ("donor_islets", "allogeneic"),
}


def _day(months: float) -> int:
    return int(month_to_day(months))


def from_spec(spec: Any, diabetes_type: str = "t2d", params: Any = None) -> Therapy:
    """The therapy object for a stem-cell therapy spec (``spec.kind`` in STEM_CELL_KINDS); ``params``: the model's
    parameter set (MSCParams, BMMNCParams, PlaceboParams or IsletParams), None for the shipped calibration."""
    kind = getattr(spec, "kind", None)
    start = float(getattr(spec, "start_month", 0.0))
    if kind == "uc_msc":
        days = [_day(start + i * spec.interval_months) for i in range(int(spec.n_infusions))]
        product = getattr(spec, "product", "UC-MSC")
        return MSCTherapy(spec.cells_per_kg_per_infusion, days, product, _ROUTES[spec.route], params=params)
    if kind == "islet_graft":
        product, origin = _SOURCES[spec.source]
        n = int(getattr(spec, "n_infusions", 1))
        days = [_day(start + i * getattr(spec, "interval_months", 3.0)) for i in range(n)]
        cells = getattr(spec, "cells_per_infusion", None)
        dose = {"cells": [float(cells)] * n} if cells is not None else {"ieq_per_kg": [float(spec.ieq_per_kg)] * n}
        return IsletGraft(
            product,
            **dose,
            infusion_days=days,
            origin=origin,
            site=_SITES[spec.site],
            immunosuppression=bool(spec.immunosuppression),
            diabetes_type=diabetes_type,
            params=params,
        )
    if kind == "bmmnc":
        days = [_day(start + i * spec.interval_months) for i in range(int(spec.n_infusions))]
        routes = [_BMMNC_ROUTES[r] for r in (spec.routes or [spec.route] * len(days))]
        return BMMNCTherapy(float(spec.cells_per_infusion), days, routes, params=params)
    if kind == "placebo_infusion":
        return PlaceboTrialEffect(start_day=_day(start), params=params)
    raise ValueError(f"not a stem-cell therapy kind: {kind!r}; allowed: {', '.join(STEM_CELL_KINDS)}")


class PlaceboInfusionSpec(TherapySpecBase):
    """Sham/placebo infusions matching a cell-therapy schedule (no physiological effect)."""

    kind: Literal["placebo_infusion"]
    n_infusions: int = Field(default=1, ge=1, le=24)
    interval_months: float = Field(default=1.0, gt=0, le=24)
    risks: ClassVar[tuple[str, ...]] = ("infusion procedure risks",)


class UCMSCSpec(TherapySpecBase):
    """Umbilical-cord mesenchymal stromal cell infusions (``product``: the MSC product; every product has the same
    modelled potency, therapies/stemcells/msc.py MSC_PRODUCTS: no head-to-head human data)."""

    kind: Literal["uc_msc"]
    product: Literal["UC-MSC", "WJ-MSC", "BM-MSC", "PD-MSC", "AD-MSC", "MPC"] = Field(
        default="UC-MSC", description="MSC product (UC-MSC umbilical cord, WJ-MSC Wharton's jelly, MPC precursor cells)"
    )
    cells_per_kg_per_infusion: float = Field(default=1e6, ge=1e4, le=1e8, description="cells/kg")
    n_infusions: int = Field(default=3, ge=1, le=24)
    interval_months: float = Field(default=1.0, gt=0, le=24)
    route: Literal["intravenous", "pancreatic_artery"] = "intravenous"
    risks: ClassVar[tuple[str, ...]] = (
        "infusion reactions (fever, transient symptoms)",
        "thrombosis / embolism",
        "unknown long-term risks (ectopic tissue, tumourigenicity: theoretical)",
        "efficacy unproven: experimental therapy",
    )


class IsletGraftSpec(TherapySpecBase):
    """Stem-cell-derived (or donor) islet graft."""

    kind: Literal["islet_graft"]
    source: Literal["autologous_ipsc", "allogeneic_esc", "donor_islets"] = "autologous_ipsc"
    ieq_per_kg: float = Field(default=10000.0, ge=500, le=30000, description="islet equivalents per kg per infusion")
    cells_per_infusion: float | None = Field(
        default=None, ge=1e7, le=1e10, description="stem-cell-derived products dosed in cells (replaces ieq_per_kg), "
        "e.g. zimislecel 0.8e9 cells (Reichman 2025)",
    )
    n_infusions: int = Field(default=1, ge=1, le=4)
    interval_months: float = Field(default=3.0, gt=0, le=24, description="months between infusions")
    site: Literal["portal_vein", "anterior_rectus_sheath", "omentum", "subcutaneous"] = "anterior_rectus_sheath"
    immunosuppression: bool = False
    risks: ClassVar[tuple[str, ...]] = (
        "procedure: bleeding, portal vein thrombosis (intraportal site)",
        "infections and malignancy under immunosuppression",
        "teratoma / off-target tissue from residual undifferentiated cells",
        "graft loss (rejection, autoimmunity, hypoxia)",
        "efficacy unproven: experimental therapy",
    )

    @model_validator(mode="after")
    def _cells_for_stem_cell_products(self) -> IsletGraftSpec:
        if self.cells_per_infusion is not None and self.source == "donor_islets":
            raise spec_error("cells_per_infusion", "donor islets are dosed in ieq_per_kg; allowed: leave it unset")
        return self


class BMMNCSpec(TherapySpecBase):
    """Autologous bone-marrow mononuclear cells (:class:`~t2dsim.therapies.stemcells.bmmnc.BMMNCTherapy`).

    Dose range 1e7-5e9 cells per infusion (the model's range; the trials gave 0.5-1.2e9, Sood 2017 World J
    Diabetes 8:381); default one infusion of 1e9 into the pancreatic artery (Bhansali 2009 Stem Cells Dev 18:1407:
    a single infusion via the superior pancreaticoduodenal artery); the intravenous potency is a hypothesis
    (``BMMNCParams.iv_relative_potency``)."""

    kind: Literal["bmmnc"]
    cells_per_infusion: float = Field(default=1e9, ge=1e7, le=5e9, description="mononuclear cells")
    n_infusions: int = Field(default=1, ge=1, le=6)
    interval_months: float = Field(default=3.0, gt=0, le=24, description="months between infusions")
    route: Literal["pancreatic_artery", "intravenous"] = "pancreatic_artery"
    routes: list[Literal["pancreatic_artery", "intravenous"]] | None = Field(
        default=None,
        description="route of each infusion (overrides route; one per infusion), e.g. Bhansali 2014 RCT: "
        "pancreatic artery, then intravenous at 12 weeks",
    )
    risks: ClassVar[tuple[str, ...]] = (
        "bone-marrow aspiration (pain, bleeding)",
        "arterial catheterisation: haematoma, dissection, pancreatitis (pancreatic-artery route)",
        "efficacy unproven: experimental therapy",
    )

    @model_validator(mode="after")
    def _one_route_each(self) -> BMMNCSpec:
        if self.routes is not None and len(self.routes) != self.n_infusions:
            raise spec_error(
                "routes",
                f"{len(self.routes)} route(s) for {self.n_infusions} infusion(s); allowed: one route per infusion, "
                "or leave routes unset",
            )
        return self


#: Parameter group of each kind (BuildContext.cell_params key).
_GROUP = {"uc_msc": "msc", "islet_graft": "islet", "bmmnc": "bmmnc", "placebo_infusion": "placebo"}


def _builder(spec: Any, ctx: BuildContext) -> Sequence[Therapy]:
    if getattr(spec, "stop_month", None) is not None:
        raise ValueError(
            f"{spec.kind}.stop_month: not supported for cell therapies (cells act from their infusion days; "
            "give n_infusions/interval_months instead); allowed: leave stop_month unset"
        )
    if spec.kind == "placebo_infusion":
        # The trial-participation effect is given to every arm by the runner; the sham adds only its risks.
        return [ShamInfusion(start_day=ctx.day(spec.start_month) or 0)]
    return [from_spec(spec, diabetes_type=ctx.diabetes_type, params=ctx.cell_param(_GROUP[spec.kind]))]


for _spec in (PlaceboInfusionSpec, UCMSCSpec, IsletGraftSpec, BMMNCSpec):
    register_therapy(_spec, _builder)
