"""Chunked runs: a run's plan and its finished chunks, written as they finish, so a run can resume.

Layout inside ``<store_dir>/runs/<run_id>/``::

    plan.json                 protocol SHA-256, seed, chunk size, every chunk's name, arm and patient ids
    protocol.toml             the protocol text
    parts/<chunk>/<table>.parquet   one folder per finished chunk (e.g. ``d0000-a01-c000003``)

A chunk's tables are written into a hidden temporary folder and renamed into ``parts/`` in one step, so a
chunk is either there whole or not at all, whatever kills the process. The catalogue lists the run as
``partial`` from :func:`begin_run` until :func:`finish_run` has written the assembled tables; only then is
it ``complete`` (and read by the ``results``/``patients`` query views).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from t2dsim.store import RESULT_COLUMNS, _connect, _insert, _new_run_id, _row, _tables, _write_tables

__all__ = ["begin_run", "chunks_done", "done_parts", "finish_run", "open_partial", "part_measures", "partial_runs",
           "read_measure", "read_parts", "write_part"]  # fmt: skip

PLAN = "plan.json"
PARTS = "parts"


def _write_text(path: Path, text: str) -> None:
    """Write a text file via a temporary file and a rename (whole or not at all)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _run_dir(store: Path, run_id: str) -> Path:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise ValueError(f"--resume {run_id!r}: not a run id; list runs with 't2dsim runs'")
    return store / "runs" / run_id


def begin_run(
    store_dir: str | Path,
    protocol_text: str,
    plan: Mapping[str, Any],
    *,
    seed: int,
    backend: str,
    name: str | None = None,
    run_id: str | None = None,
) -> str:
    """Register a new chunked run as ``partial``: its folder, protocol text and plan (JSON-serialisable,
    with ``chunks``: a list of ``{"name", "arm", "patient_ids", ...}`` and ``n_patients``). Returns its id."""
    store = Path(store_dir)
    rid = run_id or _new_run_id()
    run_dir = _run_dir(store, rid)
    con = _connect(store)
    try:
        if con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [rid]).fetchone()[0] or run_dir.exists():
            raise ValueError(f"run id {rid!r} already exists in {store}")
        (run_dir / PARTS).mkdir(parents=True)
        _write_text(run_dir / "protocol.toml", protocol_text)
        _write_text(run_dir / PLAN, json.dumps(dict(plan)))
        arms = ",".join(dict.fromkeys(c["arm"] for c in plan["chunks"]))
        _insert(con, _row(store, rid, name, protocol_text, seed, backend, plan["n_patients"], arms, "partial"))
    except BaseException:
        if not con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [rid]).fetchone()[0]:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        con.close()
    return rid


def open_partial(store_dir: str | Path, run_id: str) -> tuple[dict[str, Any], str]:
    """The plan and protocol text of a partial run (refuses an unknown or a complete run)."""
    store = Path(store_dir)
    run_dir = _run_dir(store, run_id)
    if not (store / "catalogue.duckdb").exists():
        raise ValueError(f"--resume {run_id}: no run store at {store}")
    con = _connect(store, read_only=True)
    try:
        row = con.execute("SELECT status, protocol_text FROM runs WHERE run_id = ?", [run_id]).fetchone()
    finally:
        con.close()
    if row is None:
        raise ValueError(f"--resume {run_id}: no such run in {store}; list runs with 't2dsim runs --store {store}'")
    if row[0] == "complete":
        raise ValueError(f"--resume {run_id}: that run is already complete; nothing to resume")
    if not (run_dir / PLAN).is_file():
        raise ValueError(f"--resume {run_id}: the run's plan {run_dir / PLAN} is missing; start a new run")
    return json.loads((run_dir / PLAN).read_text(encoding="utf-8")), row[1]


def partial_runs(store_dir: str | Path, protocol_sha256: str, seed: int) -> list[str]:
    """Ids of the partial runs of this protocol text and seed, oldest first."""
    store = Path(store_dir)
    if not (store / "catalogue.duckdb").exists():
        return []
    con = _connect(store, read_only=True)
    try:
        rows = con.execute(
            "SELECT run_id FROM runs WHERE status = 'partial' AND protocol_sha256 = ? AND seed = ? "
            "ORDER BY created_utc, run_id",
            [protocol_sha256, int(seed)],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def done_parts(store_dir: str | Path, run_id: str) -> set[str]:
    """Names of the chunks whose tables are all written."""
    parts = _run_dir(Path(store_dir), run_id) / PARTS
    return {p.name for p in parts.iterdir() if p.is_dir() and not p.name.startswith(".")} if parts.is_dir() else set()


def chunks_done(store_dir: str | Path, run_id: str) -> tuple[int, int]:
    """(finished chunks, chunks in the plan) of a run (0 planned if the plan is missing)."""
    plan = _run_dir(Path(store_dir), run_id) / PLAN
    total = len(json.loads(plan.read_text(encoding="utf-8"))["chunks"]) if plan.is_file() else 0
    return len(done_parts(store_dir, run_id)), total


def write_part(store_dir: str | Path, run_id: str, chunk: str, tables: Mapping[str, pd.DataFrame]) -> bool:
    """Write one finished chunk's tables (name → frame) whole or not at all. Returns False (and writes
    nothing) if the chunk is already there, e.g. from a task run twice."""
    parts = _run_dir(Path(store_dir), run_id) / PARTS
    final = parts / chunk
    if final.exists():
        return False
    tmp = parts / f".tmp-{chunk}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        for name, df in tables.items():
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp / f"{name}.parquet")
        try:
            os.rename(tmp, final)  # atomic; fails if another writer got there first
        except OSError:
            if not final.exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            return False
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


