"""The analysis of a chunked run built from its Parquet parts one measure at a time (issue 18: the client
never holds the whole long tables) gives exactly the numbers of the analysis of the assembled tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from t2dsim.store import parts as store_parts
from t2dsim.trial.analysis import analyse_run
from t2dsim.trial.backend import Backend, analyse_parts, load_parts, plan_record, run_plan
from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import plan_trial
from t2dsim.trial.statistics import trajectory_summary

# The suite's small chunked-run protocol (20 patients, dropout 30 %/year) plus secondary endpoints on two
# other measures, two responder rules and LOCF, so every statistic reads more than one measure's rows.
EXTRA = """
[[endpoints.secondary]]
measure = "fpg_mgdl"
visit_month = 6
[[endpoints.secondary]]
measure = "homa_ir"
visit_month = 3
[analysis]
missing = "locf"
[[responders]]
name = "HbA1c < 7%"
measure = "hba1c_percent"
visit_month = 6
rule = "value_below"
threshold = 7.0
[[responders]]
name = "FPG down 10%"
measure = "fpg_mgdl"
visit_month = 6
rule = "percent_reduction_at_least"
threshold = 10.0
"""


@pytest.mark.parametrize("chunk_size", [3])
def test_analysis_from_parts_equals_the_in_memory_analysis(tmp_path: Path, chunk_size: int):
    text = (Path(__file__).parent / "data" / "scale_protocol.toml").read_text() + EXTRA
    protocol = parse_protocol(text)
    plan = plan_trial(protocol, chunk_size=chunk_size)
    rid = store_parts.begin_run(tmp_path, text, plan_record(plan, "x"), seed=plan.seed, backend="numba")
    run_plan(plan, Backend(), tmp_path, rid)
    run = load_parts(plan, tmp_path, rid)
    assert run.results["value"].isna().sum() + (run.patients["completed"] == False).sum() > 0  # noqa: E712
    labels = {"hba1c_percent": "HbA1c (%)"}
    whole = analyse_run(run.results, run.patients, protocol, labels=labels)
    streamed, patients = analyse_parts(plan, tmp_path, rid, labels=labels)
    pd.testing.assert_frame_equal(patients, run.patients, check_exact=True)
    for name in ("endpoints", "responders", "trajectories", "flow", "baseline", "baseline_targets"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(whole, name), check_exact=True, obj=name)
    # one measure at a time sums each group's values in the same order as one call over the whole table
    pd.testing.assert_frame_equal(whole.trajectories, trajectory_summary(run.results), check_exact=True)
    assert streamed.settings == whole.settings and streamed.problems == whole.problems == {}
    assert len(whole.endpoints) == 3 and len(whole.responders) == 4
    assert set(whole.trajectories["measure"]) >= {"hba1c_percent", "fpg_mgdl", "homa_ir"}


def test_analysis_from_parts_carries_the_posterior_draws(tmp_path: Path):
    """A run with posterior draws: the streamed analysis reads the draws' parts apart from the central parts and
    gives the same endpoints (with their PIs) and per-draw estimates as the analysis of the assembled run."""
    text = (Path(__file__).parent / "data" / "draws_protocol.toml").read_text()
    protocol = parse_protocol(text)
    plan = plan_trial(protocol, chunk_size=5)
    rid = store_parts.begin_run(tmp_path, text, plan_record(plan, "x"), seed=plan.seed, backend="numba")
    run_plan(plan, Backend(), tmp_path, rid)
    run = load_parts(plan, tmp_path, rid)
    assert sorted(run.draw_results["draw"].unique()) == [1, 2, 3]
    whole = analyse_run(run.results, run.patients, protocol, draw_results=run.draw_results)
    streamed, _ = analyse_parts(plan, tmp_path, rid)
    assert {"pi_low", "pi_high"} <= set(whole.endpoints.columns)
    for name in ("endpoints", "draws", "trajectories", "flow"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(whole, name), check_exact=True, obj=name)
    assert streamed.settings == whole.settings


def test_pipeline_stores_the_assembled_tables_without_holding_them(tmp_path: Path):
    """The pipeline analyses, stores and reports from the parts (issue 18): its stored results table is the
    assembled run's, row for row, and its analysis the analysis of the assembled tables."""
    from t2dsim.pipeline import run_protocol_file

    src = Path(__file__).parent / "data" / "scale_protocol.toml"
    f = tmp_path / "p.toml"
    f.write_text(src.read_text() + EXTRA)
    out = run_protocol_file(f, tmp_path / "out", chunk_size=3, complications=False, keep_run=True)
    stored = pd.read_parquet(out.results_path)
    expected = out.run.results.copy()
    expected.insert(0, "run_id", out.run_id)
    pd.testing.assert_frame_equal(stored, expected, check_exact=True)
    pd.testing.assert_frame_equal(out.patients, out.run.patients, check_exact=True)
    whole = analyse_run(out.run.results, out.run.patients, parse_protocol(f.read_text()))
    pd.testing.assert_frame_equal(out.analysis.endpoints, whole.endpoints, check_exact=True)
    html = out.report_path.read_text()
    assert "random sample of up to" in html and "FPG" in html
