"""Screening: candidates of a population preset, their baseline covariates and the inclusion criteria.

Protocol distributions may override demographic covariates (age, sex) with keyed per-patient draws
(:mod:`t2dsim.core.rng`); the inclusion criteria are applied to baseline values and the first eligible
candidates (by id) are enrolled, so the same seed enrols the same patients whatever the batch sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.core.calendar import month_to_day
from t2dsim.core.registry import BuildContext
from t2dsim.core.rng import keyed_normal, keyed_uniform
from t2dsim.engine.arm import ArmState, run_meal_day
from t2dsim.engine.background import run_in
from t2dsim.engine.cohort import Cohort
from t2dsim.physiology.coupling import dose_for_exogenous_insulin, insulin_scale
from t2dsim.population.baseline_targets import TARGETABLE, match_targets, place_glycaemia
from t2dsim.population.demographics import FEMALE_SHARE_DEFAULT, sex_and_height
from t2dsim.population.presets import make_cohort
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.specs import build_arm

__all__ = ["after_run_in", "background_of", "background_therapies", "baseline_covariates", "eligible", "id_blocks",
           "screen", "screen_block"]  # fmt: skip


#: Candidates per block when screening is spread over workers (``map_blocks``): small enough for a
#: block per worker at 10^4 candidates, large enough that task overhead stays below 1 %.
SCREEN_BLOCK = 2000

#: ``map_blocks(screen_block, protocol, seed, first_id, size)``: candidates ``first_id … first_id + size − 1``
#: screened in blocks (:func:`id_blocks`, e.g. as Dask tasks), the blocks' results in id order; None = one
#: call in this process.
MapBlocks = Callable[[Callable[..., tuple[Cohort, pd.DataFrame]], Any, int, int, int],
                     Iterable[tuple[Cohort, pd.DataFrame]]]  # fmt: skip


def id_blocks(first_id: int, size: int, block_size: int = SCREEN_BLOCK) -> list[tuple[int, int]]:
    """``(first id, size)`` of consecutive blocks of at most ``block_size`` candidates covering the range."""
    if block_size < 1:
        raise ValueError(f"block_size must be ≥ 1, got {block_size}")
    end = first_id + size
    return [(a, min(block_size, end - a)) for a in range(first_id, end, block_size)]


def screen(
    protocol: Any, n_needed: int, seed: int, map_blocks: MapBlocks | None = None
) -> tuple[Cohort, pd.DataFrame, dict]:
    """Screen candidates of the protocol's preset until ``n_needed`` are eligible.

    Candidates are made in batches of ids 0, 1, 2, ... (so the same seed screens the same patients), the
    protocol's covariate overrides drawn, the inclusion criteria applied to baseline values, and the first
    ``n_needed`` eligible candidates by id enrolled. Returns the enrolled :class:`Cohort` (demographics and
    covariates set for the engine), their baseline table and the screening counts.

    Each candidate's screening depends only on the seed and its id (:func:`screen_block`), so a batch may be
    cut into blocks of ids screened anywhere (``map_blocks``, e.g. Dask tasks): the eligible candidates are
    gathered in id order and the result is the same.

    Raises:
        ValueError: an unsupported covariate distribution, or too few eligible candidates (naming the
            fix: widen the criteria or raise ``population.max_screening_factor``).
    """
    pop = protocol.population
    if pop.preset is None:
        raise ValueError("population.preset is required by this version (explicit-only populations are not built)")
    targets = pop.baseline_targets
    supported = {"age_years", "sex", *TARGETABLE}
    extra = set(pop.distributions) - supported
    if extra:
        raise ValueError(
            f"population.distributions.{sorted(extra)[0]}: not supported with preset {pop.preset!r} "
            f"(the preset places physiology itself); supported: {', '.join(sorted(supported))}"
        )
    max_n = int(np.ceil(pop.max_screening_factor * n_needed))
    # with baseline targets the cohort is matched from a pool of eligible candidates (the first by id)
    want = min(max_n, int(np.ceil(pop.baseline_pool_factor * n_needed))) if targets else n_needed
    batch = max(want, min(max_n, int(want * 1.5) + 16))
    screened = 0
    chosen: list[pd.DataFrame] = []
    cohorts: list[Cohort] = []
    n_ok = 0
    while n_ok < want and screened < max_n:
        size = min(batch, max_n - screened)
        if map_blocks is None:  # in this process: the whole batch in one call
            found: Iterable = [screen_block(protocol, seed, screened, size)]
        else:  # candidate-id blocks, e.g. Dask tasks; results in id order
            found = map_blocks(screen_block, protocol, seed, screened, size)
        for c, base in found:
            chosen.append(base)
            cohorts.append(c)
            n_ok += len(base)
        screened += size
    if n_ok < n_needed:
        raise ValueError(
            f"population.inclusion: only {n_ok} of {screened} screened candidates are eligible, "
            f"{n_needed} are needed; widen the criteria or raise population.max_screening_factor "
            f"(now {pop.max_screening_factor:g})"
        )
    pool = pd.concat(chosen, ignore_index=True).sort_values("patient_id").head(want).reset_index(drop=True)
    enrolled = pool.iloc[match_targets(pool, targets, n_needed, seed)] if targets else pool.head(n_needed)
    full = Cohort.concat(cohorts)
    pos = np.searchsorted(full.patient_id, enrolled["patient_id"].to_numpy())  # eligible candidates in id order
    base = enrolled.reset_index(drop=True)
    screening = {"screened": screened, "eligible": n_ok, "enrolled": n_needed, "preset": pop.preset}
    if targets:
        screening["matching_pool"] = len(pool)
    return _for_engine(full.select(pos), base, seed), base, screening


def screen_block(protocol: Any, seed: int, first_id: int, size: int) -> tuple[Cohort, pd.DataFrame]:
    """Screen candidates ``first_id … first_id + size − 1``: make them, place any baseline targets, draw the
    covariate overrides, run any run-in and apply the inclusion criteria. Returns the eligible candidates
    (cohort, in id order) and their baseline rows. Pure: depends only on its arguments."""
    pop = protocol.population
    targets = pop.baseline_targets
    background_specs, run_in_days = background_of(protocol)
    need_cpeptide = "fasting_cpeptide_pmol_l" in targets or pop.inclusion.fasting_cpeptide_pmol_l is not None
    c = make_cohort(pop.preset, size, seed=seed, first_id=first_id)
    if targets:
        c = place_glycaemia(c, targets, seed)
    base = baseline_covariates(c, pop, seed, cpeptide=need_cpeptide and not run_in_days)
    if run_in_days or background_specs:
        base = after_run_in(_for_engine(c, base, seed), base, background_specs, run_in_days, need_cpeptide)
    ok = eligible(base, pop.inclusion)
    return c.select(np.flatnonzero(ok)), base[ok]


def background_of(protocol: Any) -> tuple[list, int]:
    """The protocol's background therapy specs and run-in length (days); none without ``[background]``."""
    bg = getattr(protocol, "background", None)
    if bg is None:
        return [], 0
    return list(bg.treatment), int(round(month_to_day(bg.run_in_months) or 0))


