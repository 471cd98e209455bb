"""Out-of-sample scores of every case and endpoint: the model (from the cold fold that left the case out) against
the two comparators of issue 16, with the committed acceptance rule (:mod:`t2dsim.calibration.loto_rule`).

For each endpoint: the model's predictive of the true effect (Laplace draws of the fold's posterior, incl. the bias
terms of uncontrolled rows and, for a T2D trial, a new trial's own efficacy offset δ ~ N(0, τ²)); comparator (a)
no stem-cell effect (a between-arm difference: 0; an arm-level change: the same draws with the cell efficacy set to
zero; a β-cell graft in C-peptide-negative patients: 0); comparator (b) one constant effect per cell class (the
random-effects pool of the other trials of the class with the identically named endpoint, ``None`` where there is
none). Scores (:func:`t2dsim.calibration.scoring.score`): log score, CRPS and the 95 % PI of the observed estimate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.calibration.beta_replacement import CASE_LABELS as BETA_LABELS
from t2dsim.calibration.beta_replacement import beta_targets, islet_params_from_theta, run_beta_case
from t2dsim.calibration.cases import CasePlan
from t2dsim.calibration.evidence import CASE_LABELS, pooled_check_targets, t2d_targets
from t2dsim.calibration.fit import EFFICACY_OF_CASE, CaseEvaluator, efficacy_index, laplace_draws
from t2dsim.calibration.loto_rule import LOTO_RULE, RuleVerdict, rule_verdict
from t2dsim.calibration.scoring import (
    EnsemblePredictive,
    NormalPredictive,
    Observed,
    TrialEffect,
    class_constant_loto,
    paired_difference,
    score,
)

__all__ = ["CELL_CLASS", "scored_rows", "synthesis_summary", "summary_text"]

#: Cell class of each case (comparator (b) pools within a class).
CELL_CLASS: dict[str, str] = {
    **{c: g for c, (g, _) in EFFICACY_OF_CASE.items()},
    "zimislecel": "sc_islet",
    "islet_modern": "donor_islet",
    "islet_edmonton_2005": "donor_islet",
    "eislets": "e_islet",
}


#: Labels of a case predicted by a cold fold whose starting points disagreed (map_fit ``report_disagreement``): the
#: prediction is the lowest objective's, reported and scored, and marked so no reader takes it for an identified fit.
_NOT_IDENTIFIED_ROLE = ", fold not identified"
_NOT_IDENTIFIED = " (starts disagree: lowest objective used, fold not identified)"


def _effects() -> list[TrialEffect]:
    out = [TrialEffect(t.case, CELL_CLASS[t.case], t.endpoint, t.observed, t.se) for t in t2d_targets() if t.scored]
    out += [TrialEffect(t.case, CELL_CLASS[t.case], t.endpoint, t.observed, t.se) for t in beta_targets()]
    return out


def _row(  # noqa: PLR0913
    case_key: str, label: str, role: str, source: str, t: Any, model: Any, none: Any, cls: Any, pt: float
) -> dict:
    obs = Observed.of(t)
    sm, sn = score(obs, model), score(obs, none)
    sc = score(obs, cls) if cls is not None else None
    return {
        "case_key": case_key,
        "case": label,
        "endpoint": t.endpoint,
        "role": role,
        "predicted_by": source,
        "cell_class": CELL_CLASS[case_key],
        "predicted": pt,
        "pred_low": sm.pi_low,
        "pred_high": sm.pi_high,
        "observed": t.observed,
        "obs_low": t.ci_low,
        "obs_high": t.ci_high,
        "obs_in_pi": sm.in_pi,
        "inside": bool(t.ci_low <= pt <= t.ci_high),
        "ls_model": sm.log_score,
        "ls_no_effect": sn.log_score,
        "ls_class": sc.log_score if sc else math.nan,
        "crps_model": sm.crps,
        "crps_no_effect": sn.crps,
        "ci_method": t.ci_method,
        "verification": t.verification,
        "obs_se": obs.se,
        "model_draws": model.array if isinstance(model, EnsemblePredictive) else np.array([model.mean]),
        "none_draws": none.array if isinstance(none, EnsemblePredictive) else np.array([none.mean]),
    }


def _t2d_rows(
    res: dict[str, Any], plans: dict[str, CasePlan], n_draws: int, seed: int, cls: dict, full: bool = False
) -> list[dict]:
    """T2D targets, each from the fold that left its case out, and the pooled checks, each from the fold that left
    all its member trials out (``full``: T2D targets from the full fit, for power analysis; pooled checks skipped)."""
    rows = []
    rng = np.random.default_rng([seed, 77])
    by_case: dict[str, list] = {}
    for t in t2d_targets() + ([] if full else pooled_check_targets()):
        by_case.setdefault(t.case, []).append(t)
    for case, ts in by_case.items():
        pooled = ts[0].role == "check"
        fold = case in res["loto"] and not full
        source = (f"fold without {case}'s member trials" if pooled else f"fold without {case}") if fold else "full fit"
        fit = res["loto"][case] if fold else res["full"]
        if fold and not fit.get("identified", True):
            source += _NOT_IDENTIFIED
        # the fit's smooth indicators: a draw without responders still has a defined HbA1c change of responders
        ev = CaseEvaluator({case: plans[case]}, ts, soft=True)
        kinds = {e.name: e.kind for e in plans[case].endpoints.endpoints}
        x_hat = np.asarray(fit["x"], dtype=float)
        bounds = (np.asarray(fit["bounds_all"][0]), np.asarray(fit["bounds_all"][1]))
        k_eff, tau = efficacy_index(case), float(fit["tau"])
        model, none = [], []
        for x in laplace_draws(x_hat, fit["cov_all"], n_draws + 1, seed, bounds)[1:]:
            x = x.copy()
            x[k_eff] += tau * rng.standard_normal()  # a new trial's own efficacy (random trial effect)
            model.append(ev.predictions(x))
            x[k_eff] = math.log(1e-12)  # no stem-cell effect: the same draw without the cells' efficacy
            none.append(ev.predictions(x))
        point = ev.predictions(x_hat)
        m, n0 = np.asarray(model), np.asarray(none)
        for i, t in enumerate(ts):
            pn = NormalPredictive(0.0, 0.0) if kinds[t.endpoint] == "diff" else EnsemblePredictive(n0[:, i])
            rows.append(
                _row(
                    case,
                    CASE_LABELS[case],
                    (("check (pooled)" if pooled else "fit (LOTO)") if fold else "check")
                    + ("" if fit.get("identified", True) else _NOT_IDENTIFIED_ROLE),
                    source,
                    t,
                    EnsemblePredictive(m[:, i]),
                    pn,
                    cls.get((case, t.endpoint)),  # None for a pooled check: no other trial has its endpoint
                    float(point[i]),
                )
            )
    return rows


def _islet_rows(res: dict[str, Any], plans: dict[str, CasePlan], n_draws: int, seed: int, cls: dict) -> list[dict]:
    """β-cell targets: a fitted case from its fold (the islet fit without it), a check-only case (Edmonton era,
    E-islets) from the full islet fit, which never saw it."""
    rows = []
    folds = res.get("islet_folds", {})
    cache: dict[tuple[str, str], tuple[dict[str, float], list[dict[str, float]]]] = {}

    def means(key: str, x: np.ndarray) -> dict[str, float]:
        return {k: float(np.mean(v)) for k, v in run_beta_case(key, islet_params_from_theta(x), plans[key]).items()}

    for t in beta_targets():
        run_key = "islet_modern" if t.case.startswith("islet") else t.case
        src = t.case if t.case in folds else "full"
        fit = folds[t.case] if t.case in folds else res["islet"]
        if (src, run_key) not in cache:
            b = (np.asarray(fit["bounds"][0]), np.asarray(fit["bounds"][1]))
            draws = laplace_draws(fit["log_theta"], fit["cov"], n_draws + 1, seed, b)[1:]
            cache[(src, run_key)] = (means(run_key, np.asarray(fit["log_theta"])), [means(run_key, x) for x in draws])
        pt, dr = cache[(src, run_key)]
        role = "fit (LOTO)" if (t.case in folds and t.role == "fit") else "check"
        if not fit.get("identified", True):
            role += _NOT_IDENTIFIED_ROLE
        rows.append(
            _row(
                t.case,
                BETA_LABELS[t.case],
                role,
                (f"fold without {t.case}" if t.case in folds else "full islet fit")
                + ("" if fit.get("identified", True) else _NOT_IDENTIFIED),
                t,
                EnsemblePredictive([d[t.endpoint] for d in dr]),
                NormalPredictive(0.0, 0.0),
                cls[(t.case, t.endpoint)],
                pt[t.endpoint],
            )
        )
    return rows


def scored_rows(
    res: dict[str, Any],
    t2d_plans: dict[str, CasePlan],
    beta_plans: dict[str, CasePlan] | None,
    n_draws: int,
    seed: int,
    full: bool = False,
) -> pd.DataFrame:
    """The scored table of every case and endpoint (one row each; ``beta_plans`` None: T2D cases only; ``full``:
    T2D predictions from the full fit instead of the folds, the data-generating model of the power analysis).
    Columns ``model_draws`` / ``none_draws`` hold the predictive draws (for the power simulation)."""
    cls = class_constant_loto(_effects())
    rows = _t2d_rows(res, t2d_plans, n_draws, seed, cls, full)
    if beta_plans is not None:
        rows += _islet_rows(res, beta_plans, n_draws, seed, cls)
    return pd.DataFrame(rows)


def _diff(a: pd.Series, b: pd.Series) -> tuple[float, float, int]:
    ok = np.isfinite(a.to_numpy()) & np.isfinite(b.to_numpy())
    if ok.sum() < 2:
        return math.nan, math.nan, int(ok.sum())
    m, se = paired_difference(a[ok], b[ok])
    return m, se, int(ok.sum())


def synthesis_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Coverage, mean log-score differences (with SE) vs each comparator, comparator counts and the rule's verdict,
    for the T2D cell-therapy trials' endpoints (the rule's set) and, separately, the pooled meta-analytic checks
    (never in the rule: they overlap their member trials) and the β-cell replacement endpoints."""
    out: dict[str, Any] = {}
    pooled = table[table["role"].str.startswith("check (pooled)")]
    t2d = table[table["cell_class"].isin(["msc", "bmmnc"]) & ~table.index.isin(pooled.index)]
    beta = table[~table.index.isin(t2d.index) & ~table.index.isin(pooled.index)]
    for name, sub in (("t2d", t2d), ("pooled", pooled), ("beta", beta)):
        d_none = _diff(sub["ls_model"], sub["ls_no_effect"])
        d_cls = _diff(sub["ls_model"], sub["ls_class"])
        out[name] = {
            "endpoints": int(len(sub)),
            "in_pi": int(sub["obs_in_pi"].sum()),
            "coverage": float(sub["obs_in_pi"].mean()) if len(sub) else math.nan,
            "vs_no_effect": {"mean": d_none[0], "se": d_none[1], "n": d_none[2]},
            "vs_class": {"mean": d_cls[0], "se": d_cls[1], "n": d_cls[2]},
            "not_identified_cases": sorted(set(sub.loc[sub["role"].str.endswith(_NOT_IDENTIFIED_ROLE), "case"])),
            "with_class_comparator": int(np.isfinite(sub["ls_class"]).sum()),
            "no_effect_only": int((~np.isfinite(sub["ls_class"])).sum()),
        }
    v: RuleVerdict = rule_verdict(t2d["case_key"], t2d["ls_model"], t2d["ls_no_effect"], t2d["obs_in_pi"])
    out["rule"] = {
        "version": LOTO_RULE["version"],
        "sum_diff": v.sum_diff,
        "threshold": v.threshold,
        "t_stat": v.t_stat,
        "t_crit": v.t_crit,
        "k_trials": v.k_trials,
        "mean_trial_diff": v.mean_diff,
        "se_trial_diff": v.se_diff,
        "n_in_pi": v.n_in_pi,
        "n_endpoints": v.n_endpoints,
        "coverage_range": [v.coverage_low, v.coverage_high],
        "better_than_no_effect": v.better_than_no_effect,
        "v1_better_than_no_effect": v.v1_better_than_no_effect,
        "coverage_ok": v.coverage_ok,
        "passed": v.passed,
    }
    return out


