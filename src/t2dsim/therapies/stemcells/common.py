"""Shared pieces of the stem-cell therapies: daily-effect evaluation and per-patient response draws."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from scipy.special import ndtri

from t2dsim.therapies.base import PatientContext, Therapy

__all__ = ["DailyEffectsTherapy", "lognormal_response", "check_schedule"]


def lognormal_response(ctx: PatientContext, stream: str, sd_log: float) -> np.ndarray:
    """Per-patient response multiplier with median 1 and log-SD ``sd_log`` (keyed by seed, patient, stream);
    the normal score is truncated at ±2.33 (1st/99th percentiles) so no patient gets an unbounded effect."""
    u = np.clip(ctx.uniform(stream), 1e-12, 1 - 1e-12)
    return np.exp(sd_log * np.clip(ndtri(u), -2.33, 2.33))


def check_schedule(
    kind: str, days: list[int] | tuple[int, ...], amounts: list[float], lo: float, hi: float, unit: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validate an infusion schedule (days since randomisation, amount per infusion)."""
    d = np.asarray(days, dtype=float)
    a = np.broadcast_to(np.asarray(amounts, dtype=float), d.shape).astype(float)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"{kind}: infusion_days must be a non-empty list of days")
    if np.any(d < 0) or np.any(np.diff(d) < 0):
        raise ValueError(f"{kind}: infusion_days must be ≥ 0 and non-decreasing (got {list(days)})")
    if np.any(~np.isfinite(a)) or np.any(a < lo) or np.any(a > hi):
        raise ValueError(f"{kind}: dose per infusion must lie in [{lo:g}, {hi:g}] {unit} (got {list(a)})")
    return d, a


class DailyEffectsTherapy(Therapy):
    """A therapy whose effects are closed-form functions of time: ``daily_effects(ctx, days)`` returns
    arrays (n, len(days)); ``effects`` evaluates it on one day. Active from ``start_day`` for good
    (the effects of cells given once keep evolving after the last infusion)."""

    def __init__(self, start_day: int = 0) -> None:
        super().__init__(start_day=start_day)
        self._ready = False

    def setup(self, ctx: PatientContext) -> None:
        self._draw(ctx)
        self._ready = True

    def _ensure(self, ctx: PatientContext) -> None:
        if not self._ready:
            self.setup(ctx)

    @abstractmethod
    def _draw(self, ctx: PatientContext) -> None:
        """Draw per-patient responses."""

    @abstractmethod
    def daily_effects(self, ctx: PatientContext, days: np.ndarray) -> dict[str, np.ndarray]:
        """Effects on each of ``days`` (days since randomisation): name → (n, len(days))."""

    def effects(self, ctx: PatientContext, day: int) -> dict[str, np.ndarray]:
        self._ensure(ctx)
        return {k: v[:, 0] for k, v in self.daily_effects(ctx, np.array([float(day)])).items()}