def background_therapies(specs: list, run_in_days: int, duration_days: int = 36525) -> list:
    """The background therapy objects (their day 0 = start of the run-in)."""
    return build_arm(specs, BuildContext(duration_days=run_in_days + duration_days), "background")


def after_run_in(
    c: Cohort, base: pd.DataFrame, specs: list, run_in_days: int, cpeptide: bool = False
) -> pd.DataFrame:
    """The baseline table after the run-in on the background (engine.background): HbA1c, FPG, BMI, weight and
    insulin dose (the cohort's background plus any background insulin) at randomisation."""
    arm = run_in(c, background_therapies(specs, run_in_days), run_in_days)
    out = base.copy()
    last = arm.last
    out["hba1c_percent"] = last["hba1c_pct"]
    out["fpg_mgdl"] = last["glucose_mgdl"]
    out["bmi_kg_m2"] = arm.bmi_kg_m2
    out["weight_kg"] = base["weight_kg"].to_numpy() * arm.bmi_kg_m2 / c.bmi_kg_m2
    out["ctx_weight_kg"] = base["weight_kg"].to_numpy()  # what therapies read during the run-in (replayed by arms)
    out["ctx_insulin_u_per_day"] = base["insulin_u_per_day"].to_numpy()
    held = not any(getattr(getattr(t, "inner", t), "continues_baseline", False) for t in arm.therapies)
    dose = base["insulin_u_per_day"].to_numpy(float).copy() if held else np.zeros(c.n)
    for t in arm.active():
        rep = getattr(t, "report", None)
        if callable(rep):
            dose = dose + np.asarray(rep(c.ctx, arm.day).get("insulin_dose_u_per_day", 0.0), float)
    out["insulin_u_per_day"] = dose
    out["insulin_u_per_kg_day"] = dose / out["weight_kg"].to_numpy()
    out["insulin_use"] = np.where(dose > 0.5, "yes", "no")
    if cpeptide:
        res = run_meal_day(arm, np.zeros((c.n, 1)))
        out["fasting_cpeptide_pmol_l"] = np.asarray(res["cpeptide_pmol_l"][:, 0], dtype=float)
    return out


