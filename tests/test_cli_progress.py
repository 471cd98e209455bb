"""`t2dsim progress`: natural-history table with the columns issue 3 asks for; clear errors."""

import pandas as pd
from typer.testing import CliRunner

from t2dsim.cli import app

runner = CliRunner()
COLUMNS = [
    "patient_id",
    "month",
    "hba1c_pct",
    "fpg_mgdl",
    "fasting_insulin_pmol_l",
    "homa_b_pct",
    "homa_ir",
    "beta_cell_mass",
    "insulin_sensitivity",
    "inflammation",
]


def test_progress_writes_monthly_rows(tmp_path):
    out = tmp_path / "nh.csv"
    res = runner.invoke(
        app, ["progress", "--preset", "newly-diagnosed", "--n", "5", "--years", "1", "--seed", "3", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert all(c in df.columns for c in COLUMNS)
    assert sorted(df["month"].unique()) == list(range(13))  # baseline + 12 monthly rows
    assert df["patient_id"].nunique() == 5


def test_progress_bad_preset_and_extension(tmp_path):
    res = runner.invoke(app, ["progress", "--preset", "nope", "--out", str(tmp_path / "a.csv")])
    assert res.exit_code == 2 and "allowed: newly-diagnosed, insulin-requiring" in res.output
    res = runner.invoke(app, ["progress", "--preset", "newly-diagnosed", "--out", str(tmp_path / "a.json")])
    assert res.exit_code == 2 and ".csv or .parquet" in res.output
    res = runner.invoke(
        app, ["progress", "--preset", "newly-diagnosed", "--years", "100", "--out", str(tmp_path / "a.csv")]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []
