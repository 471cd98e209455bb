"""Standard-care validation: every published standard-care trial as a protocol file, run by the trial runner.

The protocols live in ``t2dsim/data/validation/standard_care/*.toml`` and the published values in
``observed.csv`` beside them (one row per trial, arm and quantity; end level and change from baseline, the rule
for each 95 % CI, source, table/abstract location and verification tag). :func:`validate_standard_care` runs each
protocol through :func:`t2dsim.trial.runner.run_trial` (the engine of ``t2dsim trial``), takes the true (assay-free)
values at the paper's end visit, and compares each arm's predicted mean with the observed 95 % CI by the rule
committed in docs/standard_care.md ("Validation rule (committed before the run)").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from t2dsim.trial.protocol import Protocol, load_protocol
from t2dsim.trial.runner import run_trial

__all__ = [
    "ASSUMED_SD",
    "RULE_COMMIT",
    "observed_table",
    "observed_ci",
    "protocol_path",
    "predict_protocol",
    "validate_standard_care",
    "standard_care_markdown",
    "pass_rates",
]

#: commit of docs/standard_care.md that holds the validation rule, written before any run
RULE_COMMIT = "840bf04"
#: SDs assumed when a paper reports a mean only (D; docs/standard_care.md, validation rule)
ASSUMED_SD = {"hba1c_percent": 1.0, "fpg_mgdl": 40.0, "insulin_u_per_day": 20.0}
_Z = 1.959963984540054
_DIR = ("validation", "standard_care")
CI_SOURCES = ("ci", "se", "sd", "etd_ci", "assumed_sd", "base_plus_change", "poisson", "proportion", "none")


def _data_dir():
    return resources.files("t2dsim.data").joinpath(*_DIR)


def protocol_path(name: str) -> Path:
    """Path of the bundled protocol file ``name`` (without ``.toml``)."""
    p = Path(str(_data_dir().joinpath(f"{name}.toml")))
    if not p.is_file():
        raise FileNotFoundError(f"standard-care protocol {name!r} not found (looked for {p})")
    return p


def observed_table() -> pd.DataFrame:
    """The published values (``observed.csv``), with the 95 % CIs derived by the committed rule."""
    with _data_dir().joinpath("observed.csv").open("r", encoding="utf-8") as fh:
        t = pd.read_csv(fh, comment="#")
    bad = set(t["end_ci_source"]).union(t["change_ci_source"]) - set(CI_SOURCES)
    if bad:
        raise ValueError(f"observed.csv: ci_source {sorted(bad)} not allowed; allowed {CI_SOURCES}")
    lo_hi = [observed_ci(r, "change") for r in t.itertuples()]
    t["change_lo"], t["change_hi"] = zip(*lo_hi, strict=True) if lo_hi else ((), ())
    hw = (t["change_hi"] - t["change_lo"]) / 2.0
    end = [observed_ci(r, "end", change_halfwidth=h) for r, h in zip(t.itertuples(), hw, strict=True)]
    t["end_lo"], t["end_hi"] = zip(*end, strict=True) if end else ((), ())
    return t


def observed_ci(row, kind: str, *, change_halfwidth: float = math.nan) -> tuple[float, float]:
    """Observed 95 % CI of the end level or change (``kind``) of one ``observed.csv`` row (formulas in the docs)."""
    src = getattr(row, f"{kind}_ci_source")
    mean = getattr(row, kind)
    spread = getattr(row, f"{kind}_spread")
    n = float(row.n)
    if src == "none" or not np.isfinite(mean):
        return math.nan, math.nan
    if src == "ci":
        return float(getattr(row, f"{kind}_ci_low")), float(getattr(row, f"{kind}_ci_high"))
    if src == "poisson":  # event rate per patient-year over T = visit_month/12 years (rule: Poisson)
        h = _Z * math.sqrt(mean / (n * float(row.visit_month) / 12.0))
    elif src == "proportion":  # share of patients in %
        p = mean / 100.0
        h = 100.0 * _Z * math.sqrt(p * (1.0 - p) / n)
        return float(max(mean - h, 0.0)), float(mean + h)
    elif src == "se":
        h = _Z * spread
    elif src in ("sd", "assumed_sd"):
        sd = ASSUMED_SD[row.quantity] if src == "assumed_sd" else spread
        h = _Z * sd / math.sqrt(n)
    elif src == "etd_ci":  # SD of the change from a between-arm CI: (half-width/1.96)/sqrt(1/n1 + 1/n2)
        sd = (row.etd_halfwidth / _Z) / math.sqrt(1.0 / n + 1.0 / row.etd_n_other)
        h = _Z * sd / math.sqrt(n)
    else:  # base_plus_change: the change's half-width widened by the baseline mean's uncertainty
        sd_b = spread if np.isfinite(spread) else ASSUMED_SD[row.quantity]
        h = math.sqrt(change_halfwidth**2 + (_Z * sd_b / math.sqrt(n)) ** 2)
    return float(mean - h), float(mean + h)


@dataclass(frozen=True)
class Prediction:
    """Predicted mean, SD and n over an arm's virtual patients (true values, no assay error)."""

    mean: float
    sd: float
    n: int

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of the mean."""
        return self.sd / math.sqrt(self.n) if self.n > 1 else math.nan


_NAN = Prediction(math.nan, math.nan, 0)
_NOT_MODELLED = {"end": _NAN, "change": _NAN, "baseline": _NAN}


def predict_protocol(
    protocol: Protocol, wanted: Iterable[tuple[str, str, float]]
) -> dict[tuple, dict[str, Prediction]]:
    """Run ``protocol`` with the trial runner; for each (arm, measure, visit month) the predicted end level and change
    from baseline over the arm's patients measured at both visits."""
    run = run_trial(protocol)
    t = run.true_results
    res: dict[tuple, dict[str, Prediction]] = {}
    for arm, measure, visit in wanted:
        s = t[(t["arm"] == arm) & (t["measure"] == measure)].pivot_table(
            index="patient_id", columns="visit_month", values="value"
        )
        if s.empty or visit not in s.columns:  # (an all-NaN visit column is dropped by pivot_table)
            raise ValueError(f"protocol {protocol.name!r}: no {measure} of arm {arm!r} at month {visit:g}")
        # a count since randomisation (hypoglycaemia): an end level, no baseline
        if 0.0 not in s.columns or s[0.0].isna().all():
            end = s[visit].dropna().to_numpy()
            if end.size == 0:
                raise ValueError(f"protocol {protocol.name!r}: {measure} of arm {arm!r} is missing at month {visit:g}")
            res[(arm, measure, visit)] = {
                "end": Prediction(float(end.mean()), float(end.std(ddof=1)), end.size),
                "change": _NAN,
                "baseline": _NAN,
            }
            continue
        s = s[[0.0, visit]].dropna()
        end, ch = s[visit].to_numpy(), (s[visit] - s[0.0]).to_numpy()
        res[(arm, measure, visit)] = {
            "end": Prediction(float(end.mean()), float(end.std(ddof=1)), end.size),
            "change": Prediction(float(ch.mean()), float(ch.std(ddof=1)), ch.size),
            "baseline": Prediction(float(s[0.0].mean()), float(s[0.0].std(ddof=1)), end.size),
        }
    return res


