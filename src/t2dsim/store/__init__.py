"""Run store: results as Parquet, a DuckDB catalogue of runs, SQL over everything.

Layout of a store directory::

    <store_dir>/catalogue.duckdb          table `runs`: one row per run
    <store_dir>/runs/<run_id>/results.parquet    long table run_id, arm, patient_id, visit_month, measure, value
    <store_dir>/runs/<run_id>/patients.parquet   per-patient table (arm, patient_id, baselines, flags)
    <store_dir>/runs/<run_id>/protocol.toml      the protocol text as run
    <store_dir>/runs/<run_id>/plan.json, parts/  a chunked run's plan and finished chunks (:mod:`.parts`)

A run is ``complete`` (column ``status``) once every table is written; a chunked run is ``partial`` until
then (:mod:`t2dsim.store.parts`) and the ``results`` and ``patients`` views read complete runs only.

:func:`query` runs user SQL in a sandbox (in-memory DuckDB, no file or network access, configuration
locked) over three views: ``runs``, ``results`` (all runs' long tables) and ``patients``, so e.g.
``SELECT arm, avg(value) FROM results WHERE measure = 'hba1c_percent' AND visit_month = 12 GROUP BY arm``
works across runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CATALOGUE",
    "RESULT_COLUMNS",
    "RunRecord",
    "compare_runs",
    "list_runs",
    "load_run",
    "QueryRefused",
    "query",
    "run_folder",
    "save_run",
]

CATALOGUE = "catalogue.duckdb"
RESULT_COLUMNS = ("run_id", "arm", "patient_id", "visit_month", "measure", "value")
PATIENT_REQUIRED = ("arm", "patient_id", "randomised", "completed", "dropout_month")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    created_utc TIMESTAMP,
    name VARCHAR,
    protocol_sha256 VARCHAR,
    protocol_text VARCHAR,
    seed BIGINT,
    package_version VARCHAR,
    backend VARCHAR,
    n_patients INTEGER,
    arms VARCHAR,
    total_seconds DOUBLE,
    timings_json VARCHAR,
    meta_json VARCHAR,
    results_path VARCHAR,
    patients_path VARCHAR
);
ALTER TABLE runs ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'complete';
"""
_COLUMNS = (
    "run_id, created_utc, name, protocol_sha256, protocol_text, seed, package_version, backend, n_patients, arms, "
    "total_seconds, timings_json, meta_json, results_path, patients_path, status"
)


@dataclass(frozen=True)
class RunRecord:
    """One stored run: its long results table, per-patient table and catalogue row (as a dict)."""

    results: pd.DataFrame
    patients: pd.DataFrame
    meta: dict[str, Any]


def _connect(store_dir: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    db = store_dir / CATALOGUE
    if read_only and not db.exists():
        raise FileNotFoundError(f"no run catalogue at {db}")
    store_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=read_only)
    if not read_only:
        con.execute(_SCHEMA)
    elif "status" not in {r[0] for r in con.execute("DESCRIBE runs").fetchall()}:
        con.close()  # a catalogue written before runs had a status: add it (every such run is complete)
        _connect(store_dir).close()
        con = duckdb.connect(str(db), read_only=True)
    return con


