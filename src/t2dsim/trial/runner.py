"""Run an in-silico randomised trial from a protocol: screen, randomise, treat, measure, analyse.

Steps
-----
1. **Screening.** Candidates come from the population preset (:mod:`t2dsim.population.presets`), each
   patient's physiology placed on its disease course so that its baseline is consistent. Protocol
   distributions may override demographic covariates (age, sex) with keyed per-patient draws. The
   inclusion criteria are applied to baseline values; the first eligible candidates (by id) are enrolled.
2. **Randomisation** (stratified permuted blocks, seeded; :mod:`t2dsim.trial.randomisation`).
3. **Treatment.** Each arm's therapies (:func:`t2dsim.therapies.specs.build_arm`) act on the progression model
   through the engine, chunk by chunk of patients; visits at the protocol's months.
4. **Measurement.** At each visit: HbA1c, FPG and the mechanism states from the progression model; a
   mixed-meal tolerance test on the minute-scale model (fasting insulin and C-peptide, C-peptide AUC
   0–120 min) when a C-peptide or insulin measure is requested; 14 days of CGM (three meals a day,
   sensor noise) when a CGM measure is requested. Assay error and dropout are keyed per patient.

Every random number is keyed by (seed, patient_id, stream), so results do not depend on chunk size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from t2dsim.core.calendar import DAYS_PER_MONTH, visit_days
from t2dsim.core.registry import BuildContext
from t2dsim.core.units import PMOLL_PER_UUML_INSULIN
from t2dsim.engine import advance
from t2dsim.engine.background import start_arm
from t2dsim.engine.visits import MECHANISM_MEASURES, measure_visit
from t2dsim.physiology import markers
from t2dsim.population.screening import background_of, background_therapies, screen
from t2dsim.therapies.specs import build_arm
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect
from t2dsim.trial.measurement import observe
from t2dsim.trial.randomisation import randomise_for_protocol


@dataclass
class TrialRun:
    """Outcome of :func:`run_trial`: observed long results table (dropout, assay error), per-patient table,
    the model's true values at every scheduled visit, and run metadata."""

    results: pd.DataFrame
    patients: pd.DataFrame
    true_results: pd.DataFrame
    screening: dict
    risks: dict[str, list]  # therapy kind → Risk objects (shown beside every benefit in the report)
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


