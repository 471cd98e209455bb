"""Autologous bone-marrow mononuclear cells (BM-MNC), usually into the pancreatic artery.

Human data point to better β-cell secretion, not insulin sensitivity: stimulated C-peptide rose
(Bhansali 2009; Wu 2014: C-peptide AUC +34-44 % at 12 months) while clamp insulin sensitivity did not
change (Bhansali 2017, n = 7). Response took ~48 days (Bhansali 2009) and lasted beyond a year
(responders 7/10 at 6 months, 6/10 at 15 months). The model: activity A(t) with a slow onset and a
long half-life raises ``secretion_mult`` by emax_sec·r·A (r: per-patient response). Because the
multiplier acts on the patient's own β-cell mass × function, patients with more residual secretion
gain more — the direction seen (insulin reduction vs baseline C-peptide r = 0.83, Bhansali 2009), though the
model's r is weaker (≈ 0.3 with the shipped parameters; calibration/responders.py, docs/stem_cells.md).
"""

from __future__ import annotations

import numpy as np

from t2dsim.physiology.coupling import secretion_gain_multipliers
from t2dsim.therapies.base import PatientContext, Risk
from t2dsim.therapies.stemcells.common import DailyEffectsTherapy, check_schedule, lognormal_response
from t2dsim.therapies.stemcells.kinetics import infusion_activity
from t2dsim.therapies.stemcells.params import BMMNCParams
from t2dsim.therapies.stemcells.risks import bmmnc_risks

__all__ = ["BMMNCTherapy", "secretion_gain_modifiers", "BMMNC_MEAL_GAINS"]

#: Meal-model gains the BM-MNC secretion multiplier acts on (recorded with calibration results): second phase only.
BMMNC_MEAL_GAINS = ("beta_Y",)

BMMNC_ROUTES = ("pancreatic_artery", "iv")


def secretion_gain_modifiers(secretion_mult: np.ndarray) -> dict[str, np.ndarray]:
    """Meal-model gain multipliers for a BM-MNC secretion multiplier ``secretion_mult``: the second-phase
    (static, glucose-proportional) gain β_Y is multiplied by it, the first-phase (dynamic) gain K is not.

    Source: Bhansali 2017 (PMC5496640, abstract, V): after BM-MNC the 2nd-phase C-peptide response on the
    hyperglycaemic clamp rose (p = 0.018) while the acute glucagon-stimulated C-peptide did not change; Dalla Man
    2007's K is the first-phase (rate-of-glucose-rise) secretion, β_Y the second phase. A change of β-cell capacity
    itself scales both (:func:`t2dsim.physiology.coupling.secretion_gain_multipliers`)."""
    m = secretion_gain_multipliers(secretion_mult)
    return {k: (v if k in BMMNC_MEAL_GAINS else np.ones_like(v)) for k, v in m.items()}


class BMMNCTherapy(DailyEffectsTherapy):
    """Autologous BM-MNC infusions.

    Args:
        cells: total mononuclear cells per infusion (1e7-5e9; trials 0.5-1.2e9, Sood 2017).
        infusion_days: days since randomisation.
        routes: route per infusion ("pancreatic_artery" or "iv"); IV potency is a hypothesis.
        params: model parameters (calibrated defaults if None).
    """

    kind = "bmmnc"

    def __init__(
        self,
        cells: float | list[float] = 1e9,
        infusion_days: list[int] | tuple[int, ...] = (0,),
        routes: str | list[str] = "pancreatic_artery",
        params: BMMNCParams | None = None,
    ) -> None:
        days, doses = check_schedule("bmmnc", list(infusion_days), cells, 1e7, 5e9, "cells")
        rts = [routes] * days.size if isinstance(routes, str) else list(routes)
        if len(rts) != days.size or any(r not in BMMNC_ROUTES for r in rts):
            raise ValueError(f"bmmnc.routes must be one of {BMMNC_ROUTES} per infusion (got {routes!r})")
        super().__init__(start_day=int(days[0]))
        if params is None:
            from t2dsim.therapies.stemcells.params import calibrated

            params = calibrated()["bmmnc"]
        self.params = params
        self.infusion_days = days
        self.cells = doses
        self.routes = rts
        self.risks: tuple[Risk, ...] = bmmnc_risks()
        self._r = np.ones(0)

    def _draw(self, ctx: PatientContext) -> None:
        self._r = lognormal_response(ctx, "bmmnc_response", self.params.response_sd)

    def activity(self, days: np.ndarray) -> np.ndarray:
        p = self.params
        pot = np.array([1.0 if r == "pancreatic_artery" else p.iv_relative_potency for r in self.routes])
        s = pot * self.cells / (self.cells + p.ed50_cells)
        return infusion_activity(days, self.infusion_days, s, p.onset_days, p.half_life_days)

    def daily_effects(self, ctx: PatientContext, days: np.ndarray) -> dict[str, np.ndarray]:
        self._ensure(ctx)
        a = self.activity(np.asarray(days, dtype=float))[None, :]
        # capped at ×10 (a model guard far above any observed C-peptide gain)
        return {"secretion_mult": np.minimum(1.0 + self.params.emax_sec * self._r[:, None] * a, 10.0)}

    def meal_modifiers(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return secretion_gain_modifiers(self.effects(ctx, day)["secretion_mult"])

    def report(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        """Recorded with each snapshot: ``bmmnc_activity`` (0-1)."""
        return {"bmmnc_activity": np.full(ctx.n, float(self.activity(np.array([float(day)]))[0]))}
