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
from t2dsim.trial.analysis import TrialAnalysis, analyse_run
from t2dsim.trial.backend import Backend, check_memory, load_parts, plan_on, plan_record, run_plan, session
from t2dsim.trial.measurement import MEASURES
from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.runner import TrialRun, run_trial


@dataclass
class PipelineOutput:
    run_id: str
    report_path: Path
    results_path: Path
    store_dir: Path
    run: TrialRun
    analysis: TrialAnalysis

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
) -> PipelineOutput:
    """Run the protocol at ``path``; write the run to ``out_dir/runs`` and the report to
    ``out_dir/<protocol name>-<run id>.html``. Raises ``ProtocolError``/``ValueError`` on bad input.

    The run is registered as partial with its plan, each chunk written to the store as it finishes
    (in this process or on ``backend``), and the run marked complete once its tables are written.
    ``resume``: the id of a partial run of the same protocol file to finish (its finished chunks are kept).
    ``max_memory``: bytes; refuse a plan whose estimated peak is larger (:func:`check_memory`).
    ``progress(chunks done, chunks in all, patients done)``.
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
    ta = time.perf_counter()
    run = load_parts(plan, store_dir, run_id)
    reference = protocol.reference_arm
    labels = {m: measure_label(m) for m in MEASURES}
    analysis = analyse_run(run.results, run.patients, protocol, labels=labels, draw_results=run.draw_results)
    run.timings.update(sim, analysis_s=time.perf_counter() - ta)
    run.timings["total_s"] = sum(run.timings.values())
    extra = {}
    if complications:
        from t2dsim.outcomes.trial_link import complications_table

        tc = time.perf_counter()
        table = complications_table(
            run.true_results,
            run.patients,
            run.meta["seed"],
            protocol.duration_months,
            reference,
            arm_order=[a.name for a in protocol.arms],
        )
        run.timings["complications_s"] = time.perf_counter() - tc
        extra["Complications: UKPDS Outcomes Model 2 (10 years and lifetime)"] = [
            table.reset_index().to_html(index=False, classes="table", border=0),
            "<p class='note'>UKPDS OM2 (Hayes et al., Diabetologia 2013), standardised: every arm is the whole "
            "randomised population with each patient's baseline HbA1c shifted by that arm's mean modelled HbA1c "
            "change at the final visit, held for the trial's years and then extended by the OM2 risk-factor "
            "equations; other risk factors drawn from typical T2D values (the same patients and draws in every "
            "arm), so differences reflect glycaemia only. Intervals: paired bootstrap over patients. "
            "Tissue-regeneration effects of stem cells are a hypothesis and are off here.</p>",
        ]
    phases = {k: v for k, v in run.timings.items() if k != "total_s"}
    meta = {"version": __version__, "execution": backend.label, "chunk_size": chunk_size, "chunks": len(plan.chunks)}
    store_parts.finish_run(
        store_dir, run_id, run.results, run.patients, timings=phases, meta=meta, extra={"analysis": analysis.save}
    )
    report_path = out_dir / f"{protocol.name}-{run_id}.html"
    write_report(
        run.results,
        run.patients,
        protocol,
        report_path,
        extra_sections=extra,
        risks=run.risks,
        screening=run.screening,
        run_meta={"run_id": run_id, "version": __version__, **run.timings},
        analysis=analysis,
    )
    run.timings["pipeline_s"] = time.perf_counter() - t0
    results_path = store_dir / "runs" / run_id / "results.parquet"
    return PipelineOutput(run_id, report_path, results_path, store_dir, run, analysis)


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
