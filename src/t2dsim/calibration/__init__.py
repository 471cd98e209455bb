"""Calibration and validation of the stem-cell therapy models against published trials.

* :func:`calibrate` fits the T2D parameters (all trials, and leave-one-trial-out), the between-trial
  heterogeneity τ of each of those fits, and the β-cell replacement parameters, and writes a JSON results
  file (shipped: ``therapies/stemcells/calibrated/stemcells.json``).
* :func:`validate` predicts every case from the shipped results (T2D trials from the fit that left
  that trial out) and returns the predicted-vs-observed table.
* :func:`benefit_summaries` (in ``calibration.benefits``) gives benefits with intervals and risks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.calibration.beta_replacement import (
    CASE_LABELS as BETA_LABELS,
)
from t2dsim.calibration.beta_replacement import (
    beta_targets,
    fit_islet,
    islet_params_from_theta,
    run_beta_case,
)
from t2dsim.calibration.cases import BETA_CASES, CASES, case_dir, case_plan, run_case
from t2dsim.calibration.evidence import CASE_LABELS, T2D_CASES, t2d_targets
from t2dsim.calibration.fit import (
    EFFICACY_OF_CASE,
    THETA,
    bounds_log,
    dersimonian_laird_tau,
    efficacy_index,
    fit_cases,
    laplace_draws,
    params_from_theta,
    theta_names,
    trial_offset,
)

__all__ = [
    "calibrate",
    "validate",
    "default_results_path",
    "N_VIRTUAL",
    "acceptance_summary",
    "validation_markdown",
    "check_replication",
    "replication_record",
    "ResultsMismatch",
]

#: Virtual patients per arm of a T2D case (the case protocol files' ``n``). 120 since 2026-11-29 (was 40 per case):
#: with 40, the leave-one-trial-out outcome of single trials flipped with the population seed (seed 0: Wu 2014
#: outside, Bhansali 2017 inside; seed 1: the reverse), i.e. the virtual cohort's sampling noise was as large as the
#: margins being judged (docs/stem_cells.md §4 reports the seeds). Since issue 14 the cases run through the trial
#: runner, which randomises different patients to each arm (the old paired design gave every arm the same ones),
#: so 120 is per arm; the Monte Carlo SE of each endpoint is in docs/stem_cells.md ("Calibration on the engine").
N_VIRTUAL = 120
N_VIRTUAL_T1D = {"zimislecel": 40, "islet_modern": 80}
RESULTS_VERSION = 3  # 3: adds ``replication`` (trials.replication_settings)


def default_results_path() -> Path:
    """The shipped results file (beside the therapies that read it, so therapies never load calibration/)."""
    return Path(__file__).parents[1] / "therapies" / "stemcells" / "calibrated" / "stemcells.json"


def _t2d_plans(seed: int) -> dict[str, Any]:
    """The T2D cases' cached trial plans (``seed`` shifts every case file's own seed; 0: the files as they are)."""
    return {c: case_plan(c, seed) for c in CASES}


def _t1d_plans(seed: int) -> dict[str, Any]:
    """The β-cell replacement cases' cached trial plans (T1D; the E-islet case uses T2D patients)."""
    return {c: case_plan(c, seed) for c in BETA_CASES}


def _prior_records(pset: str) -> list[dict[str, Any]]:
    """The priors of one set as written to the results file (from data/calibration/priors.toml)."""
    from t2dsim.calibration.priors import priors_of_set

    return [
        {"name": p.name, "distribution": p.distribution, "centre": p.centre, "spread": p.spread, "source": p.source}
        for p in priors_of_set(pset).values()
    ]


