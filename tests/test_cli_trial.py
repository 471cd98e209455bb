"""`t2dsim trial`, `validate` and `runs` wired end to end on small inputs."""

from pathlib import Path

from typer.testing import CliRunner

from t2dsim.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).parents[1] / "examples" / "stem-cells-vs-standard-care.toml"


# The small default-protocol run through `t2dsim trial` and `runs` is checked in
# tests/test_report_browser.py::test_default_report_as_a_user_sees_it (one trial run for both).


def test_trial_cli_bad_protocol_is_clear(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("duration_months = 12", "duration_months = -1"))
    res = runner.invoke(app, ["trial", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "duration_months" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_validate_cli_refuses_unknown_output_suffix_before_running(tmp_path):
    out = tmp_path / "v.txt"
    res = runner.invoke(app, ["validate", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "--out must end in .md, .csv or .parquet" in res.output
    assert "Bhansali" not in res.output  # refused before the (15 s) validation ran
    assert not out.exists()
    res = runner.invoke(app, ["validate", "--out", str(tmp_path / "no-such-folder" / "v.md")])
    assert res.exit_code == 2 and "does not exist or is not a folder" in res.output, res.output
    assert "Bhansali" not in res.output


def test_validate_cli_refuses_results_from_other_replication_settings(tmp_path):
    """A results file fitted under other trial-replication settings is refused with a user error (exit 2, no
    traceback) naming the remedy, before any table is printed."""
    import json

    from t2dsim.calibration import default_results_path

    res = json.loads(default_results_path().read_text())
    res["replication"] = dict(res["replication"], n_virtual=40)
    f = tmp_path / "stale.json"
    f.write_text(json.dumps(res))
    out = runner.invoke(app, ["validate", "--results", str(f)])
    assert out.exit_code == 2, out.output
    assert "rerun `t2dsim calibrate`" in out.output and "Traceback" not in out.output
    assert "Bhansali" not in out.output


def test_validate_cli_writes_table(tmp_path):
    import json

    from t2dsim.calibration import RESULTS_VERSION, default_results_path

    shipped = json.loads(default_results_path().read_text()).get("version")
    if shipped != RESULTS_VERSION:
        import pytest

        pytest.xfail(f"shipped stemcells.json is results version {shipped}, validate needs {RESULTS_VERSION}: refit")
    out = tmp_path / "v.md"
    # 3 posterior draws: the table's shape and content, not its interval ends, are checked here (the full
    # validation runs once in tests/test_calibration.py)
    res = runner.invoke(app, ["validate", "--out", str(out), "--draws", "3"])
    assert res.exit_code == 0, res.output
    table = out.read_text()
    for case in ("Bhansali 2014", "Skyler 2015", "zimislecel / VX-880", "islet transplantation"):
        assert case in table
    bad = runner.invoke(app, ["validate", "--draws", "1"])
    assert bad.exit_code != 0 and "--draws" in bad.output
