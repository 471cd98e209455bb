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


def test_runs_bad_sql_is_a_clear_error(tmp_path):
    from t2dsim import store

    res = pd.DataFrame({"arm": ["a"], "patient_id": [1], "visit_month": [0.0], "measure": ["m"], "value": [1.0]})
    pat = pd.DataFrame(
        {"arm": ["a"], "patient_id": [1], "randomised": [True], "completed": [True], "dropout_month": [np.nan]}
    )
    store.save_run(tmp_path, res, pat, "x = 1", seed=1, backend="numba")
    out = runner.invoke(app, ["runs", "--store", str(tmp_path), "--sql", "SELEC 1"])
    assert out.exit_code == 2 and "syntax error" in out.output and "Traceback" not in out.output
    out = runner.invoke(app, ["runs", "--store", str(tmp_path), "--sql", "SELECT count(*) AS n FROM results"])
    assert out.exit_code == 0 and "1" in out.output
