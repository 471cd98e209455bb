"""An arm of a cohort advanced under its therapies, over days to years.

The progression model runs in segments (default 7 days). At the start of each segment every active
therapy observes the current state (titration and intensification rules), then the therapies'
effects are combined and the progression kernel advances all patients at once. Meal-model days
(visits: MMTT, OGTT; CGM days) are run from the progression state with
:func:`t2dsim.physiology.coupling.meal_params_from_progression`.

No loop over patients happens in Python: loops are over segments and visits only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from t2dsim.engine.cohort import Cohort
from t2dsim.physiology.coupling import insulin_scale, meal_params_from_progression
from t2dsim.physiology.progression import (
    OUTPUT_NAMES,
    ProgressionState,
    effective_si,
    simulate_progression,
)
from t2dsim.simulate import MealResult, simulate
from t2dsim.therapies.base import (
    Therapy,
    check_no_overlap,
    combine_effects,
    combine_meal_modifiers,
)

#: Combined effects whose last-day value is kept in ``ArmState.last`` (visits, meal days, dose rules).
_LAST_EFFECTS = (
    "hgp_mult", "graft_beta_mass_mg", "si_mult", "secretion_mult", "glucose_loss_per_day", "exog_insulin_uuml",
)  # fmt: skip


@dataclass
class ArmState:
    """Where a cohort is on ``day`` under its therapies (mutable, advanced by :func:`advance`)."""

    cohort: Cohort
    therapies: list[Therapy]
    day: int = 0
    state: ProgressionState | None = None
    last: dict[str, np.ndarray] = field(default_factory=dict)
    bmi_kg_m2: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_no_overlap(self.therapies)
        if self.state is None:
            self.state = self.cohort.state
        if self.bmi_kg_m2 is None:
            self.bmi_kg_m2 = self.cohort.bmi_kg_m2.copy()
        if not self.last:
            self.last = state_outputs(self.state)
            self.last["si_eff"] = effective_si(
                self.cohort.params, self.state, self.cohort.ctx.age_years + self.day / 365.25, self.bmi_kg_m2
            )
        # Therapies convert insulin doses with the cohort's insulin scale (coupling.insulin_scale).
        self.cohort.ctx.covariates.setdefault("insulin_scale", insulin_scale(self.cohort.params))
        # Trial conducts that dose by the model's quasi-steady rules read the patients' parameters.
        self.cohort.ctx.progression_params = self.cohort.params
        for t in self.therapies:
            t.setup(self.cohort.ctx)

    def active(self) -> list[Therapy]:
        return [t for t in self.therapies if t.active(self.day)]


def state_outputs(state: ProgressionState) -> dict[str, np.ndarray]:
    """Progression outputs computable from a state alone (for the first observation)."""
    return {
        "glucose_mgdl": state.glucose_mgdl.copy(),
        "insulin_endo_uuml": state.insulin_uuml.copy(),
        "beta_mass_mg": state.beta_mass_mg.copy(),
        "sigma": state.sigma.copy(),
        "gamma": state.gamma.copy(),
        "si_state": state.si_state.copy(),
        "inflammation": state.inflammation.copy(),
        "hba1c_pct": state.hba1c_pct.copy(),
    }


@dataclass
class Trajectory:
    """Snapshots of an arm: ``days`` (n_rec,), ``outputs[name]`` (n, n_rec) for progression outputs and
    therapy reports (e.g. ``insulin_dose_u_per_day``)."""

    days: np.ndarray
    outputs: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.outputs[name]


def advance(arm: ArmState, n_days: int, *, segment_days: int = 7, record_days: Sequence[int] = ()) -> Trajectory:
    """Advance ``arm`` by ``n_days``; record snapshots on ``record_days`` (days since randomisation,
    within (arm.day, arm.day + n_days]). Returns the recorded snapshots."""
    if n_days < 0:
        raise ValueError(f"n_days must be ≥ 0, got {n_days}")
    if segment_days < 1:
        raise ValueError(f"segment_days must be ≥ 1, got {segment_days}")
    end = arm.day + n_days
    rec = np.array(sorted(set(int(d) for d in record_days if arm.day < d <= end)), dtype=np.int64)
    n = arm.cohort.n
    store: dict[str, list[np.ndarray]] = {}
    rec_out: list[int] = []
    while arm.day < end:
        seg_end = min(arm.day + segment_days, end)
        if rec.size:
            nxt = rec[rec > arm.day]
            if nxt.size and nxt[0] < seg_end:
                seg_end = int(nxt[0])
        active = arm.active()
        for t in active:
            t.observe(arm.cohort.ctx, arm.day, arm.last)
        # therapies that decide on fixed days (e.g. monthly dose reviews) end the segment on their next one
        for t in active:
            nxt_decision = getattr(t, "next_decision_day", None)
            if callable(nxt_decision):
                seg_end = min(seg_end, max(int(nxt_decision(arm.day)), arm.day + 1))
        length = seg_end - arm.day
        # Therapies with closed-form time courses (e.g. cell therapies) give one value per day of the
        # segment; the others are constant over it (their doses change only at segment starts).
        days = np.arange(arm.day, seg_end, dtype=float)
        parts = [
            t.daily_effects(arm.cohort.ctx, days)
            if callable(getattr(t, "daily_effects", None))
            else t.effects(arm.cohort.ctx, arm.day)
            for t in active
        ]
        effects = combine_effects(n, parts, n_days=length)
        # therapies that change body weight (GLP-1 RA, lifestyle) act through BMI: fractional change
        weight = [t.weight_change_frac(arm.cohort.ctx, arm.day) for t in active if hasattr(t, "weight_change_frac")]
        bmi = arm.bmi_kg_m2 * np.clip(1.0 + np.sum(weight, axis=0), 0.5, 1.5) if weight else arm.bmi_kg_m2
        res = simulate_progression(
            arm.cohort.params,
            arm.state,
            length,
            age_years=arm.cohort.ctx.age_years,
            bmi_kg_m2=bmi,
            effects=effects,
            t0_day=float(arm.day),
            record_days="end",
        )
        arm.state = res.state
        arm.last = {k: np.asarray(res[k][:, -1], dtype=float) for k in OUTPUT_NAMES}
        # the therapies' combined effects of the segment's last day (what quasi-steady dose rules need)
        for k in _LAST_EFFECTS:
            arm.last[k] = np.asarray(getattr(effects, k), dtype=float)[:, -1]
        arm.last["bmi_kg_m2"] = np.asarray(bmi, dtype=float)
        arm.day = seg_end
        if rec.size and arm.day in set(rec.tolist()):
            rec_out.append(arm.day)
            snap = dict(arm.last)
            for t in arm.therapies:
                report = getattr(t, "report", None)
                if callable(report):
                    snap.update(report(arm.cohort.ctx, arm.day))
            for k, v in snap.items():
                store.setdefault(k, []).append(np.broadcast_to(np.asarray(v, dtype=float), (n,)))
    return Trajectory(np.asarray(rec_out, dtype=np.int64), {k: np.stack(v, axis=1) for k, v in store.items()})


def meal_params_today(arm: ArmState):
    """Meal-model parameters of every patient of ``arm`` on its current day."""
    active = arm.active()
    mods = combine_meal_modifiers(arm.cohort.n, [t.meal_modifiers(arm.cohort.ctx, arm.day) for t in active])
    last = arm.last
    return meal_params_from_progression(
        last["glucose_mgdl"],
        last["insulin_endo_uuml"],
        last.get("si_eff", last.get("si_state")),
        last["beta_mass_mg"],
        last["sigma"],
        body_weight_kg=arm.cohort.ctx.body_weight_kg,
        age_years=arm.cohort.ctx.age_years + arm.day / 365.25,
        female=arm.cohort.ctx.female,
        height_cm=arm.cohort.height_cm,
        graft_beta_mass_mg=last.get("graft_beta_mass_mg", 0.0),
        hgp_mult=last.get("hgp_mult", 1.0),
        modifiers=mods,
        names=tuple(str(i) for i in arm.cohort.ctx.patient_ids),
        insulin_scale=insulin_scale(arm.cohort.params),
    )


def run_meal_day(
    arm: ArmState, cho_g_per_min: np.ndarray, insulin_u_per_min: np.ndarray | None = None, **kwargs
) -> MealResult:
    """Run one minute-scale day (or test) for every patient from the arm's current progression state.

    ``insulin_u_per_min`` defaults to each patient's basal insulin (from its therapies' ``u2ss``).
    """
    params = meal_params_today(arm)
    return simulate(params, cho_g_per_min, insulin_u_per_min, **kwargs)
