"""Placebo / trial effect of control arms (closer follow-up, adherence, titration).

Control arms of the stem-cell trials improve too: insulin −32 % at stable HbA1c over 12 months in the
Bhansali 2014 sham arm (V); pre-post meta-analyses (−1.2 to −1.5 HbA1c points) are about twice the
controlled ones (−0.5 to −0.9), evidence note §2.3 and §3. The effect is modelled as a rise of
insulin sensitivity (better diet and drug adherence act on glucose like a rise of SI) that builds
over ~1 month and fades towards half its peak (kinetics.placebo_profile). It is applied to every arm
of a trial (treated arms get it too), so treated-minus-control differences remove it.
"""

from __future__ import annotations

import numpy as np

from t2dsim.therapies.base import PatientContext, Risk, Therapy
from t2dsim.therapies.stemcells.common import DailyEffectsTherapy
from t2dsim.therapies.stemcells.kinetics import placebo_profile
from t2dsim.therapies.stemcells.params import PlaceboParams

__all__ = ["PlaceboTrialEffect", "ShamInfusion"]


class PlaceboTrialEffect(DailyEffectsTherapy):
    """Trial-participation effect from ``start_day`` (days since randomisation)."""

    kind = "placebo_trial_effect"
    risks: tuple[Risk, ...] = (
        Risk(
            name="sham procedure",
            description="sham arterial or bone-marrow procedures carry their procedural risks",
            source="Bhansali 2014 Cell Transplant (sham arm) (V)",
            severity="minor",
        ),
    )

    def __init__(self, start_day: int = 0, params: PlaceboParams | None = None) -> None:
        super().__init__(start_day=start_day)
        if params is None:
            from t2dsim.therapies.stemcells.params import calibrated

            params = calibrated()["placebo"]
        self.params = params

    def _draw(self, ctx: PatientContext) -> None:
        return None

    def profile(self, days: np.ndarray) -> np.ndarray:
        p = self.params
        return placebo_profile(np.asarray(days, dtype=float) - self.start_day, p.onset_days, p.fade_days, p.floor)

    def daily_effects(self, ctx: PatientContext, days: np.ndarray) -> dict[str, np.ndarray]:
        prof = self.profile(days)[None, :]
        return {"si_mult": np.broadcast_to(1.0 + self.params.si_max * prof, (ctx.n, prof.shape[1]))}


class ShamInfusion(Therapy):
    """A placebo (sham) infusion: no physiological effect of its own. The trial-participation effect that
    placebo arms show is a property of being in the trial, so the trial runner gives
    :class:`PlaceboTrialEffect` to every arm (``Protocol.trial_effect``); this object only carries the
    procedure's risks into the report."""

    kind = "sham_infusion"
    risks: tuple[Risk, ...] = (
        Risk(
            name="placebo infusion",
            description="intravenous cannulation and infusion of the vehicle: bruising, phlebitis, vasovagal "
            "reactions; no effect of the vehicle itself is modelled",
            source="general infusion-procedure risks; placebo arms of Skyler 2015 (Diabetes Care 38:1742) (S)",
            severity="minor",
        ),
    )

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        return {}
