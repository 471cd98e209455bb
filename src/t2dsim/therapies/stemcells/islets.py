"""β-cell replacement: donor islets, stem-cell-derived islets (SC-islets) or progenitors in a device.

The graft adds functional β-cell mass to the progression model (``graft_beta_mass_mg``; it secretes
like native cells, capacity (β + graft)·σ). Mass course per patient (kinetics.graft_mass_mg):

* dose → β-cell mass: IEQ × 1.08 µg, or cells × β-like fraction × 0.95 ng (Pisania et al. 2010);
* engraftment fraction by site, log-normal between patients (peri-transplant loss);
* maturation progenitor → functional β cell: Weibull in time (donor islets weeks; SC-islets months,
  zimislecel C-peptide rising to 12 months; device progenitors ≥ 6 months);
* gradual attrition (exhaustion, low-grade immune loss) and an all-or-none failure whose hazard
  depends on the immune setting (allogeneic with/without immunosuppression, autologous T2D/T1D,
  encapsulated);
* immunosuppression's own effects: ``secretion_mult`` = cni_secretion_mult (calcineurin inhibitors;
  default 1 because Rickels 2010 found no tacrolimus effect on secretory capacity) and its risks.
"""

from __future__ import annotations

import numpy as np

from t2dsim.therapies.base import PatientContext, Risk
from t2dsim.therapies.stemcells.common import DailyEffectsTherapy, check_schedule, lognormal_response
from t2dsim.therapies.stemcells.kinetics import cells_to_beta_mg, graft_mass_mg, ieq_to_beta_mg
from t2dsim.therapies.stemcells.params import IsletParams
from t2dsim.therapies.stemcells.risks import islet_risks

__all__ = ["IsletGraft", "PRODUCTS", "SITES", "immune_setting"]

PRODUCTS = ("donor_islets", "sc_islet", "sc_progenitor")
SITES = ("portal_vein", "muscle", "omentum", "subcutaneous_device")
_MATURATION_KEY = {"donor_islets": "islet", "sc_islet": "sc_islet", "sc_progenitor": "progenitor"}


def immune_setting(origin: str, immunosuppression: bool, encapsulated: bool, diabetes_type: str) -> str:
    """Key of ``IsletParams.failure_per_year`` for a graft's immune situation."""
    if encapsulated:
        return "encapsulated"
    if origin == "allogeneic":
        return "allogeneic_immunosuppressed" if immunosuppression else "allogeneic_none"
    if immunosuppression:
        return "autologous_immunosuppressed"
    return "autologous_t2d" if diabetes_type == "t2d" else "autologous_t1d_none"