def read_parts(store_dir: str | Path, run_id: str, table: str, chunks: Sequence[str]) -> pd.DataFrame:
    """One table of the given chunks, concatenated in the given order."""
    parts = _run_dir(Path(store_dir), run_id) / PARTS
    missing = [c for c in chunks if not (parts / c / f"{table}.parquet").is_file()]
    if missing:
        raise ValueError(f"run {run_id}: {len(missing)} chunk(s) not finished (first: {missing[0]}); resume the run")
    frames = [pq.read_table(parts / c / f"{table}.parquet").to_pandas() for c in chunks]
    return pd.concat(frames, ignore_index=True)


def _part_files(store_dir: str | Path, run_id: str, table: str, chunks: Sequence[str]) -> list[Path]:
    parts = _run_dir(Path(store_dir), run_id) / PARTS
    files = [parts / c / f"{table}.parquet" for c in chunks]
    missing = [c for c, f in zip(chunks, files, strict=True) if not f.is_file()]
    if missing:
        raise ValueError(f"run {run_id}: {len(missing)} chunk(s) not finished (first: {missing[0]}); resume the run")
    return files


def read_measure(store_dir: str | Path, run_id: str, table: str, chunks: Sequence[str], measure: str) -> pd.DataFrame:
    """The rows of one long table holding ``measure``, chunk by chunk in the given order: what
    :func:`read_parts` followed by a filter on ``measure`` gives, holding one chunk's table at a time."""
    frames = [pq.read_table(f, filters=[("measure", "==", measure)]).to_pandas()
              for f in _part_files(store_dir, run_id, table, chunks)]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def part_measures(store_dir: str | Path, run_id: str, table: str, chunks: Sequence[str]) -> list[str]:
    """The measures present in one long table of the given chunks (sorted), reading only that column."""
    found: set[str] = set()
    for f in _part_files(store_dir, run_id, table, chunks):
        found.update(map(str, pq.read_table(f, columns=["measure"]).column("measure").unique().to_pylist()))
    return sorted(found)


_EMPTY_RESULTS = pd.DataFrame(columns=list(RESULT_COLUMNS[1:]))


def _results_from_parts(files: Sequence[Path], run_id: str) -> Callable[[Path], None]:
    """A writer of ``results.parquet`` from the chunks' result parts in order, one part in memory at a time
    (each stamped with the run id, columns in the store's order, cast to the first part's types)."""

    def write(path: Path) -> None:
        writer: pq.ParquetWriter | None = None
        try:
            for f in files:
                t = pq.read_table(f).replace_schema_metadata(None)
                missing = [c for c in RESULT_COLUMNS[1:] if c not in t.column_names]
                if missing:
                    raise ValueError(f"results part {f} lacks column(s) {missing}; "
                                     f"required: {list(RESULT_COLUMNS[1:])}")  # fmt: skip
                if "run_id" in t.column_names:
                    t = t.drop(["run_id"])
                t = t.add_column(0, "run_id", pa.array([run_id] * t.num_rows, pa.string()))
                t = t.select(list(RESULT_COLUMNS) + [c for c in t.column_names if c not in RESULT_COLUMNS])
                if writer is None:
                    writer = pq.ParquetWriter(path, t.schema, compression="zstd")
                writer.write_table(t.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()

    return write


def finish_run(
    store_dir: str | Path,
    run_id: str,
    results: pd.DataFrame | Sequence[str],
    patients: pd.DataFrame,
    *,
    timings: Mapping[str, float] | None = None,
    meta: Mapping[str, Any] | None = None,
    extra: Mapping[str, Callable[[Path], None]] | None = None,
    keep_parts: bool = False,
) -> None:
    """Write a partial run's assembled tables (and ``extra`` folders), then mark it ``complete``.

    The tables are written into a hidden folder and moved into the run folder before the catalogue row
    changes, so the catalogue never calls a run complete whose tables are not all there; killed before
    that, the run stays partial and resuming it writes them again. The chunk parts are removed afterwards
    (they duplicate the tables) unless ``keep_parts``. ``results``: the assembled table, or the names of the
    chunks whose ``results`` parts make it, in order (streamed into the table one part at a time, so a run of
    any size is stored without holding its results in memory).
    """
    store = Path(store_dir)
    run_dir = _run_dir(store, run_id)
    if isinstance(results, pd.DataFrame):
        res, pat = _tables(results, patients, run_id)
    else:
        files = _part_files(store, run_id, "results", list(results))
        res, pat = _results_from_parts(files, run_id), _tables(_EMPTY_RESULTS, patients, run_id)[1]
    timings = dict(timings or {})
    tmp = run_dir / f".final-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_tables(tmp, res, pat, extra)
        for item in sorted(tmp.iterdir()):
            dest = run_dir / item.name
            if dest.is_dir():
                shutil.rmtree(dest)  # from an earlier finish killed before its catalogue update
            os.replace(item, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    con = _connect(store)
    try:
        con.execute(
            "UPDATE runs SET status = 'complete', n_patients = ?, total_seconds = ?, timings_json = ?, meta_json = ? "
            "WHERE run_id = ? AND status = 'partial'",
            [int(pat["patient_id"].nunique()), float(sum(timings.values())), json.dumps(timings),
             json.dumps(dict(meta or {}), default=str), run_id],
        )  # fmt: skip
    finally:
        con.close()
    if not keep_parts:
        shutil.rmtree(run_dir / PARTS, ignore_errors=True)
