"""Posterior draws of a trial (issue 16): the [posterior] draws field, common random numbers (draw 0 is the run
without draws; every draw has the same patients, dropout and noise; an arm no drawn parameter touches is the same
in every draw; a draw stacked with others equals its own separate run), the same draw numbers at any chunking, on
2 Dask workers and after a resume, and the analysis, CLI and report showing the sampling CI and the posterior PI
under distinct labels. Protocol: tests/data/draws_protocol.toml (16 patients, 6 months, 3 draws, no trial effect).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from t2dsim.cli import app
from t2dsim.store import parts as store_parts
from t2dsim.therapies.stemcells import params as cell_params
from t2dsim.trial.analysis import TrialAnalysis
from t2dsim.trial.backend import Backend, load_parts, plan_record, run_plan, session
from t2dsim.trial.protocol import ProtocolError, parse_protocol
from t2dsim.trial.runner import plan_trial, run_trial

PROTOCOL = Path(__file__).parent / "data" / "draws_protocol.toml"
TEXT = PROTOCOL.read_text()
KEY = ["draw", "arm", "patient_id", "visit_month", "measure"]


def _with_draws(k: int | None):
    head, _, _ = TEXT.partition("[posterior]")
    return parse_protocol(head if k is None else head + f"[posterior]\ndraws = {k}\n")


def _sorted(df: pd.DataFrame, key=KEY) -> pd.DataFrame:
    return df.sort_values(key).reset_index(drop=True)


@pytest.fixture(scope="module")
def runs():
    """The run with 3 draws (all draws in one task per chunk) and the same protocol without draws."""
    return run_trial(_with_draws(3), chunk_size=64), run_trial(_with_draws(None), chunk_size=64)


@pytest.mark.parametrize("value", ["-1", "TOO_MANY", "2.5", "true"])
def test_draws_field_is_validated_by_name_and_range(value):
    n = cell_params.ensemble_size()
    assert n >= 3  # the tests below need three members
    text = TEXT.replace("draws = 3", f"draws = {n + 1 if value == 'TOO_MANY' else value}")
    with pytest.raises(ProtocolError) as err:
        parse_protocol(text)
    assert "posterior.draws" in str(err.value)
    if value in ("-1", "TOO_MANY"):
        assert f"allowed range 0 to {n}" in str(err.value)
    assert _with_draws(None).posterior.draws == 0 and _with_draws(0).posterior.draws == 0


def test_groups_without_draws_are_named_and_a_partial_group_is_refused(monkeypatch):
    raw = json.loads(
        Path(cell_params.__file__).with_name("calibrated").joinpath("stemcells.json").read_text(encoding="utf-8")
    )
    sets, varied = cell_params.posterior_draws(3)
    for g in cell_params.GROUPS:  # a group is "varied" exactly when the shipped members carry it
        assert (g in varied) == all(g in m for m in raw["ensemble"][:3])
    assert "islet" in varied  # the shipped members carry islet draws from the islet fit's own posterior
    # a group the members do not carry is held at its central values in every draw (and named as such)
    without = {**raw, "ensemble": [{k: v for k, v in m.items() if k != "islet"} for m in raw["ensemble"]]}
    monkeypatch.setattr(cell_params, "_results", lambda: without)
    sets, varied = cell_params.posterior_draws(3)
    assert "islet" not in varied and all(s["islet"] == cell_params.calibrated()["islet"] for s in sets)
    members = without["ensemble"]
    broken = {**raw, "ensemble": [members[0], {**members[1], "islet": {"attrition_per_year": 0.2}}]}
    monkeypatch.setattr(cell_params, "_results", lambda: broken)
    with pytest.raises(ValueError, match="group 'islet' is in 1 of the first 2 members"):
        cell_params.posterior_draws(2)


def test_draws_use_common_random_numbers(runs):
    drawn, plain = runs
    # draw 0 (the central run) is the run without draws, row for row
    pd.testing.assert_frame_equal(drawn.results, plain.results, check_exact=True)
    pd.testing.assert_frame_equal(drawn.patients, plain.patients, check_exact=True)
    d = drawn.draw_results
    assert sorted(d["draw"].unique()) == [1, 2, 3]
    # every draw observes the same patients at the same visits (same dropout) ...
    rows = [set(map(tuple, g[KEY[1:]].to_numpy().tolist())) for _, g in d.groupby("draw")]
    assert rows[0] == rows[1] == rows[2] and len(rows[0]) > 0
    wide = d.pivot_table(index=KEY[1:], columns="draw", values="value")
    std, msc = wide.xs("standard", level="arm"), wide.xs("msc", level="arm")
    # ... the arm that reads no stem-cell parameter is identical in every draw (same noise, same course) ...
    assert (std[1] == std[2]).all() and (std[1] == std[3]).all()
    # ... and the MSC arm's HbA1c at month 6 differs between draws (only the cell parameters differ)
    h = msc.xs(("hba1c_percent", 6.0), level=("measure", "visit_month"))
    assert (h[1] != h[2]).all() and (h[2] != h[3]).all()
    # a draw run stacked with the others equals a separate run of its parameter set (values to the bit)
    sets, _ = cell_params.posterior_draws(3)
    for k in (3,):
        alone = run_trial(_with_draws(None), chunk_size=64, cell_params=sets[k - 1]).results
        mine = d.loc[d["draw"] == k].drop(columns="draw")
        both = mine.merge(alone, on=KEY[1:], suffixes=("", "_alone"), how="left")
        assert both["value_alone"].notna().all()
        np.testing.assert_array_equal(both["value"].to_numpy(), both["value_alone"].to_numpy())


def test_same_draw_numbers_at_any_chunking_on_two_workers_and_after_resume(runs, tmp_path):
    reference = _sorted(runs[0].draw_results)
    protocol = _with_draws(3)
    with session(Backend(workers=2)) as client:  # chunks of 5 patients, draws 2 + 1 per task, on 2 workers
        plan = plan_trial(protocol, chunk_size=5, draws_per_chunk=2)
        assert {c.key.n_draws for c in plan.chunks if c.key.draw} == {1, 2}
        rid = store_parts.begin_run(tmp_path, TEXT, plan_record(plan, "x"), seed=plan.seed, backend="numba")
        run_plan(plan, Backend(workers=2), tmp_path, rid, client=client)
    pd.testing.assert_frame_equal(_sorted(load_parts(plan, tmp_path, rid).draw_results), reference, check_exact=True)
    # resume: remove a central and a draw part (as if killed before they finished); only those run again
    parts = tmp_path / "runs" / rid / "parts"
    lost = [plan.chunks[0].key.name, plan.chunks[-1].key.name]
    assert plan.chunks[-1].key.draw > 0
    for name in lost:
        shutil.rmtree(parts / name)
    kept = {p.name: p.stat().st_mtime_ns for p in parts.iterdir()}
    run_plan(plan, Backend(), tmp_path, rid)
    assert {p.name: p.stat().st_mtime_ns for p in parts.iterdir() if p.name in kept} == kept
    again = load_parts(plan, tmp_path, rid)
    pd.testing.assert_frame_equal(_sorted(again.draw_results), reference, check_exact=True)
    pd.testing.assert_frame_equal(_sorted(again.results, KEY[1:]), _sorted(runs[0].results, KEY[1:]), check_exact=True)


def test_analysis_cli_and_report_show_ci_and_pi_apart(tmp_path):
    out = CliRunner().invoke(app, ["trial", str(PROTOCOL), "--out", str(tmp_path), "--no-complications"])
    assert out.exit_code == 0, out.output
    ci, pi = "95% CI (sampling, these patients)", "95% PI (parameter uncertainty, 3 posterior draws)"
    text = " ".join(out.output.split())
    assert ci in text and pi in text
    (run_dir,) = (tmp_path / "runs" / "runs").iterdir()
    a = TrialAnalysis.load(run_dir / "analysis")
    assert a.interval_labels() == (ci, pi) and "islet" in a.settings["posterior"]["varied_groups"]
    assert a.settings["posterior"]["fixed_groups"] == []
    e = a.endpoints.set_index("endpoint")
    assert len(a.draws) == 3 * len(e) and sorted(a.draws["draw"].unique()) == [1, 2, 3]
    for label, row in e.iterrows():  # the PI is the 2.5-97.5 % quantiles of the three draws' estimates
        x = np.sort(a.draws.loc[a.draws["endpoint"] == label, "estimate"].to_numpy())
        assert row["pi_low"] == pytest.approx(x[0] + 0.05 * (x[1] - x[0]), rel=1e-12)  # position 0.025 · (3 − 1)
        assert row["pi_high"] == pytest.approx(x[1] + 0.95 * (x[2] - x[1]), rel=1e-12)
    hba1c = e.loc[e["measure"] == "hba1c_percent"].iloc[0]
    assert hba1c["pi_high"] - hba1c["pi_low"] > 1e-3  # the MSC effect depends on the drawn parameters
    # the standard arm's own change reads no drawn parameter: its PI collapses to the central run's value
    std = a.draws.loc[a.draws["endpoint"] == hba1c.name, "ref_mean_change"]
    central = pd.read_parquet(run_dir / "results.parquet")
    c = central.loc[(central["arm"] == "standard") & (central["measure"] == "hba1c_percent")]
    change = c.pivot_table(index="patient_id", columns="visit_month", values="value").dropna()
    assert std.min() == std.max() == pytest.approx((change[6.0] - change[0.0]).mean(), abs=1e-12)
    html = next(tmp_path.glob("*.html")).read_text(encoding="utf-8")
    assert ci in html and pi in html


def test_every_ensemble_member_carries_its_own_islet_draw():
    # issue 16 "posterior uncertainty in every result": the β-cell graft parameters come from their own fit's Laplace
    # posterior (calibration.workflow), so an SC-islet arm's PI is not the other groups' alone; member 0 is the MAP
    from t2dsim.therapies.stemcells.params import calibrated, calibrated_ensemble

    members = calibrated_ensemble()
    central = calibrated()["islet"]
    assert members[0]["islet"] == central
    fractions = {m["islet"].sc_beta_fraction for m in members}
    maturation = {m["islet"].maturation_days["sc_islet"] for m in members}
    assert len(fractions) > len(members) // 2 and len(maturation) > len(members) // 2
    assert all(0 < f <= 1 for f in fractions)  # a fraction, capped at 1 as in the fit's box
