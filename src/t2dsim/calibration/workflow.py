"""Calibrate and validate: the user-facing steps of the stem-cell evidence synthesis (re-exported lazily by
:mod:`t2dsim.calibration`, so that reading the bundled evidence, e.g. :mod:`~t2dsim.calibration.pooled` for a trial
report, does not import the fitting machinery)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.calibration.beta_replacement import islet_params_from_theta
from t2dsim.calibration.cases import BETA_CASES, CASES, CHECK_CASES, case_dir, case_plan
from t2dsim.calibration.cold_loto import run_jobs
from t2dsim.calibration.evidence import T2D_CASES
from t2dsim.calibration.fit import THETA, bounds_log, laplace_draws, params_from_theta, theta_names
from t2dsim.calibration.scored_validation import scored_rows, summary_text, synthesis_summary  # noqa: F401 (re-exported)

# public names: listed once, in the package (t2dsim.calibration.__all__), which re-exports them lazily

#: Virtual patients per arm of a T2D case (the case protocol files' ``n``). 120 since 2026-11-29 (was 40 per case):
#: with 40, the leave-one-trial-out outcome of single trials flipped with the population seed (seed 0: Wu 2014
#: outside, Bhansali 2017 inside; seed 1: the reverse), i.e. the virtual cohort's sampling noise was as large as the
#: margins being judged (docs/stem_cells.md §4 reports the seeds). Since issue 14 the cases run through the trial
#: runner, which randomises different patients to each arm (the old paired design gave every arm the same ones),
#: so 120 is per arm; the Monte Carlo SE of each endpoint is in docs/stem_cells.md ("Calibration on the engine").
N_VIRTUAL = 120
N_VIRTUAL_T1D = {"zimislecel": 40, "islet_modern": 80}
RESULTS_VERSION = 4  # 3: adds ``replication``; 4: cold LOTO folds from the prior, bias terms, islet folds


def default_results_path() -> Path:
    """The shipped results file (beside the therapies that read it, so therapies never load calibration/)."""
    return Path(__file__).parents[1] / "therapies" / "stemcells" / "calibrated" / "stemcells.json"


def _t2d_plans(seed: int) -> dict[str, Any]:
    """The T2D cases' cached trial plans (``seed`` shifts every case file's own seed; 0: the files as they are)."""
    return {c: case_plan(c, seed) for c in CASES + CHECK_CASES}


def _t1d_plans(seed: int) -> dict[str, Any]:
    """The β-cell replacement cases' cached trial plans (T1D; the E-islet case uses T2D patients)."""
    return {c: case_plan(c, seed) for c in BETA_CASES}


def _islet_record(log_theta: np.ndarray) -> dict[str, Any]:
    """The β-cell graft parameters of an islet-fit θ as stored in the results file (``central`` / ``ensemble``)."""
    ip = islet_params_from_theta(np.asarray(log_theta, dtype=float))
    return {
        "engraftment": ip.engraftment,
        "attrition_per_year": ip.attrition_per_year,
        "failure_per_year": ip.failure_per_year,
        "sc_beta_fraction": ip.sc_beta_fraction,
        "maturation_days": ip.maturation_days,
        "maturation_shape": ip.maturation_shape,
    }


def _prior_records(pset: str) -> list[dict[str, Any]]:
    """The priors of one set as written to the results file (from data/calibration/priors.toml)."""
    from t2dsim.calibration.priors import priors_of_set

    return [
        {"name": p.name, "distribution": p.distribution, "centre": p.centre, "spread": p.spread, "source": p.source}
        for p in priors_of_set(pset).values()
    ]


