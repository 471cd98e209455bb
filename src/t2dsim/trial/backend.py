"""Where a trial's chunks run: in this process or on a Dask cluster, streamed to the run store.

A :class:`~t2dsim.trial.runner.TrialPlan` is cut into tasks keyed by (draw, arm, chunk)
(:class:`~t2dsim.trial.runner.ChunkKey`; a protocol's posterior draws are tasks of their own,
:mod:`t2dsim.trial.draws`); every backend runs the same pure task,
:func:`~t2dsim.trial.runner.run_chunk`, and each finished chunk is written to the run store as a
Parquet part (:mod:`t2dsim.store.parts`) as soon as it finishes (by the client, which then forgets it, or
on a LocalCluster by the worker that ran it). The run is assembled from the parts in plan order, so it is
the same whatever the chunk size, worker count or completion order.

Backends (:class:`Backend`):

* in-process (default): the chunks one after the other, Numba using this process's threads;
* ``workers=N``: a ``distributed.LocalCluster`` of N single-threaded worker processes (Numba and BLAS
  limited to one thread each), started and stopped with the run; the workers share this machine's disk, so
  each writes its own chunk's part (the same atomic, write-once :func:`~t2dsim.store.parts.write_part`) and
  sends back only the chunk's name: the client neither receives nor writes the tables, which keeps its CPU
  (on the cores the workers need) to scheduling;
* ``scheduler="tcp://host:port"``: an existing Dask cluster; its workers need the same t2dsim version
  installed (they receive the protocol and the chunk's patients, and send back the chunk's tables; they
  do not need to see the run store).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from t2dsim.core.threads import SINGLE_THREAD_ENV
from t2dsim.engine.visits import CGM_MEASURES, MECHANISM_MEASURES
from t2dsim.population.screening import SCREEN_BLOCK, MapBlocks, id_blocks
from t2dsim.store import parts as store_parts
from t2dsim.trial.analysis import TrialAnalysis, analyse_run
from t2dsim.trial.runner import (
    Chunk,
    ChunkResult,
    TrialPlan,
    TrialRun,
    assemble_tables,
    plan_trial,
    run_chunk,
    sort_draw_results,
)
from t2dsim.trial.runner import _patients_table as patients_table

__all__ = ["Backend", "analyse_parts", "check_memory", "estimate_peak_bytes", "load_parts", "parse_size", "plan_on",
           "plan_record", "run_chunk_to_part", "run_plan", "screen_map", "session"]  # fmt: skip

TABLES = ("true_results", "results", "flow")
#: Memory model of :func:`estimate_peak_bytes` (measured with tracemalloc on run_chunk, rounded up ~2x):
#: engine state, therapies and visit measures per patient; a CGM fortnight per patient (measured 0.87 MiB);
#: one worker process (Python, NumPy, Numba kernels, pandas); bytes per long-table row held by the client.
ENGINE_BYTES_PER_PATIENT = 64 * 1024
CGM_BYTES_PER_PATIENT = 1024 * 1024
PROCESS_BYTES = 300 * 1024**2
ROW_BYTES = 200
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip
MIN_MEMORY, MAX_MEMORY = 64 * 2**20, 2**50


@dataclass(frozen=True)
class Backend:
    """Where chunks run: ``workers`` (a LocalCluster of that many single-threaded processes) or
    ``scheduler`` (address of an existing cluster); neither = in this process."""

    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.scheduler is not None:
            raise ValueError("--workers and --scheduler exclude each other: give one (or neither: in-process)")
        if self.workers is not None and not 1 <= self.workers <= 512:
            raise ValueError(f"--workers {self.workers}: allowed range is 1 to 512 worker processes")
        if self.scheduler is not None and not re.fullmatch(r"(tcp|tls|inproc|ws|wss)://\S+", self.scheduler):
            raise ValueError(f"--scheduler {self.scheduler!r}: give a Dask scheduler address like tcp://host:8786")

    @property
    def label(self) -> str:
        if self.workers is not None:
            return f"dask-local-{self.workers}"
        return "dask-scheduler" if self.scheduler else "in-process"

    @property
    def parallel(self) -> int:
        """Worker processes holding a chunk at once (an existing cluster's count is not known: 1)."""
        return self.workers or 1


def parse_size(text: str, flag: str = "--max-memory") -> int:
    """Bytes of a size like ``4GiB``, ``512MiB``, ``8GB`` or ``1000000`` (allowed 64MiB to 1PiB)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", text or "")
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise ValueError(f"{flag} {text!r}: give a size like 4GiB, 512MiB or 8GB (allowed 64MiB to 1PiB)")
    value = int(float(m.group(1)) * _UNITS[unit])
    if not MIN_MEMORY <= value <= MAX_MEMORY:
        raise ValueError(f"{flag} {text!r} is outside the allowed range 64MiB to 1PiB")
    return value


def estimate_peak_bytes(protocol: Any, chunk_size: int, backend: Backend) -> dict[str, int]:
    """Estimated peak memory of a run: each worker holding one chunk (a task of K posterior draws holds its patients
    K times), plus the client assembling the tables (the draws' rows: at most as many per draw as the central run)."""
    n = sum(a.n for a in protocol.arms)
    k = int(protocol.posterior.draws)
    per_patient = ENGINE_BYTES_PER_PATIENT + CGM_BYTES_PER_PATIENT * bool(set(protocol.measurements) & CGM_MEASURES)
    workers = backend.parallel * (PROCESS_BYTES + min(chunk_size, n) * max(k, 1) * per_patient)
    rows = len(protocol.visit_months) * (len(protocol.measurements) + len(MECHANISM_MEASURES)) * len(TABLES)
    client = (PROCESS_BYTES if backend.workers or backend.scheduler else 0) + n * (1 + k) * rows * ROW_BYTES
    return {"workers": workers, "client": client, "total": workers + client, "per_patient": per_patient}


def check_memory(protocol: Any, chunk_size: int, backend: Backend, max_bytes: int | None) -> dict[str, int]:
    """Refuse a plan whose estimated peak does not fit in ``max_bytes`` (message names the flags)."""
    est = estimate_peak_bytes(protocol, chunk_size, backend)
    if max_bytes is not None and est["total"] > max_bytes:
        gib = 2**30
        raise ValueError(
            f"--max-memory {max_bytes / gib:.3g} GiB: this plan needs about {est['total'] / gib:.3g} GiB "
            f"({backend.parallel} worker(s) × (process + chunk size {chunk_size} × "
            f"{max(int(protocol.posterior.draws), 1)} posterior draw(s) × "
            f"{est['per_patient'] / 2**10:.0f} KiB per patient) = {est['workers'] / gib:.3g} GiB, plus "
            f"{est['client'] / gib:.3g} GiB to assemble the results); lower --chunk-size or --workers, "
            "or raise --max-memory"
        )
    return est


def plan_record(plan: TrialPlan, protocol_sha256: str) -> dict[str, Any]:
    """The JSON plan stored with a chunked run (what resuming checks against)."""
    chunks = [
        {
            "name": c.key.name,
            "draw": c.key.draw,
            "n_draws": c.key.n_draws,
            "arm_index": c.key.arm,
            "chunk": c.key.chunk,
            "arm": c.arm,
            "patient_ids": [int(i) for i in plan.cohort.patient_id[c.positions]],
        }
        for c in plan.chunks
    ]
    return {
        "protocol_sha256": protocol_sha256,
        "seed": plan.seed,
        "chunk_size": plan.chunk_size,
        "n_patients": plan.n_patients,
        "posterior_sha256": plan.draw_sets.sha256() if plan.draw_sets else None,
        "chunks": chunks,
    }


def _in_process(plan: TrialPlan, todo: list[Chunk]) -> Iterator[tuple[Chunk, ChunkResult]]:
    for chunk in todo:
        yield chunk, run_chunk(plan.protocol, plan.seed, chunk.arm, plan.cohort_of(chunk), **plan.task_args(chunk))


def _dask_client(backend: Backend):
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a default dependency
        flag = "--workers" if backend.workers else "--scheduler"
        raise ValueError(f"{flag} needs dask and distributed: pip install 't2dsim[dist]' (make install does)") from None
    if backend.scheduler:
        try:
            return Client(backend.scheduler, timeout="20s"), None
        except OSError as exc:
            raise ValueError(f"--scheduler {backend.scheduler}: cannot connect ({exc})") from None
    import dask

    one = dict(SINGLE_THREAD_ENV)
    # Set before each worker process starts (the nanny's pre-spawn environment): Numba reads NUMBA_NUM_THREADS
    # once, at its import, which in a worker happens before LocalCluster(env=...) is applied; a worker would
    # otherwise run every kernel on all cores, and N such workers oversubscribe the machine N-fold.
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **one}
    # The nanny applies the pre-spawn environment with os.environ.update in *this* process and never undoes it.
    # Left so, this process's Numba (threads already launched) would find NUMBA_NUM_THREADS changed at its next
    # compilation and raise "Cannot set NUMBA_NUM_THREADS to a different value once the threads have been
    # launched": restore the caller's environment once the workers have started.
    saved = {k: os.environ.get(k) for k in environ}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(
                n_workers=backend.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=one,
            )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Client(cluster), cluster


@contextmanager
def session(backend: Backend) -> Iterator[Any]:
    """The backend's Dask client for the length of a run (screening and chunks share one cluster); None
    in-process. A LocalCluster is started here and stopped on leaving."""
    if not (backend.workers or backend.scheduler):
        yield None
        return
    client, cluster = _dask_client(backend)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def screen_map(client: Any, block_size: int = SCREEN_BLOCK) -> MapBlocks:
    """A ``map_blocks`` for :func:`~t2dsim.population.screening.screen` running each block of ``block_size``
    candidates as a Dask task on ``client``; results come back in block (candidate-id) order."""

    def map_blocks(fn, protocol, seed, first_id, size):
        token = uuid.uuid4().hex[:8]
        shared = client.scatter(protocol, broadcast=True, hash=False)
        futures = [client.submit(fn, shared, seed, a, n, key=f"t2dsim-screen-{token}-{a}", pure=False)
                   for a, n in id_blocks(first_id, size, block_size)]  # fmt: skip
        for fut in futures:
            result = fut.result()
            fut.release()
            yield result

    return map_blocks


def plan_on(protocol: Any, chunk_size: int, client: Any = None) -> TrialPlan:
    """:func:`~t2dsim.trial.runner.plan_trial` with the screening spread over ``client``'s workers (in this
    process without a client); the plan is the same either way."""
    return plan_trial(protocol, chunk_size=chunk_size, map_blocks=None if client is None else screen_map(client))


def run_chunk_to_part(store_dir: str, run_id: str, chunk_name: str, *args: Any, **kwargs: Any) -> None:
    """:func:`~t2dsim.trial.runner.run_chunk` (same arguments) with the chunk's tables written as its part of
    run ``run_id`` in ``store_dir`` where it ran (a worker on the client's disk); nothing is returned."""
    store_parts.write_part(store_dir, run_id, chunk_name, _part_tables(run_chunk(*args, **kwargs)))


def _part_tables(res: ChunkResult) -> dict[str, pd.DataFrame]:
    """A finished chunk's tables as written to its part (name → frame)."""
    return {name: getattr(res, name) for name in TABLES}


def _on_dask(
    plan: TrialPlan, todo: list[Chunk], client: Any, run_id: str, store_dir: Path | None = None
) -> Iterator[tuple[Chunk, ChunkResult | None]]:
    """Each chunk a task; yields (chunk, tables) as they finish, or (chunk, None) with ``store_dir`` (an
    absolute path the workers see), where the worker has written the chunk's part itself."""
    from distributed import as_completed

    protocol = client.scatter(plan.protocol, broadcast=True, hash=False)
    futures = []
    for chunk in todo:
        key = f"t2dsim-{run_id}-{chunk.key.name}"
        args = (protocol, plan.seed, chunk.arm, plan.cohort_of(chunk))
        if store_dir is None:
            fut = client.submit(run_chunk, *args, **plan.task_args(chunk), key=key, pure=False)
        else:
            fut = client.submit(run_chunk_to_part, str(store_dir), run_id, chunk.key.name, *args,
                                **plan.task_args(chunk), key=key, pure=False)  # fmt: skip
        futures.append(fut)
    by_key = {f.key: c for f, c in zip(futures, todo, strict=True)}
    for fut in as_completed(futures):
        result = fut.result()
        chunk = by_key[fut.key]
        fut.release()
        yield chunk, result


def run_plan(
    plan: TrialPlan,
    backend: Backend,
    store_dir: str | Path,
    run_id: str,
    progress: Callable[[int, int, int], None] | None = None,
    client: Any = None,
) -> dict[str, float]:
    """Run the plan's unfinished chunks on ``backend``, each written to the run's parts as it finishes (by
    the client, or on a LocalCluster by the worker that ran it).

    ``progress(chunks done, chunks in all, patients done)`` after each chunk (and once before the first).
    ``client``: the backend's Dask client when the caller holds one (:func:`session`), else a cluster is
    started for these chunks. Returns timings (``simulation_s``).
    """
    t0 = time.perf_counter()
    done = store_parts.done_parts(store_dir, run_id)
    todo = [c for c in plan.chunks if c.key.name not in done]
    n_done = len(plan.chunks) - len(todo)
    patients = sum(c.positions.size for c in plan.chunks if c.key.name in done)
    if progress is not None:
        progress(n_done, len(plan.chunks), patients)
    # a LocalCluster's workers share this disk and write their parts; a remote cluster's may not see it
    on_workers = Path(store_dir).resolve() if backend.workers and not backend.scheduler else None
    if todo:
        with nullcontext(client) if client is not None else session(backend) as dask:
            runs = _in_process(plan, todo) if dask is None else _on_dask(plan, todo, dask, run_id, on_workers)
            for chunk, res in runs:
                if res is not None:
                    store_parts.write_part(store_dir, run_id, chunk.key.name, _part_tables(res))
                n_done += 1
                patients += chunk.positions.size
                if progress is not None:
                    progress(n_done, len(plan.chunks), patients)
    return {"simulation_s": time.perf_counter() - t0}


def load_parts(plan: TrialPlan, store_dir: str | Path, run_id: str) -> TrialRun:
    """The run assembled from its parts, in plan order; refuses missing or duplicated patients."""
    names = [c.key.name for c in plan.chunks if c.key.draw == 0]
    drawn = [c.key.name for c in plan.chunks if c.key.draw != 0]
    frames = {t: store_parts.read_parts(store_dir, run_id, t, names) for t in TABLES}
    _check_patients(frames["flow"], plan, run_id)
    draw_results = store_parts.read_parts(store_dir, run_id, "results", drawn) if drawn else None
    return assemble_tables(plan, frames["true_results"], frames["results"], frames["flow"], draw_results=draw_results)


def analyse_parts(
    plan: TrialPlan, store_dir: str | Path, run_id: str, labels: dict[str, str] | None = None
) -> tuple[TrialAnalysis, pd.DataFrame]:
    """The run's analysis and patients table built from its parts without the long tables in memory.

    The statistics read one measure of the observed table at a time (:func:`analyse_run` with a reader of
    the parts, :func:`t2dsim.store.parts.read_measure`), so the client holds the per-patient table plus one
    measure's rows (patients × visits), never all measures × visits; the numbers are those of
    :func:`load_parts` + :func:`analyse_run` (tested equal). The posterior draws' results (a few endpoint
    measures per draw) are read whole. Refuses missing or duplicated patients.
    """
    names = [c.key.name for c in plan.chunks if c.key.draw == 0]
    drawn = [c.key.name for c in plan.chunks if c.key.draw != 0]
    flow = store_parts.read_parts(store_dir, run_id, "flow", names)
    _check_patients(flow, plan, run_id)
    patients = patients_table(plan.base, flow)
    measures = store_parts.part_measures(store_dir, run_id, "results", names)

    def rows(measure: str) -> pd.DataFrame:
        return store_parts.read_measure(store_dir, run_id, "results", names, measure)

    draw_results = sort_draw_results(store_parts.read_parts(store_dir, run_id, "results", drawn) if drawn else None)
    analysis = analyse_run(rows, patients, plan.protocol, labels=labels, draw_results=draw_results, measures=measures)
    return analysis, patients


def _check_patients(flow: pd.DataFrame, plan: TrialPlan, run_id: str) -> None:
    if flow["patient_id"].duplicated().any() or len(flow) != plan.n_patients:
        raise ValueError(f"run {run_id}: the parts hold {flow['patient_id'].nunique()} distinct of {len(flow)} "
                         f"patients, the plan {plan.n_patients}; start a new run")  # fmt: skip