def _verdict(pred: float, se: float, lo: float, hi: float) -> str:
    if not np.isfinite(lo):
        return "not counted"
    if not np.isfinite(pred):
        return "miss (not modelled)"
    if lo <= pred <= hi:
        return "pass"
    return "miss (borderline)" if min(abs(pred - lo), abs(pred - hi)) < 2.0 * se else "miss"


def validate_standard_care(
    names: Iterable[str] | None = None, *, n_scale: float = 1.0, trial_effect: bool | None = None
) -> pd.DataFrame:
    """Run the standard-care protocols (all, or ``names``) and compare with ``observed.csv``; one row per trial, arm
    and quantity. ``n_scale`` < 1 shrinks every arm (for quick tests; the table uses 1); ``trial_effect`` overrides
    the protocols' setting (a sensitivity run)."""
    obs = observed_table()
    if names is not None:
        names = list(names)
        unknown = set(names) - set(obs["protocol"])
        if unknown:
            raise ValueError(
                f"unknown standard-care protocol(s) {sorted(unknown)}; allowed {sorted(set(obs['protocol']))}"
            )
        obs = obs[obs["protocol"].isin(names)]
    rows = []
    for name, grp in obs.groupby("protocol", sort=False):
        proto = load_protocol(protocol_path(str(name)))
        if n_scale != 1.0:
            arms = [a.model_copy(update={"n": max(8, round(a.n * n_scale))}) for a in proto.arms]
            proto = proto.model_copy(update={"arms": arms})
        if trial_effect is not None:
            proto = proto.model_copy(update={"trial_effect": trial_effect})
        # a quantity the protocol does not measure (the runner cannot produce it, e.g. a 26-week share of patients
        # with minor hypoglycaemia on oral agents) is listed and counted as a miss, "not modelled"
        measured = set(proto.measurements)
        wanted = {(r.arm, r.quantity, float(r.visit_month)) for r in grp.itertuples() if r.quantity in measured}
        try:
            pred = predict_protocol(proto, sorted(wanted))
        except Exception as exc:
            raise ValueError(f"standard-care protocol {name!r}: {exc}") from exc
        for r in grp.itertuples():
            p = pred.get((r.arm, r.quantity, float(r.visit_month)), _NOT_MODELLED)
            rows.append({
                "trial": r.trial, "protocol": name, "arm": r.arm, "quantity": r.quantity, "n_sim": p["end"].n,
                "obs_baseline": r.baseline, "sim_baseline": p["baseline"].mean,
                "obs_end": r.end, "obs_end_lo": r.end_lo, "obs_end_hi": r.end_hi,
                "sim_end": p["end"].mean, "sim_end_mc_se": p["end"].mc_se,
                "end_verdict": _verdict(p["end"].mean, p["end"].mc_se, r.end_lo, r.end_hi),
                "obs_change": r.change, "obs_change_lo": r.change_lo, "obs_change_hi": r.change_hi,
                "sim_change": p["change"].mean, "sim_change_mc_se": p["change"].mc_se,
                "change_verdict": _verdict(p["change"].mean, p["change"].mc_se, r.change_lo, r.change_hi),
                "end_ci_source": r.end_ci_source, "change_ci_source": r.change_ci_source,
                "source": r.source, "location": r.location, "tag": r.tag,
            })  # fmt: skip
    return pd.DataFrame(rows)


def pass_rates(table: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(passed, counted) for end levels and for changes."""
    out = {}
    for kind in ("end", "change"):
        v = table[f"{kind}_verdict"]
        counted = v != "not counted"
        out[kind] = (int((v[counted] == "pass").sum()), int(counted.sum()))
    return out


def _fmt(x: float, d: int) -> str:
    return "—" if not np.isfinite(x) else f"{x:.{d}f}"


def _cell(mean: float, lo: float, hi: float, d: int) -> str:
    if not np.isfinite(mean):
        return "—"
    return f"{mean:.{d}f} ({lo:.{d}f}, {hi:.{d}f})" if np.isfinite(lo) else f"{mean:.{d}f} (no CI)"


_MARK = {
    "pass": "✓",
    "miss": "✗",
    "miss (borderline)": "✗ (borderline)",
    "miss (not modelled)": "✗ (not modelled)",
    "not counted": "n/c",
}


def standard_care_markdown(table: pd.DataFrame) -> str:
    """The validation table in markdown, with the pass rates and the rule's commit."""
    lines = [
        "| trial | arm | quantity | baseline obs / sim | end obs (95 % CI) | end sim (MC 95 %) | | "
        "change obs (95 % CI) | change sim (MC 95 %) | | CI rule end / change | source [tag] |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        d = {"hba1c_percent": 2, "hypo_documented_per_patient_year": 1}.get(r.quantity, 0)
        se_e, se_c = _Z * r.sim_end_mc_se, _Z * r.sim_change_mc_se
        lines.append(
            f"| {r.trial} | {r.arm} | {r.quantity} | {_fmt(r.obs_baseline, d)} / {_fmt(r.sim_baseline, d)} "
            f"| {_cell(r.obs_end, r.obs_end_lo, r.obs_end_hi, d)} "
            f"| {_cell(r.sim_end, r.sim_end - se_e, r.sim_end + se_e, d)} | {_MARK[r.end_verdict]} "
            f"| {_cell(r.obs_change, r.obs_change_lo, r.obs_change_hi, d)} "
            f"| {_cell(r.sim_change, r.sim_change - se_c, r.sim_change + se_c, d)} | {_MARK[r.change_verdict]} "
            f"| {r.end_ci_source} / {r.change_ci_source} | {r.source}, {r.location} [{r.tag}] |"
        )
    rates = pass_rates(table)
    pe, ne = rates["end"]
    pc, nc = rates["change"]
    lines += [
        "",
        f"End levels inside the observed 95 % CI: {pe}/{ne} ({100 * pe / max(ne, 1):.0f} %); changes: {pc}/{nc} "
        f"({100 * pc / max(nc, 1):.0f} %). Acceptance (rule of commit {RULE_COMMIT}): ≥ 80 % each — "
        f"{'met' if ne and nc and pe >= 0.8 * ne and pc >= 0.8 * nc else 'NOT met'}.",
    ]
    return "\n".join(lines) + "\n"