def calibrate(out_dir: str | Path, seed: int = 0, workers: int | None = None) -> Path:
    """Fit all parameters from the priors (full fit and one cold leave-one-trial-out fold per fitted case, two
    starting points each; calibration.cold_loto) and write ``out_dir/stemcells.json``; returns its path. Each finished
    fit is kept in ``out_dir/jobs`` (keyed by a hash of its inputs) so an interrupted run resumes."""
    t0, c0 = time.perf_counter(), time.process_time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fits = run_jobs(seed, workers, out_dir / "jobs")
    full = fits[("t2d", None)]
    loto = {c: f for (k, c), f in fits.items() if k == "t2d" and c is not None}
    islet = fits[("islet", None)]
    islet_folds = {c: f for (k, c), f in fits.items() if k == "islet" and c is not None}
    P = params_from_theta(full["log_theta"])
    central = {g: {k: getattr(P[g], k) for g2, k in THETA if g2 == g} for g in ("msc", "bmmnc", "placebo")}
    central["islet"] = _islet_record(np.array(islet["log_theta"]))
    ens = []
    for x in laplace_draws(full["log_theta"], full["cov"], 40, seed, bounds_log()):
        Pi = params_from_theta(x)
        ens.append({g: {k: getattr(Pi[g], k) for g2, k in THETA if g2 == g} for g in ("msc", "bmmnc", "placebo")})
    # the islet parameters' own Laplace posterior (a separate fit, so an independent stream): every member carries
    # a draw, so a trial's posterior PI covers the β-cell graft too (member 0 is the MAP, as for the T2D groups)
    islet_box = (np.array(islet["bounds"][0]), np.array(islet["bounds"][1]))
    islet_draws = laplace_draws(islet["log_theta"], islet["cov"], len(ens), seed, islet_box, stream=6)
    for member, x in zip(ens, islet_draws, strict=True):
        member["islet"] = _islet_record(x)
    res = {
        "version": RESULTS_VERSION,
        "seed": seed,
        "n_virtual": N_VIRTUAL,
        "n_virtual_t1d": N_VIRTUAL_T1D,
        "replication": replication_record(),
        "method": "MAP (scipy least_squares, two starts) of log theta and the bias terms of uncontrolled studies with "
        "the priors of data/calibration/priors.toml; Laplace posterior; cold leave-one-trial-out folds refitted from "
        "the prior; between-trial SD tau of log efficacy by DerSimonian-Laird on per-trial offsets",
        "theta_names": theta_names(),
        "theta_priors": _prior_records("THETA"),
        "bias_priors": [r for r in _prior_records("NEW") if r["name"].startswith("bias.")],
        "full": full,
        "loto": loto,
        "islet": islet,
        "islet_folds": islet_folds,
        "islet_theta_priors": _prior_records("ISLET_THETA"),
        "central": central,
        "ensemble": ens,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds_main_process": time.process_time() - c0,
    }
    path = out_dir / "stemcells.json"
    path.write_text(json.dumps(res, indent=1, default=float))
    return path


class ResultsMismatch(ValueError):
    """A calibration results file that does not fit this code (other trial-replication settings)."""


def replication_record() -> dict[str, Any]:
    """Everything of the trial replications a fit depends on: the simulator, each case's protocol and endpoint files
    (SHA-256 of their text: population, arms, conduct, visits, seed, endpoint definitions), the insulin-sparing
    conduct's goal, review interval and basal share, and the meal-model gains BM-MNC acts on."""
    from t2dsim.therapies.insulin_sparing import BASAL_SHARE_OF_TDD, REVIEW_DAYS, TITRATION_TARGET_A1C
    from t2dsim.therapies.stemcells.bmmnc import BMMNC_MEAL_GAINS
    from t2dsim.trial.protocol import protocol_sha256

    exts = (".toml", ".endpoints.toml")
    files = {
        c: [protocol_sha256((case_dir() / f"{c}{e}").read_text(encoding="utf-8")) for e in exts]
        for c in CASES + BETA_CASES
    }
    return {
        "simulator": "trial.runner (case protocol files, issue 14)",
        "case_files_sha256": files,
        "titration_target_a1c": TITRATION_TARGET_A1C,
        "review_days": REVIEW_DAYS,
        "basal_share_of_tdd": BASAL_SHARE_OF_TDD,
        "n_virtual": N_VIRTUAL,
        "bmmnc_meal_gains": list(BMMNC_MEAL_GAINS),
    }


