"""Responder predictors ("for which patient"): the model's per-patient stem-cell effects against baseline
stimulated C-peptide, diabetes duration and cell dose, compared with the published predictor findings (issue 16).

For each :class:`Finding` a case's stem-cell arm runs on the trial engine with the shipped parameters (one protocol
derived from the case file: only the stem-cell arm, shortened to the finding's visit, the MMTT C-peptide peak
measured; for a dose finding the arm is split into equal arms at the stated doses). Per-patient effects are the
pre-post changes a single-arm trial measures (the published correlations come from one: Bhansali 2009):

* ``insulin_reduction_pct``: 100·(1 − insulin dose at the visit / baseline dose);
* ``hba1c_change``: HbA1c at the visit − baseline (%-points);
* ``cpeptide_change_pct``: 100·(stimulated C-peptide at the visit / baseline − 1).

Predictors: ``stimulated_cpeptide`` (baseline MMTT C-peptide peak, pmol/L: the model's stimulated test, a proxy for
the trials' glucagon-stimulated C-peptide; Pearson r is unchanged by a linear recalibration), ``duration`` (diabetes
duration at entry, years) and ``dose`` (cells per infusion, BM-MNC; cells/kg, MSC).

Statistics: Pearson ``r`` over virtual patients with its Fisher-z 95 % CI (Monte Carlo precision), the 2.5-97.5 %
range of r in trials of the published size (resampled patients) with the share of them whose r is at least the
published one, and the published r with its Fisher-z CI from its n. Agreement: a published r agrees when the
model r lies inside the published 95 % CI (flagged when that CI spans 0: a weak test); a published direction (no r)
agrees when the model's 95 % CI lies on the published side of zero ("no (null)" when it spans zero). ``arm_diff``
findings (a group dose contrast) compare the difference of two arms' mean effects (bootstrap CI) with the published
contrast's 95 % CI.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from t2dsim.calibration.cases import case_protocol
from t2dsim.calibration.evidence import evidence_rows
from t2dsim.core.intervals import fisher_z_ci
from t2dsim.trial.protocol import Protocol
from t2dsim.trial.runner import plan_trial, run_trial

__all__ = ["FINDINGS", "Finding", "patient_effects", "published_r", "responder_markdown", "responder_table"]

EFFECTS = ("insulin_reduction_pct", "hba1c_change", "cpeptide_change_pct")
PREDICTORS = ("stimulated_cpeptide", "duration", "dose")
_STIM = "cpeptide_peak_pmol_l"
_N_TRIAL_RESAMPLES = 2000


@dataclass(frozen=True)
class Finding:
    """One published predictor finding and the model run that answers it.

    ``r_pattern``: regex whose group 1 is the published r in the evidence row's ``other_outcomes`` ("" for a
    direction-only or an arm-difference finding); ``sign``: the published direction (+1/−1); ``doses``: the arm is
    split into equal arms at these doses (D ranges, stated in ``note``); ``arms``/``diff``: for ``arm_diff``, the
    two arms (high minus low) and the published contrast (value, 95 % low, high)."""

    key: str
    case: str
    arm: str
    visit_month: float
    effect: str
    predictor: str
    evidence: str
    source: str
    note: str
    sign: int = 1
    n_published: int = 0
    r_pattern: str = ""
    doses: tuple[float, ...] = ()
    arms: tuple[str, str] | None = None
    diff: tuple[float, float, float] | None = None

    @property
    def statistic(self) -> str:
        return "arm_diff" if self.arms is not None else "r"


#: Sood 2017 (World J Diabetes 8:381, V): mean BM-MNC counts by arm 4.9e8, 6.9e8 and 12.0e8; the per-patient counts
#: of Bhansali 2009 were not retrieved, so its spread is assumed to span that range (D, geometric steps).
BMMNC_DOSES = (4.9e8, 6.3e8, 8.1e8, 1.04e9, 1.2e9)
_BH = "Bhansali 2009, Stem Cells Dev (abstract, V): n = 10, insulin reduction at 6 months"
_DURATION = (
    "direction only: earlier disease stage, more benefit (rat HFD/STZ T2D, Si 2012 Diabetes 61:1616, V; El-Badawy "
    "2016 PLoS One meta-analysis, mostly T1D: early intervention RR 2.0, V); no human T2D correlation reported "
    "(shared/reference/stem-cell-evidence.md §4)"
)

FINDINGS: tuple[Finding, ...] = (
    Finding(
        "bhansali2009_cpeptide",
        "bhansali2009",
        "bmmnc",
        5.9795,
        "insulin_reduction_pct",
        "stimulated_cpeptide",
        "bhansali2009",
        _BH + " vs baseline glucagon-stimulated C-peptide",
        "model: MMTT C-peptide peak at entry; cohort over the BM-MNC dose range (D); bhansali2009 is a fit case",
        n_published=10,
        r_pattern=r"stimulated C-peptide \(r=([0-9.]+)\)",
        doses=BMMNC_DOSES,
    ),
    Finding(
        "bhansali2009_dose",
        "bhansali2009",
        "bmmnc",
        5.9795,
        "insulin_reduction_pct",
        "dose",
        "bhansali2009",
        _BH + " vs MNC count",
        "model r depends on the assumed dose spread 4.9e8-1.2e9 cells (Sood 2017 arm means, D)",
        n_published=10,
        r_pattern=r"MNC count \(r=([0-9.]+)\)",
        doses=BMMNC_DOSES,
    ),
    Finding(
        "bhansali2009_duration",
        "bhansali2009",
        "bmmnc",
        5.9795,
        "insulin_reduction_pct",
        "duration",
        "bhansali2009",
        _DURATION,
        "BM-MNC: benefit expected larger with shorter duration",
        sign=-1,
        doses=BMMNC_DOSES,
    ),
    Finding(
        "wu2014_cpeptide",
        "wu2014",
        "bmmnc",
        11.9589,
        "cpeptide_change_pct",
        "duration",
        "wu2014_hot",
        _DURATION,
        "BM-MNC C-peptide gain at 12 months (Wu 2014 design) vs duration",
        sign=-1,
    ),
    Finding(
        "lian2022_duration",
        "lian2022",
        "ucmsc",
        2.7598,
        "hba1c_change",
        "duration",
        "lian2022",
        _DURATION,
        "UC-MSC HbA1c change at day 84 (Lian 2022 design) vs duration; benefit = fall",
        sign=1,
    ),
    Finding(
        "skyler2015_dose",
        "skyler2015",
        "mpc_2e6",
        1.8398,
        "hba1c_change",
        "dose",
        "skyler2015_w8",
        "Skyler 2015, Diabetes Care 38:1742 (abstract, V): placebo-adjusted HbA1c at week 8 −0.1 ± 0.2 (lowest "
        "dose, assigned to 0.3e6/kg, D) to −0.4 ± 0.2 (2e6/kg); 'weak dose-response'",
        "2e6 minus 0.3e6 cells/kg arm; published SE √(0.2² + 0.2²) treats the two LS means as independent (D); "
        "skyler2015 is a fit case (not out of sample)",
        sign=-1,
        arms=("mpc_2e6", "mpc_0p3e6"),
        diff=(-0.3, -0.3 - 1.959964 * 0.2 * math.sqrt(2), -0.3 + 1.959964 * 0.2 * math.sqrt(2)),
    ),
)


def published_r(f: Finding) -> float | None:
    """The published r of ``f`` read from its evidence row (None for direction-only and arm-difference findings)."""
    if not f.r_pattern:
        return None
    text = evidence_rows()[f.evidence]["other_outcomes"]
    m = re.search(f.r_pattern, text)
    if m is None:
        raise ValueError(f"evidence {f.evidence}.other_outcomes: no match for {f.r_pattern!r} in {text!r}")
    return float(m.group(1))


def _protocol(f: Finding, n_per_arm: int, seed_offset: int) -> Protocol:
    """The finding's run: the case's stem-cell arm(s) only, ending at the finding's visit, stimulated C-peptide
    measured; split into dose arms when ``f.doses``."""
    data = case_protocol(f.case, seed_offset).model_dump(mode="python")
    keep = f.arms if f.arms is not None else (f.arm,)
    arms = {a["name"]: a for a in data["arms"]}
    missing = [a for a in keep if a not in arms]
    if missing:
        raise ValueError(f"finding {f.key}: case {f.case!r} has no arm {missing}; allowed: {', '.join(arms)}")
    out_arms = [arms[a] for a in keep]
    if f.doses:
        base = out_arms[0]
        out_arms = []
        for i, d in enumerate(f.doses):
            a = {**base, "name": f"{base['name']}_dose{i}", "treatment": [dict(t) for t in base["treatment"]]}
            for t in a["treatment"]:
                for k in ("cells_per_infusion", "cells_per_kg_per_infusion"):
                    if k in t and t[k] is not None:
                        t[k] = float(d)
            out_arms.append(a)
    for a in out_arms:
        a["n"] = int(n_per_arm)
    data["arms"] = out_arms
    data["duration_months"] = f.visit_month
    data["visit_months"] = [v for v in data["visit_months"] if v <= f.visit_month]
    if _STIM not in data["measurements"]:
        data["measurements"].append(_STIM)
    for k in ("insulin_dose_relative", "hba1c_percent"):
        if k not in data["measurements"]:
            data["measurements"].append(k)
    data["endpoints"] = {"primary": {"measure": "hba1c_percent", "visit_month": f.visit_month}, "secondary": []}
    data["responders"] = []
    data["analysis"] = {**data.get("analysis", {}), "reference_arm": None}
    return Protocol.model_validate(data)


def _dose_of(treatment: list) -> float:
    for t in treatment:
        for k in ("cells_per_infusion", "cells_per_kg_per_infusion"):
            v = getattr(t, k, None)
            if v is not None:
                return float(v)
    raise ValueError("the arm has no cell therapy with a dose (cells_per_infusion or cells_per_kg_per_infusion)")


def patient_effects(f: Finding, n_per_arm: int = 120, seed_offset: int = 0) -> pd.DataFrame:
    """Per-patient predictors and effects of ``f``'s run (shipped parameters): columns arm, patient_id, dose,
    stimulated_cpeptide (pmol/L), duration (years) and the :data:`EFFECTS`."""
    p = _protocol(f, n_per_arm, seed_offset)
    run = run_trial(p, plan=plan_trial(p))
    tr = run.true_results
    wide = tr.pivot_table(index=["arm", "patient_id"], columns=["measure", "visit_month"], values="value")

    def at(measure: str, month: float) -> np.ndarray:
        cols = [c for c in wide.columns if c[0] == measure and np.isclose(c[1], month)]
        if len(cols) != 1:
            raise ValueError(f"finding {f.key}: no values of {measure!r} at month {month:g} in the run")
        return wide[cols[0]].to_numpy(float)

    m = f.visit_month
    c0 = at(_STIM, 0.0)
    out = pd.DataFrame(index=wide.index).reset_index()
    out["dose"] = out["arm"].map({a.name: _dose_of(a.treatment) for a in p.arms})
    out["stimulated_cpeptide"] = c0
    pts = run.patients.set_index(["arm", "patient_id"])["diabetes_duration_years"]
    out["duration"] = pts.reindex(wide.index).to_numpy(float)
    out["insulin_reduction_pct"] = 100.0 * (1.0 - at("insulin_dose_relative", m))
    out["hba1c_change"] = at("hba1c_percent", m) - at("hba1c_percent", 0.0)
    out["cpeptide_change_pct"] = 100.0 * (at(_STIM, m) / c0 - 1.0)
    if out[["duration", *EFFECTS]].isna().any().any():
        raise ValueError(f"finding {f.key}: missing per-patient values in the run (patients table or visits)")
    return out


def _r_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of (B, n) arrays (NaN where a row is constant)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=1) / den


def _agrees(f: Finding, model: float, lo: float, hi: float, pub: tuple[float, float, float] | None) -> str:
    if pub is not None:
        if not pub[1] <= model <= pub[2]:
            return "no"
        return "yes (published CI spans 0)" if pub[1] < 0 < pub[2] else "yes"
    if (lo > 0 and f.sign > 0) or (hi < 0 and f.sign < 0):
        return "yes"
    return "no (opposite)" if (lo > 0 or hi < 0) else "no (null)"


def evaluate(f: Finding, df: pd.DataFrame, seed: int = 0) -> dict:
    """One row of the responder table from ``f``'s per-patient values ``df`` (:func:`patient_effects`)."""
    rng = np.random.default_rng(seed)
    row = {
        "finding": f.key,
        "case": f.case,
        "effect": f.effect,
        "predictor": f.predictor,
        "statistic": f.statistic,
        "p_trial_as_extreme": np.nan,
    }
    if f.arms is not None:
        hi_arm, lo_arm = (df.loc[df["arm"] == a, f.effect].to_numpy() for a in f.arms)
        model = float(hi_arm.mean() - lo_arm.mean())
        boot = [rng.choice(hi_arm, hi_arm.size).mean() - rng.choice(lo_arm, lo_arm.size).mean() for _ in range(500)]
        lo, hi = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
        pub = f.diff
        row.update(n_virtual=len(df), model=model, model_lo=lo, model_hi=hi, trial_lo=np.nan, trial_hi=np.nan)
    else:
        x, y = df[f.predictor].to_numpy(float), df[f.effect].to_numpy(float)
        if np.std(x) == 0 or np.std(y) == 0:
            raise ValueError(f"finding {f.key}: {f.predictor} or {f.effect} does not vary over the virtual patients")
        model = float(np.corrcoef(x, y)[0, 1])
        lo, hi = fisher_z_ci(model, len(x))
        r_pub = published_r(f)
        pub = None if r_pub is None else (r_pub, *fisher_z_ci(r_pub, f.n_published))
        n_t = f.n_published or 10
        idx = rng.integers(0, len(x), size=(_N_TRIAL_RESAMPLES, n_t))
        rs = _r_rows(x[idx], y[idx])
        t_lo, t_hi = np.nanpercentile(rs, [2.5, 97.5])
        row.update(n_virtual=len(x), model=model, model_lo=lo, model_hi=hi, trial_lo=t_lo, trial_hi=t_hi)
        if r_pub is not None:  # share of model trials of the published size with r at least the published one
            row["p_trial_as_extreme"] = float(np.nanmean(np.sign(r_pub) * rs >= abs(r_pub)))
    row.update(
        published=np.nan if pub is None else pub[0],
        published_lo=np.nan if pub is None else pub[1],
        published_hi=np.nan if pub is None else pub[2],
        published_sign=f.sign,
        n_published=f.n_published or np.nan,
        agrees=_agrees(f, model, lo, hi, pub),
        source=f.source,
        note=f.note,
    )
    return row