def calibrate(out_dir: str | Path, seed: int = 0) -> Path:
    """Fit all parameters and write ``out_dir/stemcells.json``; returns its path (≈ 1 minute)."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = _t2d_plans(seed)
    targets = t2d_targets()
    full = fit_cases(plans, targets)
    loto = {}
    for case in T2D_CASES:
        loto[case] = fit_cases(plans, [t for t in targets if t.case != case], x0=np.array(full["log_theta"]))
    # between-trial heterogeneity: each fit's trials get their own efficacy offset δ (other parameters at that
    # fit's MAP); τ by DerSimonian-Laird over them — in a LOTO fold only the trials of that fold are used
    for fit, cases in [(full, T2D_CASES)] + [(loto[c], tuple(k for k in T2D_CASES if k != c)) for c in T2D_CASES]:
        off = {c: trial_offset(fit["log_theta"], plans[c], targets, c) for c in cases}
        fit["trial_offsets"] = {c: {"delta": d, "se": se} for c, (d, se) in off.items()}
        fit["tau"] = dersimonian_laird_tau(
            [off[c][0] for c in cases], [off[c][1] for c in cases], [EFFICACY_OF_CASE[c][0] for c in cases]
        )
    islet = fit_islet(_t1d_plans(seed))
    P = params_from_theta(full["log_theta"])
    central = {g: {k: getattr(P[g], k) for g2, k in THETA if g2 == g} for g in ("msc", "bmmnc", "placebo")}
    ip = islet_params_from_theta(np.array(islet["log_theta"]))
    central["islet"] = {
        "engraftment": ip.engraftment,
        "attrition_per_year": ip.attrition_per_year,
        "failure_per_year": ip.failure_per_year,
        "sc_beta_fraction": ip.sc_beta_fraction,
        "maturation_days": ip.maturation_days,
        "maturation_shape": ip.maturation_shape,
    }
    ens = []
    for x in laplace_draws(full["log_theta"], full["cov"], 40, seed, bounds_log()):
        Pi = params_from_theta(x)
        ens.append({g: {k: getattr(Pi[g], k) for g2, k in THETA if g2 == g} for g in ("msc", "bmmnc", "placebo")})
    res = {
        "version": RESULTS_VERSION,
        "seed": seed,
        "n_virtual": N_VIRTUAL,
        "n_virtual_t1d": N_VIRTUAL_T1D,
        "replication": replication_record(),
        "method": "MAP (scipy least_squares) with log-normal priors; Laplace posterior in log space; "
        "between-trial SD tau of log efficacy by DerSimonian-Laird on per-trial offsets",
        "theta_names": theta_names(),
        "theta_priors": _prior_records("THETA"),
        "full": full,
        "loto": loto,
        "islet": islet,
        "islet_theta_priors": _prior_records("ISLET_THETA"),
        "central": central,
        "ensemble": ens,
        "seconds": time.perf_counter() - t0,
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


def _interval(samples: list[float]) -> tuple[float, float]:
    a = np.asarray([s for s in samples if np.isfinite(s)])
    if a.size == 0:
        return float("nan"), float("nan")
    return float(np.percentile(a, 2.5)), float(np.percentile(a, 97.5))


def _validation_row(case: str, role: str, t, v: float, lo: float, hi: float, tau: float) -> dict:  # noqa: ANN001
    """One row of the validation table: prediction v with its 95 % interval [lo, hi] against target t's
    observed value and CI (``inside``: prediction inside the observed CI; ``obs_in_pi``: the reverse)."""
    return {
        "case": case,
        "endpoint": t.endpoint,
        "role": role,
        "predicted": v,
        "pred_low": lo,
        "pred_high": hi,
        "observed": t.observed,
        "obs_low": t.ci_low,
        "obs_high": t.ci_high,
        "inside": bool(t.ci_low <= v <= t.ci_high),
        "obs_in_pi": bool(lo <= t.observed <= hi),
        "tau": tau,
        "ci_method": t.ci_method,
        "verification": t.verification,
    }


def validate(results_path: str | Path | None = None, n_draws: int = 30, n_boot: int = 4) -> pd.DataFrame:
    """Predicted vs observed endpoints for every case, from a calibration results file.

    T2D trials are predicted from the fit that left that trial out (``role`` "LOTO"); Hu 2016 is shown
    but not scored. β-cell replacement rows say whether the target was used in the fit ("fit") or
    not ("held out"). Predicted interval: 2.5-97.5 percentiles over posterior draws × resampled trials
    of the published size; for T2D trials each draw also carries a new trial's own efficacy offset
    δ ~ N(0, τ²) (between-trial heterogeneity estimated without the left-out trial; column ``tau``), so the
    interval is a prediction interval for a new trial. ``inside`` (the acceptance criterion): the point
    prediction (MAP of the fit) within the observed 95 % interval; ``obs_in_pi``: the observed value within
    the prediction interval (information only).
    """
    path = Path(results_path) if results_path is not None else default_results_path()
    res = json.loads(path.read_text())
    check_replication(res, path)
    missing = [c for c in T2D_CASES if c not in res.get("loto", {})]
    if missing:
        raise ResultsMismatch(
            f"{path}: no leave-one-trial-out fold for {missing[0]!r}; its prediction would come from a fit that saw "
            "it. Rerun `t2dsim calibrate` to write a complete results file."
        )
    seed = int(res["seed"])
    rng = np.random.default_rng([seed, 77])
    rows: list[dict[str, Any]] = []
    plans = _t2d_plans(seed)
    targets = t2d_targets()
    for case in CASES:
        # a checked trial is predicted only from the fold that left it out (checked above)
        fit = res["loto"][case] if case in T2D_CASES else res["full"]
        ts = [t for t in targets if t.case == case]
        point = run_case(case, params_from_theta(fit["log_theta"]), plans[case])
        samples: dict[str, list[float]] = {t.endpoint: [] for t in ts}
        tau = float(fit.get("tau", 0.0))
        k_eff = efficacy_index(case)
        for x in laplace_draws(fit["log_theta"], fit["cov"], n_draws, seed, bounds_log())[1:]:
            x = x.copy()
            x[k_eff] += tau * rng.standard_normal()  # a new trial's own efficacy (random trial effect)
            st = run_case(case, params_from_theta(x), plans[case])
            for t in ts:
                for _ in range(n_boot):
                    samples[t.endpoint].append(st[t.endpoint].value(rng))
        for t in ts:
            v = point[t.endpoint].value()
            lo, hi = _interval(samples[t.endpoint])
            role = "LOTO" if t.scored else "not scored (attribution inferred)"
            rows.append(_validation_row(CASE_LABELS[case], role, t, v, lo, hi, tau))
    t1 = _t1d_plans(seed)
    isl = res["islet"]
    point_p = islet_params_from_theta(np.array(isl["log_theta"]))
    draws = laplace_draws(
        isl["log_theta"],
        isl["cov"],
        max(6, n_draws // 3),
        seed,
        (np.array(isl["bounds"][0]), np.array(isl["bounds"][1])),
    )[1:]
    bt = beta_targets()
    cache_point = {k: run_beta_case(k, point_p, t1[k]) for k in t1}
    cache_draws = [{k: run_beta_case(k, islet_params_from_theta(x), t1[k]) for k in t1} for x in draws]
    for t in bt:
        key = "islet_modern" if t.case.startswith("islet") else t.case
        v = float(np.mean(cache_point[key][t.endpoint]))
        smp = []
        for cd in cache_draws:
            a = cd[key][t.endpoint]
            for _ in range(n_boot):
                smp.append(float(np.mean(a[rng.integers(0, a.size, max(t.n, 1))])))
        lo, hi = _interval(smp)
        rows.append(_validation_row(BETA_LABELS[t.case], t.role, t, v, lo, hi, float("nan")))
    return pd.DataFrame(rows)


def acceptance_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Share of endpoints inside the observed 95 % interval per case (LOTO rows: criterion ≥ 0.75), with the
    share of observed values inside the prediction interval (``share_obs_in_pi``, information only)."""
    g = table.groupby(["case", "role"], sort=False)
    out = g["inside"].agg(["sum", "count", "mean"]).reset_index()
    out = out.rename(columns={"sum": "inside", "count": "endpoints", "mean": "share_inside"})
    if "obs_in_pi" in table.columns:
        out["share_obs_in_pi"] = g["obs_in_pi"].mean().to_numpy()
    return out


def validation_markdown(table: pd.DataFrame) -> str:
    """The validation table as Markdown (one block per case; values rounded for reading)."""

    def f(x: float) -> str:
        return "–" if not np.isfinite(x) else (f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}")

    has_pi = "obs_in_pi" in table.columns
    lines = [
        "| case | endpoint | role | predicted (95 % PI) | observed (95 % CI) | inside |"
        + (" obs. in PI |" if has_pi else ""),
        "|---|---|---|---|---|---|" + ("---|" if has_pi else ""),
    ]
    for r in table.itertuples():
        row = (
            f"| {r.case} | {r.endpoint} | {r.role} | {f(r.predicted)} ({f(r.pred_low)} to {f(r.pred_high)}) "
            f"| {f(r.observed)} ({f(r.obs_low)} to {f(r.obs_high)}) | {'yes' if r.inside else '**no**'} |"
        )
        if has_pi:
            row += f" {'yes' if r.obs_in_pi else 'no'} |"
        lines.append(row)
    return "\n".join(lines)