def summary_text(s: dict[str, Any]) -> str:
    """The summary as plain text (CLI and docs)."""
    lines = []
    groups = (
        ("t2d", "T2D MSC / BM-MNC trials (the rule's endpoints)"),
        ("pooled", "Pooled meta-analytic checks (folds without their member trials; not in the rule)"),
        ("beta", "β-cell replacement"),
    )
    for name, title in groups:
        g = s[name]
        if g["endpoints"] == 0:
            continue
        lines.append(
            f"{title}: {g['endpoints']} endpoints, observed inside the 95 % PI {g['in_pi']}/{g['endpoints']} "
            f"({100 * g['coverage']:.0f} %); mean log-score difference model − no effect "
            f"{g['vs_no_effect']['mean']:+.2f} (SE {g['vs_no_effect']['se']:.2f}, n {g['vs_no_effect']['n']}); "
            f"model − class constant {g['vs_class']['mean']:+.2f} (SE {g['vs_class']['se']:.2f}, n "
            f"{g['vs_class']['n']}); comparators: both on {g['with_class_comparator']}, no-effect only on "
            f"{g['no_effect_only']}"
            + (f"; folds not identified (starts disagree): {', '.join(g['not_identified_cases'])}"
               if g["not_identified_cases"] else "")
        )
    r = s["rule"]
    lines.append(
        f"LOTO rule v{r['version']} (calibration.loto_rule): summed log-score difference model − no effect S = "
        f"{r['sum_diff']:+.2f} over {r['n_endpoints']} endpoints vs log 20 = {r['threshold']:.2f} -> "
        f"{'better' if r['better_than_no_effect'] else 'NOT better'} than no effect; "
        f"PI coverage {r['n_in_pi']}/{r['n_endpoints']} vs range {r['coverage_range'][0]}-{r['coverage_range'][1]} "
        f"-> {'ok' if r['coverage_ok'] else 'NOT ok'}; rule {'PASSED' if r['passed'] else 'FAILED'}"
        f" (rule v1's trial-level t = {r['t_stat']:.2f} vs t(0.95, {r['k_trials'] - 1}) = {r['t_crit']:.2f}, "
        "reported, not decisive)"
    )
    return "\n".join(lines)
