"""Helpers for the simulated trial replications in tests/test_therapies_*.py (not a test module).

A trial cohort is the ``newly-diagnosed`` preset (population/presets.py) advanced along each patient's
own untreated course until its HbA1c first reaches a value drawn from the trial's baseline HbA1c
distribution (mean, SD, inclusion range), so baseline HbA1c (glycation kinetics run along the way),
FPG, β-cell mass and function are mutually consistent. (HbA1c rather than FPG: every trial reports
it, and the progression model's FPG→HbA1c line is steeper than in trial populations.) Arms are then run with the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from t2dsim.engine import ArmState, Cohort, advance
from t2dsim.physiology.progression import simulate_progression, state_from_outputs
from t2dsim.population.presets import make_cohort
from t2dsim.therapies.base import PatientContext, Therapy


@dataclass
class TrialCohort:
    cohort: Cohort
    years_since_diagnosis: np.ndarray


def trial_cohort(
    n: int,
    seed: int,
    hba1c_mean_pct: float,
    hba1c_sd_pct: float,
    hba1c_range_pct: tuple[float, float],
    *,
    height_m: float = 1.70,
    max_years: float = 25.0,
) -> TrialCohort:
    base = make_cohort("newly-diagnosed", n, seed=seed)
    ids = base.patient_id
    z = np.array([np.random.default_rng([seed, int(p), 4242]).standard_normal() for p in ids])
    target = np.clip(hba1c_mean_pct + hba1c_sd_pct * z, *hba1c_range_pct)
    n_days = int(max_years * 365.25)
    r = simulate_progression(
        base.params, base.state, n_days, age_years=base.age_years, bmi_kg_m2=base.bmi_kg_m2, record_days="monthly"
    )
    h = r["hba1c_pct"]
    hit = h >= target[:, None]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), h.shape[1] - 1)
    at_dx = base.state.hba1c_pct >= target
    state = state_from_outputs(r, first)
    years = r.record_day[first] / 365.25
    if np.any(at_dx):  # already at/above target at diagnosis: keep the diagnosis state
        m = state.to_matrix()
        m[at_dx] = base.state.to_matrix()[at_dx]
        state = type(state).from_matrix(m)
        years = np.where(at_dx, 0.0, years)
    age = base.age_years + years
    bmi = base.bmi_kg_m2
    weight = bmi * height_m**2
    ctx = PatientContext(n=n, body_weight_kg=weight, age_years=age, female=(ids % 2 == 1), seed=seed, patient_ids=ids)
    return TrialCohort(Cohort(base.params, state, ctx, bmi, np.full(n, height_m * 100.0)), years)


def on_background(cohort: Cohort, therapies: Sequence[Therapy], days: int = 365) -> Cohort:
    """The cohort after ``days`` on background therapy (e.g. metformin before an add-on trial): the
    returned cohort's state is the new baseline (ages advanced); the arms must include the same
    background therapies."""
    arm = ArmState(cohort, list(therapies))
    advance(arm, days)
    ctx = cohort.ctx
    ctx2 = PatientContext(n=ctx.n, body_weight_kg=ctx.body_weight_kg, age_years=ctx.age_years + days / 365.25,
                          female=ctx.female, seed=ctx.seed, patient_ids=ctx.patient_ids)  # fmt: skip
    return Cohort(cohort.params, arm.state, ctx2, cohort.bmi_kg_m2, cohort.height_cm, dict(cohort.covariates))


def run_arm(cohort: Cohort, therapies: Sequence[Therapy], days: int) -> dict[str, np.ndarray]:
    """Run one arm for ``days``; returns baseline and end HbA1c (%), FPG (mg/dL), BMI, and reports."""
    arm = ArmState(cohort, list(therapies))
    traj = advance(arm, days, record_days=[days])
    out = {k: v[:, -1] for k, v in traj.outputs.items()}
    out["hba1c0"] = cohort.state.hba1c_pct.copy()
    out["fpg0"] = cohort.state.glucose_mgdl.copy()
    out["bmi0"] = cohort.bmi_kg_m2.copy()
    return out


@dataclass
class Comparison:
    """Placebo-adjusted change (active − placebo) of a simulated parallel-group trial.

    Both arms are the same virtual patients (a paired in-silico comparison), so ``diff`` is the mean
    of the per-patient differences in HbA1c change."""

    diff_hba1c: float
    active_change: float
    placebo_change: float
    baseline_hba1c: float
    baseline_fpg: float
    diff_fpg: float
    active: dict[str, np.ndarray]
    placebo: dict[str, np.ndarray]


def placebo_adjusted(
    cohort: Cohort, make_active: Callable[[], Sequence[Therapy]], days: int,
    make_background: Callable[[], Sequence[Therapy]] = lambda: (),
) -> Comparison:  # fmt: skip
    act = run_arm(cohort, [*make_background(), *make_active()], days)
    pla = run_arm(cohort, list(make_background()), days)
    da = act["hba1c_pct"] - act["hba1c0"]
    dp = pla["hba1c_pct"] - pla["hba1c0"]
    return Comparison(
        float(np.mean(da - dp)), float(np.mean(da)), float(np.mean(dp)), float(np.mean(act["hba1c0"])),
        float(np.mean(act["fpg0"])), float(np.mean(act["glucose_mgdl"] - pla["glucose_mgdl"])), act, pla,
    )  # fmt: skip
