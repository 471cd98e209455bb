"""Cold leave-one-trial-out: the full fit and one fit per fold, each FROM THE PRIOR with the fold's trials removed.

A job is (kind, held-out case): kind "t2d" fits (log θ, bias terms) to the T2D cases the fold may fit
(``evidence_roles.cold_loto_folds()``), then each fitted trial's own efficacy offset and the between-trial SD τ
(DerSimonian-Laird); kind "islet" fits the islet parameters without the held-out β-cell case. ``None``: the full fit.
No fold is warm-started from the full fit, and a fold that fails raises (``map_fit.FitFailed``) instead of falling
back to another fit. Jobs are independent and deterministic, so they run in worker processes without changing the
result (:func:`run_jobs`).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from t2dsim.calibration.beta_replacement import fit_islet
from t2dsim.calibration.cases import CASES, CHECK_CASES, case_plan
from t2dsim.calibration.evidence import t2d_targets
from t2dsim.calibration.evidence_roles import cold_loto_folds
from t2dsim.calibration.fit import EFFICACY_OF_CASE, dersimonian_laird_tau, fit_cases, trial_offset
from t2dsim.core.threads import use_one_thread

__all__ = ["Job", "jobs", "run_job", "run_jobs", "t2d_fit_cases", "islet_fit_cases", "worker_pool"]

Job = tuple[str, str | None]
#: β-cell replacement cases that carry fitted targets (the others are checks only)
_ISLET_FIT_CASES = ("zimislecel", "islet_modern")


def t2d_fit_cases(held_out: str | None) -> tuple[str, ...]:
    """The T2D cases a fold may fit (all T2D cases for the full fit)."""
    if held_out is None:
        return CASES
    fold = cold_loto_folds()[held_out]
    return tuple(c for c in CASES if c in fold.fit_cases)


def islet_fit_cases(held_out: str | None) -> tuple[str, ...]:
    """The β-cell cases an islet fold may fit."""
    if held_out is None:
        return _ISLET_FIT_CASES
    fold = cold_loto_folds()[held_out]
    return tuple(c for c in _ISLET_FIT_CASES if c in fold.fit_cases)


def jobs() -> list[Job]:
    """Every fit of a calibration: full T2D, one per T2D case and one per pooled check (its member trials left
    out), full islet, one per fitted β-cell case."""
    folds = cold_loto_folds()
    t2d = [c for c in CASES + CHECK_CASES if c in folds]
    return [("t2d", None), *(("t2d", c) for c in t2d), ("islet", None), *(("islet", c) for c in _ISLET_FIT_CASES)]


def run_job(job: Job, seed: int, max_nfev: int | None = None, n_per_arm: int | None = None) -> dict[str, Any]:
    """One fit from the prior (two starts). ``n_per_arm`` (tests only) shrinks the virtual trials."""
    kind, held = job
    label = f"{kind} fit" + (f" without {held}" if held else " (all trials)")
    kw: dict[str, Any] = {} if max_nfev is None else {"max_nfev": max_nfev}
    # a fold whose starts disagree is reported as not identified (validate labels its case); a full fit must agree
    kw["report_disagreement"] = held is not None
    if kind == "islet":
        fit_on = islet_fit_cases(held)
        plans = {c: case_plan(c, seed, n_per_arm) for c in fit_on}
        excl = tuple(c for c in _ISLET_FIT_CASES if c not in fit_on)
        return fit_islet(plans, exclude_cases=excl, label=label, **kw)
    fit_on = t2d_fit_cases(held)
    plans = {c: case_plan(c, seed, n_per_arm) for c in fit_on}
    targets = [t for t in t2d_targets() if t.case in fit_on]
    fit = fit_cases(plans, targets, label=label, **kw)
    off = {c: trial_offset(fit["x"], plans[c], targets, c) for c in fit_on}
    fit["trial_offsets"] = {c: {"delta": d, "se": se} for c, (d, se) in off.items()}
    fit["tau"] = dersimonian_laird_tau(
        [off[c][0] for c in fit_on], [off[c][1] for c in fit_on], [EFFICACY_OF_CASE[c][0] for c in fit_on]
    )
    fit["held_out"] = held
    return fit


def _checkpoint(folder: Path | None, job: Job, seed: int) -> Path | None:
    """File of one finished job, keyed by everything its result depends on (seed, priors, inclusion table, case
    files and replication settings, the fitting code's tolerances); None without a folder."""
    if folder is None:
        return None
    from t2dsim.calibration import replication_record
    from t2dsim.calibration.fit import DURABILITY
    from t2dsim.calibration.map_fit import DOMINANT_MASS, DURABILITY_START_SHIFT, FTOL, MAX_NFEV, START_TOLERANCE

    data = resources.files("t2dsim.data")
    key = json.dumps(
        [
            job,
            seed,
            data.joinpath("calibration/priors.toml").read_text(encoding="utf-8"),
            data.joinpath("calibration/evidence_roles.csv").read_text(encoding="utf-8"),
            replication_record(),
            [FTOL, MAX_NFEV, START_TOLERANCE],
            [DURABILITY, DURABILITY_START_SHIFT, DOMINANT_MASS],
        ],
        sort_keys=True,
        default=str,
    )
    return folder / f"{job[0]}-{job[1] or 'full'}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def _run(args: tuple[Job, int, Path | None]) -> dict[str, Any]:
    job, seed, folder = args
    path = _checkpoint(folder, job, seed)
    if path is not None and path.is_file():
        return json.loads(path.read_text())
    out = run_job(job, seed)
    if path is not None:
        path.write_text(json.dumps(out, default=float))
    return out


def run_jobs(seed: int, workers: int | None = None, checkpoints: Path | None = None) -> dict[Job, dict[str, Any]]:
    """Every job of :func:`jobs`, in ``workers`` processes (default: the CPUs available, at most 2; 1: in this
    process). The result does not depend on ``workers``. ``checkpoints``: a folder where each finished job is kept
    (named by a hash of all its inputs), so an interrupted calibration resumes with the same result."""
    todo = jobs()
    if checkpoints is not None:
        checkpoints.mkdir(parents=True, exist_ok=True)
    n = workers if workers is not None else max(1, min(2, len(os.sched_getaffinity(0))))
    if n <= 1:
        return {j: _run((j, seed, checkpoints)) for j in todo}
    # the slow islet fits first, so the two workers finish close together
    order = sorted(todo, key=lambda j: (j[0] != "islet", str(j[1])))
    with worker_pool(n) as ex:
        out = dict(zip(order, ex.map(_run, [(j, seed, checkpoints) for j in order]), strict=True))
    return {j: out[j] for j in todo}


def worker_pool(n: int) -> ProcessPoolExecutor:
    """``n`` spawned worker processes, each on one compute thread (:func:`t2dsim.core.threads.use_one_thread`):
    with Numba's default of one thread per core, two calibration workers on two cores ran each case 4x slower."""
    return ProcessPoolExecutor(max_workers=n, mp_context=get_context("spawn"), initializer=use_one_thread)
