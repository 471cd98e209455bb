"""Mesenchymal stromal cells (MSC): a decaying, saturating immunomodulatory state.

Infused MSCs do not persist: most IV cells are trapped in the lungs and are gone within days
(Eggenhofer 2012; Gholamrezanezhad 2011; von Bahr 2012; evidence note §7), yet effects build over
2-8 weeks and fade over months (Skyler 2015; Lian 2022; §4). The model is therefore a dose-driven
activity A(t) (kinetics.infusion_activity) acting on insulin sensitivity (si_mult), the inflammation
index target (inflammation_mult, hypothesis) and optionally glucotoxic β-cell loss (beta_protect,
default 0: the largest double-blind trial found no β-cell benefit). See docs/stem_cells.md.
"""

from __future__ import annotations

import numpy as np

from t2dsim.therapies.base import PatientContext, Risk
from t2dsim.therapies.stemcells.common import DailyEffectsTherapy, check_schedule, lognormal_response
from t2dsim.therapies.stemcells.kinetics import infusion_activity
from t2dsim.therapies.stemcells.params import MSCParams
from t2dsim.therapies.stemcells.risks import msc_risks

__all__ = ["MSCTherapy", "MSC_PRODUCTS", "MSC_ROUTES"]

#: Products and their relative potency. No head-to-head human data exist: all 1 (H). Adipose MSCs
#: have no human T2D trial (evidence note §9) and are flagged in ``evidence``.
MSC_PRODUCTS: dict[str, tuple[float, str]] = {
    "UC-MSC": (1.0, "Lian 2022, Kong 2014 (S/M), Chin 2025 registry"),
    "WJ-MSC": (1.0, "Liu 2014, Hu 2016"),
    "BM-MSC": (1.0, "Bhansali 2017 (S), NEPHSTROM (kidney)"),
    "PD-MSC": (1.0, "Jiang 2011 (M: not verified)"),
    "AD-MSC": (1.0, "no human T2D trial; rodent data only (hypothesis)"),
    "MPC": (1.0, "Skyler 2015 (rexlemestrocel-L), Packham 2016"),
}
MSC_ROUTES = ("iv", "pancreatic_artery")


class MSCTherapy(DailyEffectsTherapy):
    """One course of MSC infusions.

    Args:
        cells_per_kg: cells per kg body weight per infusion (scalar or one per infusion), 1e4-1e8.
        infusion_days: days since randomisation of each infusion.
        product: one of MSC_PRODUCTS.
        route: "iv" or "pancreatic_artery" (same potency assumed; arterial adds procedure risks).
        params: model parameters (calibrated defaults if None).
    """

    kind = "msc"

    def __init__(
        self,
        cells_per_kg: float | list[float] = 1e6,
        infusion_days: list[int] | tuple[int, ...] = (0,),
        product: str = "UC-MSC",
        route: str = "iv",
        params: MSCParams | None = None,
    ) -> None:
        if product not in MSC_PRODUCTS:
            raise ValueError(f"msc.product must be one of {list(MSC_PRODUCTS)} (got {product!r})")
        if route not in MSC_ROUTES:
            raise ValueError(f"msc.route must be one of {MSC_ROUTES} (got {route!r})")
        days, doses = check_schedule("msc", list(infusion_days), cells_per_kg, 1e4, 1e8, "cells/kg")
        super().__init__(start_day=int(days[0]))
        if params is None:
            from t2dsim.therapies.stemcells.params import calibrated

            params = calibrated()["msc"]
        self.params = params
        self.product = product
        self.route = route
        self.infusion_days = days
        self.cells_per_kg = doses
        self.evidence = MSC_PRODUCTS[product][1]
        self.risks: tuple[Risk, ...] = msc_risks(route)
        self._r = np.ones(0)

    def _draw(self, ctx: PatientContext) -> None:
        self._r = lognormal_response(ctx, "msc_response", self.params.response_sd)

    def activity(self, days: np.ndarray) -> np.ndarray:
        """Activity A on ``days`` (dimensionless, 0-1; the same for every patient)."""
        p = self.params
        pot = MSC_PRODUCTS[self.product][0]
        s = pot * self.cells_per_kg / (self.cells_per_kg + p.ed50_cells_per_kg)
        return infusion_activity(days, self.infusion_days, s, p.onset_days, p.half_life_days)

    def daily_effects(self, ctx: PatientContext, days: np.ndarray) -> dict[str, np.ndarray]:
        self._ensure(ctx)
        p = self.params
        a = self.activity(np.asarray(days, dtype=float))[None, :]
        r = self._r[:, None]
        return {
            "si_mult": np.minimum(1.0 + p.emax_si * r * a, 5.0),  # guard: ×5 far above observed effects
            "inflammation_mult": np.broadcast_to(1.0 - p.infl_reduction * a, (ctx.n, a.shape[1])),
            "beta_protect": np.broadcast_to(np.clip(p.beta_protect_max * a, 0.0, 1.0), (ctx.n, a.shape[1])),
        }

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        """Recorded with each snapshot: ``msc_activity`` (0-1)."""
        return {"msc_activity": np.full(ctx.n, float(self.activity(np.array([float(day)]))[0]))}

    def describe(self) -> str:
        return (
            f"{self.product} {self.route}, {len(self.infusion_days)} infusion(s) of "
            f"{self.cells_per_kg[0]:.2g} cells/kg on days {self.infusion_days.astype(int).tolist()}"
        )