class IsletGraft(DailyEffectsTherapy):
    """A β-cell replacement graft.

    Args:
        product: "donor_islets", "sc_islet" (fully differentiated) or "sc_progenitor".
        ieq_per_kg: islet equivalents per kg per infusion (donor islets; 500-30,000).
        cells: product cells per infusion (SC products; 1e7-5e9); give one of ieq_per_kg / cells.
        infusion_days: days since randomisation of each infusion.
        origin: "allogeneic" or "autologous".
        site: one of SITES ("subcutaneous_device" implies an encapsulation device).
        immunosuppression: lifelong immunosuppression given.
        diabetes_type: "t2d" or "t1d" (autoimmunity against an autologous graft in T1D).
    """

    kind = "islet_graft"

    def __init__(
        self,
        product: str = "sc_islet",
        *,
        ieq_per_kg: float | list[float] | None = None,
        cells: float | list[float] | None = None,
        infusion_days: list[int] | tuple[int, ...] = (0,),
        origin: str = "allogeneic",
        site: str = "portal_vein",
        immunosuppression: bool = True,
        diabetes_type: str = "t2d",
        params: IsletParams | None = None,
    ) -> None:
        if product not in PRODUCTS:
            raise ValueError(f"islet_graft.product must be one of {PRODUCTS} (got {product!r})")
        if site not in SITES:
            raise ValueError(f"islet_graft.site must be one of {SITES} (got {site!r})")
        if origin not in ("allogeneic", "autologous"):
            raise ValueError(f"islet_graft.origin must be 'allogeneic' or 'autologous' (got {origin!r})")
        if diabetes_type not in ("t2d", "t1d"):
            raise ValueError(f"islet_graft.diabetes_type must be 't2d' or 't1d' (got {diabetes_type!r})")
        if (ieq_per_kg is None) == (cells is None):
            raise ValueError("islet_graft: give exactly one of ieq_per_kg (donor islets) or cells (SC products)")
        if product == "donor_islets" and ieq_per_kg is None:
            raise ValueError("islet_graft: donor islets are dosed in ieq_per_kg")
        if ieq_per_kg is not None:
            days, amount = check_schedule("islet_graft", list(infusion_days), ieq_per_kg, 500, 30000, "IEQ/kg")
        else:
            days, amount = check_schedule("islet_graft", list(infusion_days), cells, 1e7, 5e9, "cells")
        super().__init__(start_day=int(days[0]))
        if params is None:
            from t2dsim.therapies.stemcells.params import calibrated

            params = calibrated()["islet"]
        self.params = params
        self.product = product
        self.site = site
        self.origin = origin
        self.immunosuppression = bool(immunosuppression)
        self.encapsulated = site == "subcutaneous_device"
        self.diabetes_type = diabetes_type
        self.infusion_days = days
        self.dose_unit = "IEQ/kg" if ieq_per_kg is not None else "cells"
        self.amount = amount
        self.setting = immune_setting(origin, self.immunosuppression, self.encapsulated, diabetes_type)
        self.risks: tuple[Risk, ...] = islet_risks(site, self.immunosuppression, product != "donor_islets")
        self._dose_mg = np.zeros((0, days.size))
        self._eng = np.ones(0)
        self._fail = np.ones(0)

    def _draw(self, ctx: PatientContext) -> None:
        p = self.params
        if self.dose_unit == "IEQ/kg":
            self._dose_mg = ieq_to_beta_mg(self.amount[None, :] * ctx.body_weight_kg[:, None], p.beta_ug_per_ieq)
        else:
            mg = cells_to_beta_mg(self.amount, p.sc_beta_fraction, p.beta_ng_per_cell)
            self._dose_mg = np.broadcast_to(mg, (ctx.n, self.amount.size)).copy()
        self._eng = np.clip(
            p.engraftment[self.site] * lognormal_response(ctx, "graft_engraftment", p.engraftment_sd), 0.0, 1.0
        )
        hazard = p.failure_per_year[self.setting] / 365.25
        u = np.clip(ctx.uniform("graft_failure"), 1e-12, 1 - 1e-12)
        self._fail = self.infusion_days[0] + (-np.log1p(-u) / hazard if hazard > 0 else np.full(ctx.n, np.inf))

    def beta_dose_mg(self, ctx: PatientContext) -> np.ndarray:
        """β-cell mass infused per patient and infusion (mg), (n, n_infusions)."""
        self._ensure(ctx)
        return self._dose_mg

    def graft_mass(self, ctx: PatientContext, days: np.ndarray) -> np.ndarray:
        """Functional graft β-cell mass (mg), (n, len(days))."""
        self._ensure(ctx)
        p = self.params
        return graft_mass_mg(
            days,
            self.infusion_days,
            self._dose_mg,
            self._eng,
            p.maturation_days[_MATURATION_KEY[self.product]],
            p.maturation_shape,
            p.attrition_per_year,
            self._fail,
        )

    def failure_day(self, ctx: PatientContext) -> np.ndarray:
        self._ensure(ctx)
        return self._fail

    def daily_effects(self, ctx: PatientContext, days: np.ndarray) -> dict[str, np.ndarray]:
        m = self.graft_mass(ctx, np.asarray(days, dtype=float))
        out = {"graft_beta_mass_mg": m}
        if self.immunosuppression:
            out["secretion_mult"] = np.full(m.shape, self.params.cni_secretion_mult)
        return out

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        """Recorded: ``graft_functional_mass_mg`` (mg) and ``immunosuppressed`` (0/1)."""
        return {
            "graft_functional_mass_mg": self.graft_mass(ctx, np.array([float(day)]))[:, 0],
            "immunosuppressed": np.full(ctx.n, 1.0 if self.immunosuppression else 0.0),
        }

    def describe(self) -> str:
        return (
            f"{self.origin} {self.product} ({self.site}), {self.amount[0]:.3g} {self.dose_unit} × "
            f"{self.amount.size}, immunosuppression {'yes' if self.immunosuppression else 'no'}"
        )