def run_trial(
    protocol,
    *,
    chunk_size: int = 512,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrialRun:
    """Run ``protocol`` (a validated :class:`~t2dsim.trial.protocol.Protocol`)."""
    t0 = time.perf_counter()
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    seed = int(protocol.randomisation.seed)
    n_total = sum(a.n for a in protocol.arms)
    cohort, base, screening = screen(protocol, n_total, seed)
    t_screen = time.perf_counter()
    base["arm"] = randomise_for_protocol(base, protocol).to_numpy()
    duration_days = int(round(protocol.duration_months * DAYS_PER_MONTH))
    bctx = BuildContext(duration_days=duration_days)
    visits = list(protocol.visit_months)
    days = visit_days(visits)
    measures = set(protocol.measurements) | set(MECHANISM_MEASURES)
    bg_specs, run_in_days = background_of(protocol)
    rows: list[pd.DataFrame] = []
    risks: dict[str, list] = {}  # therapy kind → Risk objects
    done = 0
    for arm_spec in protocol.arms:
        idx = np.nonzero(base["arm"].to_numpy() == arm_spec.name)[0]
        # Risks shown beside every benefit: the protocol kind's listed risks plus the simulated therapy
        # objects' own (sourced) risks, without duplicates.
        for spec in [*bg_specs, *arm_spec.treatment]:
            lst = risks.setdefault(spec.kind, [])
            lst.extend(r for r in getattr(type(spec), "risks", ()) if r not in lst)
        for t in build_arm(arm_spec.treatment, bctx, arm_spec.name):
            lst = risks.setdefault(t.spec_kind, [])
            lst.extend(r for r in getattr(t, "risks", ()) if r not in lst)
        for a in range(0, idx.size, chunk_size):
            part = idx[a : a + chunk_size]
            ecoh = cohort.select(part)
            therapies = build_arm(arm_spec.treatment, bctx, arm_spec.name)
            if protocol.trial_effect:
                therapies.append(PlaceboTrialEffect())
            arm = start_arm(ecoh, therapies, background_therapies(bg_specs, run_in_days, duration_days), run_in_days)
            for k, (vm, vd) in enumerate(zip(visits, days, strict=True)):
                if vd > arm.day:
                    advance(arm, vd - arm.day)
                vals = measure_visit(arm, measures, seed, k)
                ids = ecoh.ctx.patient_ids
                for name, v in vals.items():
                    if name not in measures:
                        continue
                    rows.append(
                        pd.DataFrame(
                            {
                                "arm": arm_spec.name,
                                "patient_id": ids,
                                "visit_month": vm,
                                "measure": name,
                                "value": np.asarray(v, float),
                            }
                        )
                    )
            done += part.size
            if progress is not None:
                progress(arm_spec.name, done, n_total)
    t_sim = time.perf_counter()
    true_results = pd.concat(rows, ignore_index=True)
    results, flow = observe(true_results, protocol, seed)
    wanted = set(protocol.measurements)
    true_results = _derive_homa(true_results, wanted)
    results = _derive_homa(results, wanted)  # from the measured FPG and insulin (assay error included)
    patients = _patients_table(base, flow)
    t_end = time.perf_counter()
    timings = {
        "screening_s": t_screen - t0,
        "simulation_s": t_sim - t_screen,
        "analysis_s": t_end - t_sim,
        "total_s": t_end - t0,
    }
    return TrialRun(
        results,
        patients,
        true_results,
        screening,
        risks,
        timings,
        {"seed": seed, "chunk_size": chunk_size, "backend": "numba"},
    )


def _derive_homa(results: pd.DataFrame, wanted: set[str]) -> pd.DataFrame:
    """Add HOMA1-IR and HOMA1-%B rows (Matthews 1985) computed from the table's FPG and fasting insulin,
    for the HOMA measures the protocol asks for."""
    names = [m for m in ("homa_ir", "homa_b_percent") if m in wanted]
    if not names:
        return results
    wide = results.pivot_table(index=["arm", "patient_id", "visit_month"], columns="measure", values="value")
    if "fasting_insulin_pmol_l" not in wide or "fpg_mgdl" not in wide:
        return results
    both = wide[["fpg_mgdl", "fasting_insulin_pmol_l"]].dropna()
    fpg = both["fpg_mgdl"].to_numpy()
    fpi_uuml = both["fasting_insulin_pmol_l"].to_numpy() / PMOLL_PER_UUML_INSULIN
    fns = {"homa_ir": markers.homa1_ir, "homa_b_percent": markers.homa1_b_pct}
    extra = []
    for name in names:
        # HOMA1-%B is undefined at FPG ≤ 3.5 mmol/L (63 mg/dL): those rows are left out.
        ok = fpg > 63.1 if name == "homa_b_percent" else np.ones(fpg.shape, bool)
        df = both.index[ok].to_frame(index=False)
        df["measure"] = name
        df["value"] = fns[name](fpg[ok], fpi_uuml[ok])
        extra.append(df)
    return pd.concat([results] + extra, ignore_index=True)


def _patients_table(base: pd.DataFrame, flow: pd.DataFrame) -> pd.DataFrame:
    engine_only = [c for c in ("exog_insulin", "ctx_weight_kg", "ctx_insulin_u_per_day") if c in base]
    p = base.drop(columns=engine_only).merge(flow.drop(columns=["arm"]), on="patient_id", how="left")
    p["randomised"] = True
    cols = ["arm", "patient_id"] + [c for c in p.columns if c not in ("arm", "patient_id")]
    return p[cols]