def _new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def save_run(
    store_dir: str | Path,
    results: pd.DataFrame,
    patients: pd.DataFrame,
    protocol_text: str,
    *,
    seed: int,
    backend: str,
    timings: Mapping[str, float] | None = None,
    name: str | None = None,
    meta: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    extra: Mapping[str, Callable[[Path], None]] | None = None,
) -> str:
    """Write a run's tables to Parquet and register it in the catalogue.

    Args:
        store_dir: store directory (created if needed).
        results: long table with ``arm, patient_id, visit_month, measure, value`` (``run_id`` is set).
        patients: per-patient table with at least ``arm, patient_id, randomised, completed,
            dropout_month``.
        protocol_text: the protocol TOML text (stored verbatim; its SHA-256 is recorded).
        seed: run seed.
        backend: kernel backend used (e.g. "numba").
        timings: phase -> seconds (e.g. {"simulate": 3.2, "report": 0.4}); their sum is ``total_seconds``.
        name: a label (e.g. the protocol name).
        meta: extra JSON-serialisable metadata.
        run_id: explicit id (default: UTC timestamp + random suffix).
        extra: folder name → writer: ``writer(folder)`` writes more of the run (e.g. its analysis) into
            ``runs/<run_id>/<name>/``, inside the same all-or-nothing write as the tables.

    Returns:
        the run id.
    """
    store = Path(store_dir)
    rid = run_id or _new_run_id()
    timings = dict(timings or {})
    res, pat = _tables(results, patients, rid)

    con = _connect(store)
    tmp_dir: Path | None = None
    try:
        if con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [rid]).fetchone()[0]:
            raise ValueError(f"run id {rid!r} already exists in {store / CATALOGUE}")
        run_dir = store / "runs" / rid
        if run_dir.exists():
            raise ValueError(f"run folder {run_dir} already exists")
        # Write into a hidden temporary folder, register, then rename: a failure leaves nothing behind
        # (the query views only read folders listed in the catalogue).
        tmp_dir = store / "runs" / f".tmp-{rid}"
        tmp_dir.mkdir(parents=True, exist_ok=False)
        _write_tables(tmp_dir, res, pat, extra)
        (tmp_dir / "protocol.toml").write_text(protocol_text, encoding="utf-8")
        arms = ",".join(map(str, pd.unique(pat["arm"])))
        row = _row(store, rid, name, protocol_text, seed, backend, int(pat["patient_id"].nunique()), arms, "complete")
        row.update(total_seconds=float(sum(timings.values())), timings_json=json.dumps(timings))
        row["meta_json"] = json.dumps(dict(meta or {}), default=str)
        _insert(con, row)
        try:
            os.replace(tmp_dir, run_dir)
        except BaseException:
            con.execute("DELETE FROM runs WHERE run_id = ?", [rid])
            raise
    except BaseException:
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    finally:
        con.close()
    return rid


