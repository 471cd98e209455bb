"""The main job: protocol file → trial run → store → HTML report (with complications)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from t2dsim import __version__
from t2dsim.report.page import measure_label
from t2dsim.trial.analysis import TrialAnalysis
from t2dsim.trial.backend import (
    Backend,
    analyse_parts,
    check_memory,
    load_parts,
    plan_on,
    plan_record,
    run_plan,
    session,
)
from t2dsim.trial.measurement import MEASURES
from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.runner import TrialRun, run_trial


@dataclass
class PipelineOutput:
    run_id: str
    report_path: Path
    results_path: Path
    store_dir: Path
    #: the assembled run (long tables in memory; ``None`` when run with ``keep_run=False``)
    run: TrialRun | None
    analysis: TrialAnalysis
    #: per-patient table (arm, flags, baseline covariates)
    patients: pd.DataFrame
    #: seconds per phase (screening, simulation, analysis, complications, total, pipeline)
    timings: dict[str, float]

    @property
    def endpoints(self) -> pd.DataFrame:
        """The analysis' endpoint table (ANCOVA rows)."""
        return self.analysis.endpoints


def run_protocol_file(
    path: str | Path,
    out_dir: str | Path = "out",
    *,
    chunk_size: int = 512,
    complications: bool = True,
    progress: Callable[[int, int, int], None] | None = None,
    backend: Backend | None = None,
    resume: str | None = None,
    max_memory: int | None = None,
    keep_run: bool = True,
) -> PipelineOutput:
    """Run the protocol at ``path``; write the run to ``out_dir/runs`` and the report to
    ``out_dir/<protocol name>-<run id>.html``. Raises ``ProtocolError``/``ValueError`` on bad input.

    The run is registered as partial with its plan, each chunk written to the store as it finishes
    (in this process or on ``backend``), and the run marked complete once its tables are written.
    ``resume``: the id of a partial run of the same protocol file to finish (its finished chunks are kept).
    ``max_memory``: bytes; refuse a plan whose estimated peak is larger (:func:`check_memory`).
    ``progress(chunks done, chunks in all, patients done)``. ``keep_run``: also assemble the run's long tables in
    memory (``PipelineOutput.run``); the analysis, store and report never need them.
    """
    from t2dsim.report.html import write_report
    from t2dsim.store import parts as store_parts

    t0 = time.perf_counter()
    protocol = load_protocol(path)
    text = Path(path).read_text()
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    backend = backend or Backend()
    out_dir = Path(out_dir)
    store_dir = out_dir / "runs"
    stored = None
    if resume:
        stored, _ = store_parts.open_partial(store_dir, resume)
        if stored["protocol_sha256"] != sha:
            raise ValueError(f"--resume {resume}: the protocol file {path} has changed since that run started; "
                             "run it without --resume")  # fmt: skip
        if stored["chunk_size"] != chunk_size:
            raise ValueError(f"--chunk-size {chunk_size}: run {resume} was planned with --chunk-size "
                             f"{stored['chunk_size']}; resume it with the same value")  # fmt: skip
    check_memory(protocol, chunk_size, backend, max_memory)
    with session(backend) as client:  # one cluster (if any) for the screening and the chunks
        plan = plan_on(protocol, chunk_size, client)
        record = plan_record(plan, sha)
        if stored is not None:
            if record.get("posterior_sha256") != stored.get("posterior_sha256"):
                raise ValueError(f"--resume {resume}: the posterior ensemble of the stem-cell parameters has changed "
                                 "since that run started (its draws would mix); start a new run")  # fmt: skip
            if record["seed"] != stored["seed"] or record["chunks"] != stored["chunks"]:
                raise ValueError(f"--resume {resume}: this t2dsim plans the run differently (screening or "
                                 "randomisation changed since it started); start a new run")  # fmt: skip
            run_id = resume
        else:
            run_id = store_parts.begin_run(store_dir, text, record, seed=plan.seed, backend="numba", name=protocol.name)
        sim = run_plan(plan, backend, store_dir, run_id, progress, client=client)
    # Everything below reads the chunks' parts one measure (or one part) at a time: a run of any size is analysed,
    # stored and reported without its long tables in memory (issue 18); ``keep_run`` also assembles them.
    ta = time.perf_counter()
    labels = {m: measure_label(m) for m in MEASURES}
    analysis, patients = analyse_parts(plan, store_dir, run_id, labels=labels)
    central = [c.key.name for c in plan.chunks if c.key.draw == 0]
    timings = {**plan.timings, **sim, "analysis_s": time.perf_counter() - ta}
    run = load_parts(plan, store_dir, run_id) if keep_run else None
    extra = {}
    if complications:
        from t2dsim.outcomes.trial_link import complications_table

        tc = time.perf_counter()
        true_hba1c = store_parts.read_measure(store_dir, run_id, "true_results", central, "hba1c_percent")
        table = complications_table(
            true_hba1c,
            patients,
            plan.seed,
            protocol.duration_months,
            protocol.reference_arm,
            arm_order=[a.name for a in protocol.arms],
        )
        timings["complications_s"] = time.perf_counter() - tc
        extra["Complications: UKPDS Outcomes Model 2 (10 years and lifetime)"] = [
            table.reset_index().to_html(index=False, classes="table", border=0),
            "<p class='note'>UKPDS OM2 (Hayes et al., Diabetologia 2013), standardised: every arm is the whole "
            "randomised population with each patient's baseline HbA1c shifted by that arm's mean modelled HbA1c "
            "change at the final visit, held for the trial's years and then extended by the OM2 risk-factor "
            "equations; other risk factors drawn from typical T2D values (the same patients and draws in every "
            "arm), so differences reflect glycaemia only. Intervals: paired bootstrap over patients. "
            "Tissue-regeneration effects of stem cells are a hypothesis and are off here.</p>",
        ]
    timings["total_s"] = sum(timings.values())
    phases = {k: v for k, v in timings.items() if k != "total_s"}
    meta = {"version": __version__, "execution": backend.label, "chunk_size": chunk_size, "chunks": len(plan.chunks)}
    # the report's only per-patient rows: the primary measure's (its sample of individual courses)
    primary_rows = store_parts.read_measure(store_dir, run_id, "results", central, protocol.endpoints.primary.measure)
    store_parts.finish_run(
        store_dir, run_id, central, patients, timings=phases, meta=meta, extra={"analysis": analysis.save}
    )
    report_path = out_dir / f"{protocol.name}-{run_id}.html"
    write_report(
        primary_rows,
        patients,
        protocol,
        report_path,
        extra_sections=extra,
        risks=plan.risks,
        screening=plan.screening,
        run_meta={"run_id": run_id, "version": __version__, **timings},
        analysis=analysis,
    )
    timings["pipeline_s"] = time.perf_counter() - t0
    if run is not None:
        run.timings.clear()
        run.timings.update(timings)
    results_path = store_dir / "runs" / run_id / "results.parquet"
    return PipelineOutput(run_id, report_path, results_path, store_dir, run, analysis, patients, timings)


def pooled_simulator(protocol, pool_per_arm: int, chunk_size: int = 512):
    """A ``simulate_fn(n_per_arm, seed)`` for :func:`t2dsim.trial.power.power_curve`.

    The protocol's trial is simulated once with ``pool_per_arm`` patients per arm (the virtual
    population's outcomes under each arm); each replicate then draws ``n_per_arm`` patients per arm with
    replacement from its arm's pool (keyed by the replicate seed) and relabels them as new patients.
    Power from a finite pool is exact for that pool and approaches the population power as the pool
    grows (pool ≥ 4 × the largest n per arm by default in the CLI).
    """
    import numpy as np

    pooled = protocol.model_copy(deep=True)
    for arm in pooled.arms:
        arm.n = pool_per_arm
    run = run_trial(pooled, chunk_size=chunk_size)
    by_arm = {
        a: run.patients.loc[run.patients["arm"] == a, "patient_id"].to_numpy() for a in run.patients["arm"].unique()
    }
    res = run.results.set_index("patient_id")
    rows_per_patient = res.groupby(level=0).size()

    def simulate_fn(n_per_arm: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        parts = []
        next_id = 0
        for arm, ids in by_arm.items():
            pick = rng.choice(ids, size=n_per_arm, replace=True)
            new_ids = np.arange(next_id, next_id + n_per_arm)
            next_id += n_per_arm
            sub = res.loc[pick].reset_index()  # rows of each pick in pick order (repeats included)
            sub["patient_id"] = np.repeat(new_ids, rows_per_patient.loc[pick].to_numpy())
            sub["arm"] = arm
            parts.append(sub)
        return pd.concat(parts, ignore_index=True)

    return simulate_fn