def responder_table(n_per_arm: int = 120, seed_offset: int = 0, keys: list[str] | None = None) -> pd.DataFrame:
    """The responder table: one row per :data:`FINDINGS` entry (or ``keys``); runs sharing a design run once."""
    chosen = [f for f in FINDINGS if keys is None or f.key in keys]
    if keys is not None and len(chosen) != len(set(keys)):
        raise ValueError(
            f"unknown finding(s) {sorted(set(keys) - {f.key for f in chosen})}; allowed: "
            f"{', '.join(f.key for f in FINDINGS)}"
        )
    runs: dict[tuple, pd.DataFrame] = {}
    rows = []
    for f in chosen:
        design = (f.case, f.arm, f.arms, f.visit_month, f.doses)
        if design not in runs:
            n = max(4, n_per_arm // len(f.doses)) if f.doses else n_per_arm
            runs[design] = patient_effects(f, n, seed_offset)
        rows.append(evaluate(f, runs[design]))
    return pd.DataFrame(rows)


def responder_markdown(table: pd.DataFrame) -> str:
    """The responder table as Markdown."""

    def fmt(v: float, lo: float, hi: float) -> str:
        return "–" if not np.isfinite(v) else f"{v:+.2f} ({lo:+.2f} to {hi:+.2f})"

    lines = [
        "| finding | effect vs predictor | stat | model (95 % CI, n virtual) | model, trials of published n "
        "| published (95 % CI, n) | P(model trial r ≥ published) | agrees |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        trial = "–" if not np.isfinite(r.trial_lo) else f"{r.trial_lo:+.2f} to {r.trial_hi:+.2f}"
        if np.isfinite(r.published):
            n = f", n = {int(r.n_published)}" if np.isfinite(r.n_published) else ""
            pub = fmt(r.published, r.published_lo, r.published_hi) + n
        else:
            pub = f"direction {'+' if r.published_sign > 0 else '−'} only"
        lines.append(
            f"| {r.finding} | {r.effect} vs {r.predictor} | {r.statistic} "
            f"| {fmt(r.model, r.model_lo, r.model_hi)}, n = {r.n_virtual} | {trial} | {pub} "
            f"| {'–' if not np.isfinite(r.p_trial_as_extreme) else f'{r.p_trial_as_extreme:.3f}'} | {r.agrees} |"
        )
    return "\n".join(lines)
