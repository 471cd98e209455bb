"""Chunked runs at scale (issue 18): the same numbers in-process, on 2 Dask workers and at any chunk size;
a run killed mid-way resumes to the uninterrupted result; the catalogue never calls a partial run complete;
bad scale flags are refused by name. Small protocol: 20 patients, 6 months (tests/data/scale_protocol.toml).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from t2dsim.cli import app
from t2dsim.population.screening import id_blocks, screen
from t2dsim.store import list_runs, load_run, query
from t2dsim.store import parts as store_parts
from t2dsim.trial.backend import (
    Backend,
    estimate_peak_bytes,
    load_parts,
    parse_size,
    plan_record,
    run_plan,
    screen_map,
    session,
)  # fmt: skip
from t2dsim.trial.protocol import load_protocol, parse_protocol
from t2dsim.trial.runner import plan_trial, run_trial

PROTOCOL = Path(__file__).parent / "data" / "scale_protocol.toml"
KEY = ["arm", "patient_id", "visit_month", "measure"]
runner = CliRunner()


def _sorted(df: pd.DataFrame, key=KEY) -> pd.DataFrame:
    return df.drop(columns="run_id", errors="ignore").sort_values(key).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted in-process run (one chunk per arm)."""
    return run_trial(load_protocol(PROTOCOL), chunk_size=64)


def test_same_numbers_in_process_on_two_workers_and_at_any_chunk_size(reference, tmp_path):
    protocol = load_protocol(PROTOCOL)
    small = run_trial(protocol, chunk_size=3)
    with session(Backend(workers=2)) as client:  # screening (blocks of 16 candidates) and chunks on 2 workers
        plan = plan_trial(protocol, chunk_size=4, map_blocks=screen_map(client, block_size=16))
        assert plan_record(plan, "x") == plan_record(plan_trial(protocol, chunk_size=4), "x")
        rid = store_parts.begin_run(tmp_path, PROTOCOL.read_text(), plan_record(plan, "x"), seed=plan.seed,
                                    backend="numba")  # fmt: skip
        run_plan(plan, Backend(workers=2), tmp_path, rid, client=client)
    assert store_parts.chunks_done(tmp_path, rid) == (len(plan.chunks), len(plan.chunks)) == (6, 6)
    dask = load_parts(plan, tmp_path, rid)
    for other in (small, dask):
        pd.testing.assert_frame_equal(_sorted(other.results), _sorted(reference.results), check_exact=True)
        pd.testing.assert_frame_equal(_sorted(other.true_results), _sorted(reference.true_results), check_exact=True)
        pd.testing.assert_frame_equal(
            _sorted(other.patients, ["patient_id"]), _sorted(reference.patients, ["patient_id"]), check_exact=True
        )
    # Chunk order within an arm follows enrolment, so even the row order matches at a given chunk size.
    assert dask.results.equals(run_trial(protocol, chunk_size=4).results)


WORKER_THREADS_SCRIPT = """
import os

import numba  # imported by the main module, as by t2dsim's CLI and scripts: a spawned worker re-imports it

from t2dsim.trial.backend import Backend, session


def threads():
    import numba

    return numba.get_num_threads()


def parallel_sum(n):
    @numba.njit(parallel=True)
    def f(n):
        s = 0.0
        for i in numba.prange(n):
            s += i
        return s

    return f(n)


if __name__ == "__main__":
    parallel_sum(10)  # this process's Numba threads are launched before the cluster starts
    with session(Backend(workers=2)) as client:
        workers = sorted(client.run(threads).values())
        # a compilation in this process after the workers started: raises if the cluster left its workers'
        # NUMBA_NUM_THREADS in this process's environment
        parallel_sum(11)
        print(os.environ.get("NUMBA_NUM_THREADS"))
        print(workers)
"""


def test_local_cluster_workers_run_numba_on_one_thread(tmp_path):
    """Numba reads NUMBA_NUM_THREADS once, at import; a spawned worker imports it (re-importing the main module)
    before LocalCluster(env=...) applies, so the variable must be in the environment the worker starts with.
    Without that, 2 workers each ran 2 Numba threads on 2 cores and every screening task took ~2.5x as long.
    The nanny sets that environment with os.environ.update in the calling process and never undoes it; the backend
    restores the caller's environment, else the caller's next Numba compilation raises (its threads were launched
    with another NUMBA_NUM_THREADS; seen 2026-12-06 as four order-dependent suite failures)."""
    script = tmp_path / "threads.py"
    script.write_text(WORKER_THREADS_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-2:] == ["None", "[1, 1]"], out.stdout


def _local_blocks(calls: list):
    def map_blocks(fn, protocol, seed, first_id, size):
        blocks = id_blocks(first_id, size, 7)
        calls.extend(blocks)
        return (fn(protocol, seed, a, n) for a, n in blocks)

    return map_blocks


def test_screening_in_blocks_enrols_the_same_patients():
    """Screening is keyed per candidate, so cutting the candidates into blocks of 7 ids (as Dask tasks do)
    changes nothing: with baseline targets (placement and matching) and a background run-in."""
    text = PROTOCOL.read_text().replace(
        'insulin_use = "excluded"',
        'insulin_use = "excluded"\n[population.distributions]\nbmi_kg_m2 = { dist = "normal", mean = 30.0, sd = 4.0 }',
    ).replace("[randomisation]", '[background]\nrun_in_months = 1\ntreatment = [{ kind = "sglt2i", '
              'drug = "empagliflozin" }]\n[randomisation]')  # fmt: skip
    protocol = parse_protocol(text)
    assert protocol.population.baseline_targets and protocol.background is not None
    calls: list = []
    c1, b1, s1 = screen(protocol, 20, 11)
    c2, b2, s2 = screen(protocol, 20, 11, map_blocks=_local_blocks(calls))
    assert len(calls) > 2 and all(n <= 7 for _, n in calls) and s1 == s2
    pd.testing.assert_frame_equal(b1, b2, check_exact=True)
    np.testing.assert_array_equal(c1.patient_id, c2.patient_id)
    np.testing.assert_array_equal(c1.state.to_matrix(), c2.state.to_matrix())
    for k in c1.params.values:
        np.testing.assert_array_equal(c1.params[k], c2.params[k])
    for k, v in c1.ctx.covariates.items():
        np.testing.assert_array_equal(v, c2.ctx.covariates[k])


