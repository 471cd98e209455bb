"""`t2dsim day`: replays a logged day; bad files and columns get a clear error, no traceback, no output."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from t2dsim.cli import app
from t2dsim.simulate import THREE_MEALS, meal_inputs

runner = CliRunner()


@pytest.fixture
def inputs_csv(tmp_path):
    cho = meal_inputs(600, [(60, 50.0)])
    path = tmp_path / "in.csv"
    pd.DataFrame({"minute": np.arange(600), "cho_g_per_min": cho, "insulin_u_per_min": 0.0}).to_csv(path, index=False)
    return path


def test_day_t2d_mean_writes_expected_columns(tmp_path, inputs_csv):
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["day", "--patient", "t2d-mean", "--inputs", str(inputs_csv), "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    for col in ("minute", "plasma_glucose_mgdl", "cgm_glucose_mgdl", "plasma_insulin_pmol_l", "cpeptide_pmol_l"):
        assert col in df.columns
    assert len(df) == 601
    assert df["plasma_glucose_mgdl"].max() > df["plasma_glucose_mgdl"].iloc[0] + 30  # the meal shows


def test_day_uvapadova_patient(tmp_path, simglucose_params_file):
    cho = meal_inputs(1440, list(THREE_MEALS))
    src = tmp_path / "in.csv"
    pd.DataFrame({"minute": np.arange(1440), "cho_g_per_min": cho, "insulin_u_per_min": 0.02}).to_csv(src, index=False)
    out = tmp_path / "o.csv"
    res = runner.invoke(
        app,
        [
            "day",
            "--params",
            str(simglucose_params_file),
            "--patient",
            "adult#001",
            "--inputs",
            str(src),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out)["plasma_insulin_pmol_l"].notna().all()


BAD_INPUTS = {
    "missing_column": ("minute,cho_g_per_min\n0,0\n1,0\n", "lacks column(s) insulin_u_per_min"),
    "not_number": ("minute,cho_g_per_min,insulin_u_per_min\n0,abc,0\n", "'cho_g_per_min', row 2"),
    "gap": ("minute,cho_g_per_min,insulin_u_per_min\n0,0,0\n2,0,0\n", "'minute' must be 0, 1, 2"),
    "negative": ("minute,cho_g_per_min,insulin_u_per_min\n0,0,0\n1,0,-1\n", "outside 0–50"),
    "empty": ("", "cannot read inputs file"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_give_clear_error_and_no_output(tmp_path, case):
    text, message = BAD_INPUTS[case]
    src = tmp_path / "in.csv"
    src.write_text(text)
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["day", "--patient", "t2d-mean", "--inputs", str(src), "--out", str(out)])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # nothing half-written


def test_unknown_patient_and_bad_params_file(tmp_path, inputs_csv, simglucose_params_file):
    out = tmp_path / "o.csv"
    res = runner.invoke(
        app,
        [
            "day",
            "--params",
            str(simglucose_params_file),
            "--patient",
            "adult#999",
            "--inputs",
            str(inputs_csv),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 2 and "adult#999" in res.output and "Name column" in res.output
    bad = tmp_path / "p.csv"
    bad.write_text("Name,BW\nx,70\n")
    res = runner.invoke(
        app, ["day", "--params", str(bad), "--patient", "x", "--inputs", str(inputs_csv), "--out", str(out)]
    )
    assert res.exit_code == 2 and "lacks column(s)" in res.output
    res = runner.invoke(app, ["day", "--patient", "adult#001", "--inputs", str(inputs_csv), "--out", str(out)])
    assert res.exit_code == 2 and "needs --params" in res.output
    assert not out.exists()


def _one_run_store(tmp_path):
    from t2dsim import store

    res = pd.DataFrame({"arm": ["a"], "patient_id": [1], "visit_month": [0.0], "measure": ["m"], "value": [1.0]})
    pat = pd.DataFrame(
        {"arm": ["a"], "patient_id": [1], "randomised": [True], "completed": [True], "dropout_month": [np.nan]}
    )
    store.save_run(tmp_path, res, pat, "x = 1", seed=1, backend="numba")
    return tmp_path


def test_runs_bad_sql_is_a_clear_error(tmp_path):
    _one_run_store(tmp_path)
    out = runner.invoke(app, ["runs", "--store", str(tmp_path), "--sql", "SELEC 1"])
    assert out.exit_code == 2 and "syntax error" in out.output and "Traceback" not in out.output
    out = runner.invoke(app, ["runs", "--store", str(tmp_path), "--sql", "SELECT count(*) AS n FROM results"])
    assert out.exit_code == 0 and "1" in out.output


# Issue 17, acceptance 1: user SQL cannot reach files (inside or outside the store), attach databases or
# touch extensions. `{out}` is a file outside the store, `{store}` the store folder.
SANDBOX_ESCAPES = {
    "copy_to_outside": "COPY (SELECT 1 AS x) TO '{out}'",
    "copy_to_inside_store": "COPY (SELECT * FROM results) TO '{store}/evil.csv'",
    "select_then_copy": "SELECT 1; COPY (SELECT 1) TO '{out}'",
    "read_csv_outside": "SELECT * FROM read_csv('{secret}')",
    "read_parquet_outside": "SELECT * FROM read_parquet('{outside_parquet}')",
    "read_text_outside": "SELECT content FROM read_text('{secret}')",
    "glob": "SELECT * FROM glob('{store}/../*')",
    "attach": "ATTACH '{out_db}' AS x",
    "attach_catalogue": "ATTACH '{store}/catalogue.duckdb' AS c2",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "unlock": "SET enable_external_access = true",
    "export": "EXPORT DATABASE '{outdir}'",
}


@pytest.mark.parametrize("name", sorted(SANDBOX_ESCAPES))
def test_runs_sql_is_sandboxed(tmp_path, name):
    store_dir = _one_run_store(tmp_path / "store")
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    outside = tmp_path / "outside.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(outside)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    sql = SANDBOX_ESCAPES[name].format(
        out=tmp_path / "x.csv",
        store=store_dir,
        secret=secret,
        outside_parquet=outside,
        out_db=tmp_path / "x.duckdb",
        outdir=tmp_path / "export",
    )
    out = runner.invoke(app, ["runs", "--store", str(store_dir), "--sql", sql])
    assert out.exit_code == 2, out.output
    assert "error:" in out.output and "Traceback" not in out.output
    assert "--sql" in out.output  # the message says what the command accepts
    assert "1,2" not in out.output and "content" not in out.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written