def _tables(results: pd.DataFrame, patients: pd.DataFrame, rid: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results and patients tables checked and stamped with the run id (results columns in order)."""
    missing = [c for c in RESULT_COLUMNS[1:] if c not in results.columns]
    if missing:
        raise ValueError(f"results table lacks column(s) {missing}; required: {list(RESULT_COLUMNS[1:])}")
    missing = [c for c in PATIENT_REQUIRED if c not in patients.columns]
    if missing:
        raise ValueError(f"patients table lacks column(s) {missing}; required: {list(PATIENT_REQUIRED)}")
    res = results.drop(columns=["run_id"], errors="ignore").copy()
    res.insert(0, "run_id", rid)
    res = res[list(RESULT_COLUMNS) + [c for c in res.columns if c not in RESULT_COLUMNS]]
    pat = patients.drop(columns=["run_id"], errors="ignore").copy()
    pat.insert(0, "run_id", rid)
    return res, pat


def _write_tables(
    folder: Path,
    res: pd.DataFrame | Callable[[Path], None],
    pat: pd.DataFrame,
    extra: Mapping[str, Callable[[Path], None]] | None,
) -> None:
    """Write results (a frame, or a writer of ``results.parquet`` that streams it), patients and extra folders."""
    if callable(res):
        res(folder / "results.parquet")
    else:
        pq.write_table(pa.Table.from_pandas(res, preserve_index=False), folder / "results.parquet", compression="zstd")
    pq.write_table(pa.Table.from_pandas(pat, preserve_index=False), folder / "patients.parquet", compression="zstd")
    for sub, writer in (extra or {}).items():
        if not sub or "/" in sub or sub.startswith("."):
            raise ValueError(f"extra folder name {sub!r}: give a plain folder name")
        writer(folder / sub)


def _row(
    store: Path, rid: str, name: str | None, text: str, seed: int, backend: str, n: int, arms: str, status: str
) -> dict[str, Any]:
    from t2dsim import __version__

    run_dir = store / "runs" / rid
    return {
        "run_id": rid,
        "created_utc": datetime.now(UTC).replace(tzinfo=None),
        "name": name,
        "protocol_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "protocol_text": text,
        "seed": int(seed),
        "package_version": __version__,
        "backend": backend,
        "n_patients": int(n),
        "arms": arms,
        "total_seconds": 0.0,
        "timings_json": "{}",
        "meta_json": "{}",
        "results_path": str((run_dir / "results.parquet").relative_to(store)),
        "patients_path": str((run_dir / "patients.parquet").relative_to(store)),
        "status": status,
    }


def _insert(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any]) -> None:
    names = [c.strip() for c in _COLUMNS.split(",")]
    con.execute(f"INSERT INTO runs ({_COLUMNS}) VALUES ({', '.join('?' for _ in names)})", [row[c] for c in names])


def run_folder(store_dir: str | Path, run_id: str) -> Path:
    """The folder of a stored run (``<store_dir>/runs/<run_id>``); refuses a run that is not there."""
    folder = Path(store_dir) / "runs" / run_id
    if "/" in run_id or run_id.startswith(".") or not folder.is_dir():
        raise ValueError(f"no run {run_id!r} in the store {store_dir}; list runs with 't2dsim runs'")
    return folder


def list_runs(store_dir: str | Path) -> pd.DataFrame:
    """Catalogue of runs, oldest first (without the protocol text; see :func:`load_run`)."""
    store = Path(store_dir)
    if not (store / CATALOGUE).exists():
        return pd.DataFrame(
            columns=[
                "run_id",
                "created_utc",
                "name",
                "protocol_sha256",
                "seed",
                "package_version",
                "backend",
                "n_patients",
                "arms",
                "total_seconds",
                "status",
            ]
        )
    con = _connect(store, read_only=True)
    try:
        df = con.execute(
            "SELECT run_id, created_utc, name, protocol_sha256, seed, package_version, backend, n_patients, arms, "
            "total_seconds, status FROM runs ORDER BY created_utc, run_id"
        ).df()
    finally:
        con.close()
    from t2dsim.store.parts import chunks_done

    for i in np.nonzero((df["status"] != "complete").to_numpy())[0]:
        done, total = chunks_done(store, df["run_id"].iloc[i])
        df.loc[df.index[i], "status"] = f"partial ({done}/{total} chunks)"
    return df


def load_run(store_dir: str | Path, run_id: str) -> RunRecord:
    """Read one run back (tables as written, catalogue row with parsed ``timings`` and ``meta``)."""
    store = Path(store_dir)
    con = _connect(store, read_only=True)
    try:
        row = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
    finally:
        con.close()
    if row.empty:
        raise KeyError(f"no run {run_id!r} in {store / CATALOGUE}")
    if row["status"].iloc[0] != "complete":
        raise KeyError(f"run {run_id!r} in {store / CATALOGUE} is partial; finish it with 't2dsim trial --resume'")
    meta = row.iloc[0].to_dict()
    meta["timings"] = json.loads(meta.pop("timings_json") or "{}")
    meta["meta"] = json.loads(meta.pop("meta_json") or "{}")
    results = pq.read_table(store / meta["results_path"]).to_pandas()
    patients = pq.read_table(store / meta["patients_path"]).to_pandas()
    return RunRecord(results=results, patients=patients, meta=meta)


class QueryRefused(ValueError):
    """A user query tried something the sandbox forbids (writing, reading files, attaching, extensions)."""


#: Statement types a user query may contain: reading only (SELECT also covers WITH, FROM-first, DESCRIBE,
#: SUMMARIZE, SHOW). Anything else (COPY, ATTACH, INSTALL/LOAD, PRAGMA, SET, CREATE, EXPORT, ...) is refused.
_ALLOWED_STATEMENTS = ("SELECT", "EXPLAIN")

#: DuckDB settings of the query connection. External access off means no function can reach a file or the
#: network (read_csv, read_parquet, read_text, glob, COPY ... TO, ATTACH of a file, EXPORT, INSTALL); no
#: extension is installed or loaded behind the user's back; no spill folder; and the configuration is locked
#: so the query cannot switch any of this back on.
_SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "temp_directory": "",
    "lock_configuration": True,
}


def query(store_dir: str | Path, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run a read-only SQL query against the store; views ``runs``, ``results`` and ``patients``.

    The query runs in a sandbox: an in-memory DuckDB connection with external access disabled and the
    configuration locked. The store's tables are handed to it as Arrow data (read by t2dsim, not by the
    query), so the query can read them but cannot read or write any file (``read_csv``, ``read_parquet``,
    ``COPY ... TO``), ``ATTACH`` a database, or ``INSTALL``/``LOAD`` an extension, inside the store or
    outside it. Only SELECT-type statements are accepted.

    Raises:
        QueryRefused: a statement other than a query, or a query reaching for a file (a ``ValueError``).
        duckdb.Error: other SQL errors (syntax, unknown column, ...).
    """
    import pyarrow.dataset as pads

    store = Path(store_dir)
    cat = _connect(store, read_only=True)
    try:
        runs = cat.execute("SELECT * FROM runs").df()
    finally:
        cat.close()
    con = duckdb.connect(":memory:", config=dict(_SANDBOX))
    try:
        for st in con.extract_statements(sql):
            kind = st.type.name
            if kind not in _ALLOWED_STATEMENTS:
                raise QueryRefused(
                    f"--sql accepts read-only queries only (SELECT ...); refused a {kind} statement. "
                    "Query the views runs, results and patients; export with the shell, e.g. > file.txt"
                )
        # Only runs registered in the catalogue are visible (no stray folders); tables of complete runs only.
        con.register("runs", runs)
        done = runs.loc[runs["status"] == "complete"]
        for view, column in (("results", "results_path"), ("patients", "patients_path")):
            files = [str(store / p) for p in done[column].tolist() if (store / p).exists()]
            con.register(view, _dataset(view, files, pads))
        try:
            return con.execute(sql, params or []).df()
        except duckdb.PermissionException as exc:
            raise QueryRefused(
                "--sql cannot read or write files, attach databases or load extensions; query the views "
                f"runs, results and patients instead (DuckDB: {str(exc).splitlines()[0]})"
            ) from None
    finally:
        con.close()


def _dataset(view: str, files: Sequence[str], pads: Any) -> Any:
    """The union of the listed Parquet files as a lazy Arrow dataset (columns unified by name)."""
    if not files:
        if view == "results":
            return pa.table(
                {
                    "run_id": pa.array([], pa.string()),
                    "arm": pa.array([], pa.string()),
                    "patient_id": pa.array([], pa.int64()),
                    "visit_month": pa.array([], pa.float64()),
                    "measure": pa.array([], pa.string()),
                    "value": pa.array([], pa.float64()),
                }
            )
        return pa.table(
            {
                "run_id": pa.array([], pa.string()),
                "arm": pa.array([], pa.string()),
                "patient_id": pa.array([], pa.int64()),
            }
        )
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    return pads.dataset(list(files), format="parquet", schema=schema)


def compare_runs(store_dir: str | Path, run_ids: Sequence[str], measure: str, visit_month: float) -> pd.DataFrame:
    """Mean, SD and n of ``measure`` at ``visit_month`` per run and arm, for side-by-side comparison."""
    if not run_ids:
        raise ValueError("give at least one run id")
    marks = ", ".join("?" for _ in run_ids)
    return query(
        store_dir,
        "SELECT r.run_id, r.arm, count(*) AS n, avg(r.value) AS mean, stddev_samp(r.value) AS sd, "
        "c.protocol_sha256, c.seed FROM results r JOIN runs c USING (run_id) "
        f"WHERE r.run_id IN ({marks}) AND r.measure = ? AND abs(r.visit_month - ?) < 1e-9 "
        "GROUP BY r.run_id, r.arm, c.protocol_sha256, c.seed ORDER BY r.run_id, r.arm",
        [*run_ids, measure, float(visit_month)],
    )
