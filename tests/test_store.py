"""Run store: Parquet round trip, DuckDB catalogue, SQL across runs, protocol hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from t2dsim import __version__
from t2dsim.store import QueryRefused, compare_runs, list_runs, load_run, query, save_run
from t2dsim.trial.synthetic import synthetic_trial

PROTO = Path(__file__).parent / "data" / "good_protocol.toml"


def make(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_trial({"placebo": 20, "islets": 15}, {"islets": -1.0}, seed=seed, annual_dropout=0.2)


def test_round_trip_and_catalogue(tmp_path: Path) -> None:
    text = PROTO.read_text()
    res, pat = make(1)
    rid = save_run(
        tmp_path,
        res,
        pat,
        text,
        seed=1,
        backend="numba",
        timings={"simulate": 1.5, "report": 0.25},
        name="demo",
        meta={"chunk_size": 64},
    )
    run = load_run(tmp_path, rid)
    pd.testing.assert_frame_equal(run.results.drop(columns="run_id"), res.drop(columns="run_id"))
    assert (run.results["run_id"] == rid).all()
    pd.testing.assert_frame_equal(run.patients.drop(columns="run_id"), pat.drop(columns="run_id"))
    assert run.meta["protocol_sha256"] == hashlib.sha256(PROTO.read_bytes()).hexdigest()
    assert run.meta["protocol_text"] == text
    assert run.meta["seed"] == 1 and run.meta["backend"] == "numba"
    assert run.meta["package_version"] == __version__
    assert run.meta["timings"] == {"simulate": 1.5, "report": 0.25}
    assert run.meta["total_seconds"] == pytest.approx(1.75)
    assert run.meta["meta"] == {"chunk_size": 64}
    assert run.meta["n_patients"] == 35 and run.meta["arms"] == "placebo,islets"
    assert (tmp_path / "runs" / rid / "protocol.toml").read_text() == text


def test_list_query_compare(tmp_path: Path) -> None:
    assert list_runs(tmp_path).empty
    text = PROTO.read_text()
    ids = []
    for seed in (1, 2):
        res, pat = make(seed)
        ids.append(save_run(tmp_path, res, pat, text + f"\n# variant {seed}\n", seed=seed, backend="numba"))
    runs = list_runs(tmp_path)
    assert runs["run_id"].tolist() == ids
    assert runs["protocol_sha256"].nunique() == 2
    # SQL over all runs' results agrees with pandas on the same data
    sql = (
        "SELECT run_id, arm, avg(value) AS mean, count(*) AS n FROM results "
        "WHERE measure = 'hba1c_percent' AND visit_month = 12 GROUP BY run_id, arm ORDER BY run_id, arm"
    )
    got = query(tmp_path, sql)
    frames = []
    for rid, seed in zip(ids, (1, 2), strict=True):
        res, _ = make(seed)
        d = res[(res.measure == "hba1c_percent") & (res.visit_month == 12)]
        frames.append(d.groupby("arm")["value"].agg(["mean", "count"]).reset_index().assign(run_id=rid))
    exp = pd.concat(frames).sort_values(["run_id", "arm"]).reset_index(drop=True)
    np.testing.assert_allclose(got["mean"], exp["mean"], rtol=1e-12)
    assert got["n"].tolist() == exp["count"].tolist()
    # join with the catalogue and the patients view
    dropouts = query(
        tmp_path,
        "SELECT run_id, sum(CASE WHEN completed THEN 0 ELSE 1 END) AS d FROM patients GROUP BY run_id",
    )
    got_d = dict(zip(dropouts["run_id"], dropouts["d"], strict=True))
    assert got_d == {rid: int((~make(s)[1]["completed"]).sum()) for rid, s in zip(ids, (1, 2), strict=True)}
    cmp = compare_runs(tmp_path, ids, "hba1c_percent", 12)
    np.testing.assert_allclose(cmp["mean"], exp["mean"], rtol=1e-12)
    assert set(cmp["seed"]) == {1, 2}
    # read-only: a query cannot modify the catalogue (refused before it runs)
    with pytest.raises(QueryRefused, match="refused a DELETE statement"):
        query(tmp_path, "DELETE FROM runs")
    assert len(list_runs(tmp_path)) == 2


def test_bad_input(tmp_path: Path) -> None:
    res, pat = make(3)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['measure'\]"):
        save_run(tmp_path, res.drop(columns="measure"), pat, "x", seed=1, backend="numba")
    with pytest.raises(ValueError, match="dropout_month"):
        save_run(tmp_path, res, pat.drop(columns="dropout_month"), "x", seed=1, backend="numba")
    rid = save_run(tmp_path, res, pat, "x", seed=1, backend="numba", run_id="fixed")
    with pytest.raises(ValueError, match="already exists"):
        save_run(tmp_path, res, pat, "x", seed=1, backend="numba", run_id=rid)
    with pytest.raises(KeyError, match="no run 'nope'"):
        load_run(tmp_path, "nope")
    assert query(tmp_path, "SELECT count(*) AS n FROM runs")["n"].iloc[0] == 1


def test_failed_save_leaves_nothing_and_stray_folders_are_invisible(tmp_path, monkeypatch):
    """A failure while writing leaves no run folder; a stray folder not in the catalogue is not queried."""
    import shutil as _shutil

    import pyarrow.parquet as _pq

    from t2dsim import store as st

    res = pd.DataFrame({"arm": ["a"], "patient_id": [1], "visit_month": [0.0], "measure": ["m"], "value": [1.0]})
    pat = pd.DataFrame(
        {"arm": ["a"], "patient_id": [1], "randomised": [True], "completed": [True], "dropout_month": [float("nan")]}
    )
    rid = st.save_run(tmp_path, res, pat, "x = 1", seed=1, backend="numba", run_id="good")
    _shutil.copytree(tmp_path / "runs" / rid, tmp_path / "runs" / "stray")  # not in the catalogue
    calls = {"n": 0}
    real = _pq.write_table

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(st.pq, "write_table", failing)
    with pytest.raises(OSError):
        st.save_run(tmp_path, res, pat, "x = 1", seed=1, backend="numba", run_id="bad")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["good", "stray"]
    q = st.query(tmp_path, "SELECT run_id, count(*) AS n FROM results GROUP BY run_id")
    assert q["run_id"].tolist() == ["good"]