def check_replication(res: dict[str, Any], path: Path | str = "results") -> None:
    """Refuse a results file whose trial replications (titration rules, basal share, cohort size, BM-MNC meal
    mapping) differ from this code's: its fitted parameters would be validated against trials simulated differently."""
    got = res.get("replication")
    want = replication_record()
    if got != want:
        raise ResultsMismatch(
            f"{path}: calibration made under other trial-replication settings ({got!r}; this code uses {want!r}); "
            "rerun `t2dsim calibrate` to regenerate it"
        )


def validate(results_path: str | Path | None = None, n_draws: int = 30, keep_draws: bool = False) -> pd.DataFrame:
    """Every case and endpoint predicted out of sample from a calibration results file and scored
    (calibration.scored_validation): a fitted case from the cold fold that left it out (role "fit (LOTO)"), a
    check-only endpoint from a fit that never saw it (role "check"); prediction with the 95 % PI of the observed
    estimate (``n_draws`` posterior draws), observed with its 95 % CI, whether it lies in the PI, and the log scores of
    the model, the no-effect comparator and the class-constant comparator (``keep_draws``: also the predictive
    draws, columns model_draws / none_draws)."""
    path = Path(results_path) if results_path is not None else default_results_path()
    res = json.loads(path.read_text())
    check_replication(res, path)
    missing = [c for c in (*T2D_CASES, *CHECK_CASES) if c not in res.get("loto", {})]
    if missing:
        raise ResultsMismatch(
            f"{path}: no leave-one-trial-out fold for {missing[0]!r}; its prediction would come from a fit that saw "
            "it. Rerun `t2dsim calibrate` to write a complete results file."
        )
    if res.get("version") != RESULTS_VERSION:
        raise ResultsMismatch(
            f"{path}: results version {res.get('version')!r}, this code reads {RESULTS_VERSION} (cold LOTO folds, "
            "bias terms); rerun `t2dsim calibrate` to regenerate it"
        )
    seed = int(res["seed"])
    table = scored_rows(res, _t2d_plans(seed), _t1d_plans(seed), n_draws, seed)
    return table if keep_draws else table.drop(columns=["model_draws", "none_draws"])


def acceptance_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Coverage, log-score differences vs each comparator (with SE) and the committed rule's verdict."""
    return synthesis_summary(table)


def claim_line(table: pd.DataFrame) -> str:
    """The one sentence the README may say about the calibration (issue 16, acceptance 6), from a validation table:
    N = published studies the fit uses (distinct DOIs of the ``fit`` rows of the inclusion table), M = endpoints
    predicted out of sample (every row of the table: a fitted case from the cold fold that left it out, a check
    from a fit that never saw it), X = share of them whose observed estimate lies in the model's 95 % PI."""
    from t2dsim.calibration.evidence import evidence_rows
    from t2dsim.calibration.evidence_roles import evidence_roles

    rows = evidence_rows()
    dois = {rows[r.id]["doi"] or r.id for r in evidence_roles().values() if r.role == "fit"}
    m = len(table)
    x = 100.0 * float(table["obs_in_pi"].mean()) if m else float("nan")
    n = len(dois)
    return f"calibrated to {n} published studies, checked out of sample on {m} endpoints with coverage {x:.0f} %"


def validation_markdown(table: pd.DataFrame) -> str:
    """The scored table as Markdown (values rounded for reading; log scores: higher is better)."""

    def f(x: float) -> str:
        return "–" if not np.isfinite(x) else (f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}")

    lines = [
        "| case | endpoint | role | predicted (95 % PI) | observed (95 % CI) | in PI | log score model "
        "| no effect | class constant |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.case} | {r.endpoint} | {r.role} | {f(r.predicted)} ({f(r.pred_low)} to {f(r.pred_high)}) "
            f"| {f(r.observed)} ({f(r.obs_low)} to {f(r.obs_high)}) | {'yes' if r.obs_in_pi else '**no**'} "
            f"| {f(r.ls_model)} | {f(r.ls_no_effect)} | {f(r.ls_class)} |"
        )
    return "\n".join(lines)