def _wait_for_part(run_root: Path, proc: subprocess.Popen, timeout: float = 180.0) -> Path:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        for parts in run_root.glob("runs/*/parts"):
            if any(p.is_dir() and not p.name.startswith(".") for p in parts.iterdir()):
                return parts.parent
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (code {proc.returncode}) before a chunk part appeared")
        time.sleep(0.02)
    raise AssertionError("no chunk part appeared")


def test_killed_run_resumes_to_the_uninterrupted_result(reference, tmp_path):
    out = tmp_path / "out"
    store = out / "runs"
    cmd = [sys.executable, "-m", "t2dsim.cli", "trial", str(PROTOCOL), "--out", str(out), "--chunk-size", "1",
           "--no-complications"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_dir = _wait_for_part(store, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    rid = run_dir.name
    done, total = store_parts.chunks_done(store, rid)
    assert 1 <= done < total == 20
    # The catalogue lists the run as partial, the query views show none of its rows, loading it is refused.
    listed = list_runs(store)
    assert listed["status"].tolist() == [f"partial ({done}/{total} chunks)"]
    assert query(store, "SELECT count(*) AS n FROM results")["n"].iloc[0] == 0
    with pytest.raises(KeyError, match="partial"):
        load_run(store, rid)
    shown = runner.invoke(app, ["runs", "--store", str(store)])
    assert "partial" in shown.output and "complete" not in shown.output
    # Resume with the same command plus --resume: the finished chunks are kept, the rest run.
    before = {p.name: p.stat().st_mtime_ns for p in (run_dir / "parts").iterdir() if not p.name.startswith(".")}
    res = runner.invoke(app, ["trial", str(PROTOCOL), "--out", str(out), "--chunk-size", "1", "--no-complications",
                              "--resume", rid])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert list_runs(store)["status"].tolist() == ["complete"]
    stored = load_run(store, rid)
    assert stored.patients["patient_id"].is_unique and len(stored.patients) == 20
    assert not stored.results.duplicated(KEY).any()
    pd.testing.assert_frame_equal(_sorted(stored.results), _sorted(reference.results), check_exact=True)
    assert not (run_dir / "parts").exists()  # the parts duplicate the tables: removed once complete
    assert len(before) == done
    # A complete run cannot be resumed again.
    again = runner.invoke(app, ["trial", str(PROTOCOL), "--out", str(out), "--chunk-size", "1", "--resume", rid])
    assert again.exit_code == 2 and "already complete" in again.output


def test_a_part_is_written_whole_once(tmp_path):
    plan = {"n_patients": 1, "chunks": [{"name": "d0000-a00-c000000", "arm": "a", "patient_ids": [0]}]}
    rid = store_parts.begin_run(tmp_path, "x = 1", plan, seed=1, backend="numba", run_id="r1")
    df = pd.DataFrame({"patient_id": [0], "value": [1.0]})
    assert store_parts.write_part(tmp_path, rid, "d0000-a00-c000000", {"flow": df})
    assert not store_parts.write_part(tmp_path, rid, "d0000-a00-c000000", {"flow": df * 2})  # a task run twice
    pd.testing.assert_frame_equal(store_parts.read_parts(tmp_path, rid, "flow", ["d0000-a00-c000000"]), df)
    assert [p.name for p in (tmp_path / "runs" / rid / "parts").iterdir()] == ["d0000-a00-c000000"]
    with pytest.raises(ValueError, match="not finished"):
        store_parts.read_parts(tmp_path, rid, "flow", ["d0000-a00-c000001"])


def test_memory_estimate_and_size_parsing():
    assert parse_size("4GiB") == 4 * 2**30 and parse_size("512 MiB") == 512 * 2**20 and parse_size("8GB") == 8e9
    p = load_protocol(PROTOCOL)
    one, two = estimate_peak_bytes(p, 512, Backend()), estimate_peak_bytes(p, 512, Backend(workers=2))
    assert two["workers"] == 2 * one["workers"]
    assert estimate_peak_bytes(p, 5, Backend())["workers"] < one["workers"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-memory", "10MiB"], "--max-memory '10MiB' is outside the allowed range 64MiB to 1PiB"),
        (["--max-memory", "lots"], "--max-memory 'lots': give a size like 4GiB"),
        (["--max-memory", "64MiB", "--workers", "512"], "--max-memory 0.0625 GiB: this plan needs about"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers and --scheduler exclude each other"),
        (["--scheduler", "localhost"], "--scheduler 'localhost': give a Dask scheduler address like tcp://"),
        (["--resume", "nope"], "--resume nope: no run store"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_scale_flags_are_refused_by_name(tmp_path, flags, message):
    res = runner.invoke(app, ["trial", str(PROTOCOL), "--out", str(tmp_path / "o"), *flags])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()) and "Traceback" not in res.output
    assert not list(tmp_path.glob("o/runs/runs/*"))  # refused before anything was written