def baseline_covariates(c: Cohort, pop: Any, seed: int, cpeptide: bool = False) -> pd.DataFrame:
    """Baseline table of candidates (one row each): demographics with the protocol's overrides, HbA1c,
    FPG, duration, insulin dose (U/day and U/kg/day) from the cohort's background insulin effect, and with
    ``cpeptide`` the fasting C-peptide (pmol/L, the meal model's basal state)."""
    ids = c.patient_id
    b = c.baseline
    age = c.age_years.copy()
    d = pop.distributions.get("age_years")
    if d is not None:
        age = _draw(d, seed, ids, "cov:age")
    female_p = FEMALE_SHARE_DEFAULT
    sd = pop.distributions.get("sex")
    if sd is not None:
        female_p = float(sd.probabilities.get("female", 0.0))
    female, height = sex_and_height(seed, ids, female_p)
    weight = c.bmi_kg_m2 * (height / 100.0) ** 2
    kappa = insulin_scale(c.params)
    exog = c.background_effects.exog_insulin_uuml
    dose = dose_for_exogenous_insulin(exog, weight, kappa)
    out = pd.DataFrame(
        {
            "patient_id": ids,
            "age_years": age,
            "sex": np.where(female, "female", "male"),
            "height_cm": height,
            "weight_kg": weight,
            "bmi_kg_m2": c.bmi_kg_m2,
            "diabetes_duration_years": b["duration_years"].to_numpy(),
            "hba1c_percent": c.state.hba1c_pct,
            "fpg_mgdl": c.state.glucose_mgdl,
            "insulin_u_per_day": dose,
            "insulin_u_per_kg_day": dose / weight,
            "insulin_use": np.where(dose > 0.5, "yes", "no"),
            "exog_insulin": exog,
        }
    )
    if cpeptide:
        out["fasting_cpeptide_pmol_l"] = fasting_cpeptide(c)
    return out


def fasting_cpeptide(c: Cohort) -> np.ndarray:
    """Fasting C-peptide (pmol/L) of each patient at its current state: minute 0 of the meal model."""
    res = run_meal_day(ArmState(c, []), np.zeros((c.n, 1)))
    return np.asarray(res["cpeptide_pmol_l"][:, 0], dtype=float)


def _draw(d, seed: int, ids: np.ndarray, stream: str) -> np.ndarray:
    z = keyed_normal(seed, ids, stream)
    u = keyed_uniform(seed, ids, stream + ":u")
    if d.dist == "normal":
        x = d.mean + d.sd * z
    elif d.dist == "lognormal":
        x = d.median * np.exp(d.sigma_log * z)
    elif d.dist == "uniform":
        x = d.low + (d.high - d.low) * u
    elif d.dist == "fixed":
        x = np.full(ids.shape, d.value)
    else:  # pragma: no cover - categorical handled by caller
        raise ValueError(f"distribution {d.dist!r} is not numeric")
    lo = getattr(d, "low", None)
    hi = getattr(d, "high", None)
    return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)


def eligible(base: pd.DataFrame, inc: Any) -> np.ndarray:
    """Which rows of a baseline table meet the inclusion criteria (bounds and insulin use)."""
    ok = np.ones(len(base), dtype=bool)
    for name in ("age_years", "bmi_kg_m2", "diabetes_duration_years", "hba1c_percent", "insulin_u_per_kg_day",
                 "fasting_cpeptide_pmol_l"):
        b = getattr(inc, name, None)
        if b is None:
            continue
        v = base[name].to_numpy()
        if b.min is not None:
            ok &= v >= b.min
        if b.max is not None:
            ok &= v <= b.max
    if inc.insulin_use == "required":
        ok &= base["insulin_use"].to_numpy() == "yes"
    elif inc.insulin_use == "excluded":
        ok &= base["insulin_use"].to_numpy() == "no"
    return ok


def _for_engine(c: Cohort, base: pd.DataFrame, seed: int) -> Cohort:
    """The enrolled cohort with the screened demographics and the covariates therapies read."""
    n = c.n
    # after a run-in, therapies read the covariates the run-in started from (so an arm's replay of it is exact)
    weight = base.get("ctx_weight_kg", base["weight_kg"]).to_numpy(float)
    dose = base.get("ctx_insulin_u_per_day", base["insulin_u_per_day"]).to_numpy(float)
    ctx = PatientContext(
        n=n,
        body_weight_kg=weight,
        age_years=base["age_years"].to_numpy(float),
        female=(base["sex"] == "female").to_numpy(),
        seed=seed,
        patient_ids=c.patient_id.astype(np.int64),
        covariates={
            "insulin_dose_u_per_day": dose,
            "exog_insulin": base["exog_insulin"].to_numpy(float),
            "insulin_scale": insulin_scale(c.params),
            "diabetes_duration_years": base["diabetes_duration_years"].to_numpy(float),
            "hba1c_pct": base["hba1c_percent"].to_numpy(float),
            "bmi_kg_m2": c.bmi_kg_m2.astype(float),
        },
    )
    return Cohort(
        c.params, c.state, ctx, c.bmi_kg_m2.astype(float), base["height_cm"].to_numpy(float),
        preset=c.preset, effects=c.effects, baseline=c.baseline,
    )  # fmt: skip
