"""The analysis of a trial run, computed once: endpoints (ANCOVA), responders, trajectories, flow and
baseline characteristics.

:func:`analyse_run` builds a :class:`TrialAnalysis` from a run's long results and patient tables; the run
store keeps it beside the run (Parquet tables + JSON), the CLI prints its endpoint table and the report
renders it, so all three show the same numbers and the report holds no statistics code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.population.baseline_targets import MEAN_TOLERANCE_SD, SD_TOLERANCE_FRACTION, target_table
from t2dsim.trial.draws import draw_sets
from t2dsim.trial.posterior import CI_LABEL, PI_LABEL, draw_estimates, prediction_intervals
from t2dsim.trial.statistics import (
    LONG_COLUMNS,
    Rows,
    analyse_endpoints,
    endpoint_frame,
    responder_table,
    rows_of,
    trajectory_summary,
)

__all__ = ["ENDPOINT_COLUMNS", "TrialAnalysis", "analyse_run", "format_p", "format_value"]


def format_value(x: float) -> str:
    """An estimate or interval limit as every output shows it (4 significant digits)."""
    return "" if pd.isna(x) else f"{float(x):.4g}"


def format_p(p: float) -> str:
    """A p-value as every output shows it (3 decimals, "<0.001" below)."""
    return "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{float(p):.3f}")

#: Columns of the endpoint table shown by the CLI (and the report's endpoint table).
ENDPOINT_COLUMNS = ("endpoint", "arm", "reference", "estimate", "ci_low", "ci_high", "p_value", "pi_low", "pi_high")
#: Per-patient columns that are flags, not baseline characteristics.
PATIENT_FLAGS = frozenset({"run_id", "arm", "patient_id", "randomised", "completed", "dropout_month"})
_TABLES = ("endpoints", "responders", "trajectories", "flow", "baseline", "baseline_targets", "draws")


@dataclass
class TrialAnalysis:
    """Everything the report and the CLI show of a trial's statistics.

    Attributes:
        endpoints: one row per (endpoint, non-reference arm): ANCOVA of change from baseline
            (:func:`t2dsim.trial.statistics.analyse_endpoints` columns, units of the measure).
        responders: responder shares with Wilson CIs and differences vs the reference arm.
        trajectories: mean, SD, n and t-based CI per arm, measure and visit (observed values).
        flow: per arm: planned, randomised, completed, dropped out, median dropout month, analysed.
        baseline: baseline characteristics by arm (mean and SD, or n and % per level), as text cells.
        baseline_targets: the protocol's requested baseline distributions beside the achieved ones (all
            randomised; :func:`t2dsim.population.baseline_targets.target_table`), empty without requests.
        draws: per posterior draw, the endpoint estimates on the same patients (:mod:`t2dsim.trial.posterior`;
            empty without draws); ``endpoints`` then also has the posterior PI (``pi_low``, ``pi_high``).
        settings: reference arm, alpha, missing-data rule, primary endpoint.
        problems: analyses that could not be done (name → reason), shown instead of a table.
    """

    endpoints: pd.DataFrame
    responders: pd.DataFrame
    trajectories: pd.DataFrame
    flow: pd.DataFrame
    baseline: pd.DataFrame
    baseline_targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    draws: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def endpoint_table(self) -> pd.DataFrame:
        """The endpoint columns the CLI prints (:data:`ENDPOINT_COLUMNS` present in the table)."""
        return self.endpoints[[c for c in ENDPOINT_COLUMNS if c in self.endpoints.columns]]

    @property
    def n_draws(self) -> int:
        """Posterior draws behind the PIs (0: central values only)."""
        return int(self.settings.get("posterior", {}).get("draws", 0))

    def interval_labels(self) -> tuple[str, str]:
        """The labels of the sampling CI and of the posterior PI (:mod:`t2dsim.trial.posterior`)."""
        level = 100 * (1 - self.settings["alpha"])
        return CI_LABEL.format(level=level), PI_LABEL.format(level=level, k=self.n_draws)

    def endpoint_lines(self) -> list[str]:
        """One line per endpoint comparison, formatted as the report's endpoint table shows the same numbers
        (with posterior draws: the PI after the CI, and a last line saying which parameters the draws vary)."""
        ci, pi = self.interval_labels()
        lines = []
        for _, r in self.endpoint_table().iterrows():
            p = format_p(r["p_value"])
            line = (
                f"{r['endpoint']}, {r['arm']} vs {r['reference']}: {format_value(r['estimate'])} "
                f"({ci} {format_value(r['ci_low'])} to {format_value(r['ci_high'])}, "
                + (f"p {p}" if p.startswith("<") else f"p = {p}")
                + ")"
            )
            if self.n_draws:
                line += f"; {pi} {format_value(r['pi_low'])} to {format_value(r['pi_high'])}"
            lines.append(line)
        if self.n_draws:
            lines.append(self.posterior_note())
        return lines

    def posterior_note(self) -> str:
        """What the posterior draws vary and what they hold (one sentence per fact)."""
        post = self.settings.get("posterior", {})
        text = (
            f"PI: {post.get('draws')} posterior draws of the stem-cell parameters on the same patients (same "
            "screening, randomisation, dropout and measurement error); varied: "
            f"{', '.join(post.get('varied_groups', [])) or 'none'}."
        )
        fixed = post.get("fixed_groups", [])
        if fixed:
            text += (f" Held at central values in every draw (the ensemble has no draws of them): {', '.join(fixed)}; "
                     "an arm that depends only on these has a PI from the other groups alone.")  # fmt: skip
        return text

    def save(self, folder: str | Path) -> None:
        """Write the tables as Parquet and the settings as JSON into ``folder`` (created)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name in _TABLES:
            getattr(self, name).to_parquet(out / f"{name}.parquet", index=False)
        (out / "analysis.json").write_text(
            json.dumps({"settings": self.settings, "problems": self.problems}, indent=1, default=str), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: str | Path) -> TrialAnalysis:
        """Read an analysis written by :meth:`save`."""
        src = Path(folder)
        if not (src / "analysis.json").is_file():
            raise FileNotFoundError(f"no stored analysis in {src} (runs saved before analyses were stored have none)")
        meta = json.loads((src / "analysis.json").read_text(encoding="utf-8"))
        # analyses stored before baseline targets existed have no such table
        files = {name: src / f"{name}.parquet" for name in _TABLES}
        tables = {name: pd.read_parquet(f) for name, f in files.items() if f.is_file()}
        return cls(**tables, settings=meta.get("settings", {}), problems=meta.get("problems", {}))


def _flow(results: Rows, patients: pd.DataFrame, protocol: Any, arms: list[str]) -> tuple[pd.DataFrame, str]:
    prim, miss = protocol.endpoints.primary, protocol.analysis.missing
    problem = ""
    try:
        fr = endpoint_frame(rows_of(results, prim.measure), prim.measure, prim.visit_month, missing=miss)
        n_an = fr.groupby("arm").size()
    except ValueError as exc:
        n_an, problem = pd.Series(dtype=int), str(exc)
    rows = []
    names = {x.name for x in protocol.arms}
    for a in arms:
        p = patients.loc[patients["arm"] == a]
        rand = int(p["randomised"].astype(bool).sum()) if "randomised" in p else len(p)
        comp = int(p["completed"].astype(bool).sum())
        drop = p.loc[~p["completed"].astype(bool), "dropout_month"]
        rows.append(
            {
                "arm": a,
                "planned": protocol.arm(a).n if a in names else np.nan,
                "randomised": rand,
                "completed": comp,
                "dropped out": rand - comp,
                "median dropout month": float(drop.median()) if len(drop) else np.nan,
                "analysed (primary)": int(n_an.get(a, 0)),
            }
        )
    return pd.DataFrame(rows), problem


def _baseline(patients: pd.DataFrame, arms: list[str], labels: Mapping[str, str]) -> pd.DataFrame:
    rows = [{"characteristic": "n"} | {a: str(int((patients["arm"] == a).sum())) for a in arms}]
    for c in (c for c in patients.columns if c not in PATIENT_FLAGS):
        s = patients[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            for level in sorted(map(str, pd.unique(s.dropna()))):
                row = {"characteristic": f"{c} = {level}, n (%)"}
                for a in arms:
                    x = s[patients["arm"] == a].astype(str)
                    row[a] = f"{int((x == level).sum())} ({100 * (x == level).mean():.0f}%)"
                rows.append(row)
        else:
            row = {"characteristic": f"{labels.get(c, c)}, mean (SD)"}
            for a in arms:
                x = s[patients["arm"] == a].astype(float)
                row[a] = f"{x.mean():.4g} ({x.std(ddof=1):.3g})" if len(x) > 1 else f"{x.mean():.4g}"
            rows.append(row)
    return pd.DataFrame(rows)


def arm_order(protocol: Any, patients: pd.DataFrame) -> list[str]:
    """Arms in protocol order, then any other arm present in the patients table."""
    arms = [a.name for a in protocol.arms if (patients["arm"] == a.name).any()]
    return arms + [a for a in pd.unique(patients["arm"]) if a not in arms]


def _trajectories(results: Rows, measures: Sequence[str]) -> pd.DataFrame:
    """:func:`trajectory_summary` one measure at a time (the same numbers: each group's values are summed
    in the same order), rows sorted as one call over the whole table sorts them."""
    parts = [trajectory_summary(rows_of(results, m), measures=[m]) for m in measures]
    if not parts:
        empty = results if isinstance(results, pd.DataFrame) else pd.DataFrame(columns=list(LONG_COLUMNS))
        return trajectory_summary(empty)
    s = pd.concat(parts, ignore_index=True)
    return s.sort_values(["arm", "measure", "visit_month"], kind="stable").reset_index(drop=True)


def analyse_run(
    results: Rows,
    patients: pd.DataFrame,
    protocol: Any,
    labels: Mapping[str, str] | None = None,
    draw_results: pd.DataFrame | None = None,
    measures: Sequence[str] | None = None,
) -> TrialAnalysis:
    """Analyse a run's observed results once (see :class:`TrialAnalysis`).

    Every statistic reads one measure's rows at a time, so ``results`` may be a function giving them
    (e.g. :func:`t2dsim.trial.backend.analyse_parts` reading a chunked run's Parquet parts): the whole long
    table is then never in memory, and the numbers are the same as from the table.

    Args:
        results: observed long table ``arm, patient_id, visit_month, measure, value``, or measure → that
            measure's rows in the table's order (:data:`t2dsim.trial.statistics.Rows`).
        patients: per-patient table (arm, flags and baseline covariates).
        protocol: the validated protocol (endpoints, responders, analysis settings, arms).
        labels: measure name → display label for the baseline table.
        draw_results: observed results of the posterior draws (column ``draw``; ``TrialRun.draw_results``), for
            the per-draw estimates and the endpoints' posterior PIs; required when the protocol has draws.
        measures: the measures present (required when ``results`` is a function; default: the table's).
    """
    if measures is None:
        if callable(results):
            raise ValueError("analyse_run: give the measures present when results is a function of the measure")
        measures = sorted(map(str, pd.unique(results["measure"])))
    arms = arm_order(protocol, patients)
    ref = protocol.reference_arm
    alpha, missing = protocol.analysis.alpha, protocol.analysis.missing
    problems: dict[str, str] = {}
    eps = [protocol.endpoints.primary, *protocol.endpoints.secondary]
    try:
        endpoints = analyse_endpoints(results, eps, ref, alpha=alpha, missing=missing, arms=arms)
    except ValueError as exc:
        endpoints, problems["endpoints"] = pd.DataFrame(columns=list(ENDPOINT_COLUMNS)), str(exc)
    responders = pd.DataFrame()
    if protocol.responders:
        try:
            responders = responder_table(results, protocol.responders, ref, alpha, arms=arms)
        except ValueError as exc:
            problems["responders"] = str(exc)
    draws, post = _posterior(draw_results, protocol, arms, endpoints, problems)
    if len(draws):
        endpoints = endpoints.merge(prediction_intervals(draws, alpha), on=["endpoint", "arm"], how="left")
    flow, flow_problem = _flow(results, patients, protocol, arms)
    if flow_problem:
        problems["flow"] = flow_problem
    prim = protocol.endpoints.primary
    settings = {
        "reference_arm": ref,
        "alpha": float(alpha),
        "missing": str(missing),
        "primary": {"measure": prim.measure, "visit_month": float(prim.visit_month)},
        "arms": arms,
        "baseline_tolerance": {"mean_sd": MEAN_TOLERANCE_SD, "sd_fraction": SD_TOLERANCE_FRACTION},
        "posterior": post,
    }
    targets = protocol.population.baseline_targets
    return TrialAnalysis(
        endpoints=endpoints,
        responders=responders,
        trajectories=_trajectories(results, measures),
        flow=flow,
        baseline=_baseline(patients, arms, labels or {}),
        baseline_targets=target_table(patients, targets) if targets else pd.DataFrame(),
        draws=draws,
        settings=settings,
        problems=problems,
    )


def _posterior(
    draw_results: pd.DataFrame | None, protocol: Any, arms: list[str], endpoints: pd.DataFrame, problems: dict
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-draw endpoint estimates and the posterior settings (draws, varied and fixed groups, interval rule)."""
    k = int(protocol.posterior.draws)
    if k == 0:
        return pd.DataFrame(), {"draws": 0}
    sets = draw_sets(protocol)
    post = {
        "draws": k,
        "varied_groups": list(sets.varied),
        "fixed_groups": list(sets.fixed()),
        "interval": "alpha/2 and 1 - alpha/2 quantiles over the draws of the estimate on the same patients",
    }
    got = set() if draw_results is None or draw_results.empty else set(draw_results["draw"].unique().tolist())
    if got != set(range(1, k + 1)):
        raise ValueError(f"posterior.draws = {k}: the run has results for draws {sorted(got)}; expected 1 to {k}")
    if endpoints.empty or "endpoints" in problems:
        return pd.DataFrame(), post
    return draw_estimates(draw_results, protocol, arms), post
