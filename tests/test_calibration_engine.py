"""The stem-cell calibration cases run through the trial runner (issue 14): every case is a protocol file that
`t2dsim trial` runs to the same endpoint values the calibration computes; cell-therapy parameters reach the engine
through BuildContext.cell_params (chunking-invariant); the insulin-sparing conducts behave as their sources say; and
calibration/ keeps no simulator of its own (grep)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from t2dsim.calibration.cases import (
    RUNNABLE_CASES,
    case_dir,
    case_plan,
    case_protocol,
    endpoints_for,
    run_case,
    stats_of_run,
)
from t2dsim.calibration.fit import params_from_theta, prior_log

N_SMALL = 5  # patients per arm: the equality checks do not need a large cohort


@pytest.mark.parametrize("case", RUNNABLE_CASES)
def test_trial_command_gives_the_calibrations_endpoint_values(case, tmp_path):
    """Acceptance 2: the case's protocol file run by the `t2dsim trial` pipeline (run store, shipped parameters)
    gives exactly the endpoint values the calibration computes for the same parameters and seed (smaller arms)."""
    from t2dsim.pipeline import run_protocol_file
    from t2dsim.trial.protocol import load_protocol

    src = case_dir() / f"{case}.toml"
    text = re.sub(r"(?m)^n = \d+$", f"n = {N_SMALL}", src.read_text())
    assert text.count(f"n = {N_SMALL}") == len(case_protocol(case).arms)
    f = tmp_path / f"{case}.toml"
    f.write_text(text)
    (tmp_path / f"{case}.endpoints.toml").write_text((case_dir() / f"{case}.endpoints.toml").read_text())
    res = run_protocol_file(f, tmp_path / "out", complications=False)
    via_trial = stats_of_run(res.run, endpoints_for(f, load_protocol(f)))
    via_calibration = run_case(case, None, case_plan(case, 0, N_SMALL))
    assert set(via_trial) == set(via_calibration)
    for name in via_trial:
        a, b = via_trial[name].value(), via_calibration[name].value()
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12, nan_ok=True), (name, a, b)


def test_trial_command_prints_a_cases_endpoints(tmp_path):
    from typer.testing import CliRunner

    from t2dsim.cli import app

    text = re.sub(r"(?m)^n = 120$", "n = 4", (case_dir() / "wu2014.toml").read_text())
    (tmp_path / "wu2014.toml").write_text(text)
    (tmp_path / "wu2014.endpoints.toml").write_text((case_dir() / "wu2014.endpoints.toml").read_text())
    r = CliRunner().invoke(app, ["trial", str(tmp_path / "wu2014.toml"), "--out", str(tmp_path), "--no-complications"])
    assert r.exit_code == 0, r.output
    assert "validation endpoints of case wu2014" in r.output and "cpeptide_auc_pct_w52 = " in r.output


def test_cell_params_reach_the_engine_and_chunking_does_not_matter():
    """Parameter injection (BuildContext.cell_params): the same seed and parameters give bit-identical values
    whatever the chunk size; other BM-MNC parameters change the treated arm and not the sham arm's cell effect, and
    other placebo parameters change the sham arm (the runner's trial-participation effect takes them)."""
    from dataclasses import replace

    from t2dsim.trial.runner import plan_trial, run_trial

    p = case_protocol("bhansali2014_rct", n_per_arm=6)
    P = params_from_theta(prior_log()[0])
    plan = plan_trial(p, chunk_size=512)  # screening and randomisation do not depend on the parameters: one plan
    a = run_trial(p, plan=plan, cell_params=P).true_results
    b = run_trial(p, plan=plan_trial(p, chunk_size=4), cell_params=P).true_results
    key = ["arm", "patient_id", "visit_month", "measure"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True))

    def dose(t: pd.DataFrame, arm: str) -> np.ndarray:
        """Insulin dose at 12 months relative to baseline (the conduct holds HbA1c at its goal, so better
        glycaemia shows as less insulin)."""
        r = t[(t.arm == arm) & (t.measure == "insulin_dose_relative") & (t.visit_month > 0)]
        return r.sort_values("patient_id")["value"].to_numpy()

    strong = dict(P, bmmnc=replace(P["bmmnc"], emax_sec=3 * P["bmmnc"].emax_sec))
    c = run_trial(p, plan=plan, cell_params=strong).true_results
    assert dose(c, "bmmnc").mean() < dose(a, "bmmnc").mean() - 0.05
    np.testing.assert_array_equal(dose(c, "sham"), dose(a, "sham"))
    no_trial_effect = dict(P, placebo=replace(P["placebo"], si_max=1e-6))
    d = run_trial(p, plan=plan, cell_params=no_trial_effect).true_results
    assert dose(d, "sham").mean() > dose(a, "sham").mean() + 0.02


def test_insulin_sparing_conducts_follow_their_rules():
    """therapies/insulin_sparing.py: the dose is never above baseline; the per-patient baseline goal (Bhansali 2009)
    never cuts less than the 6.9 % goal and cuts more in patients above it; the fixed background keeps the dose."""
    from t2dsim.trial.runner import plan_trial, run_trial

    base = case_protocol("bhansali2009", n_per_arm=24)

    def rel(conduct: str) -> tuple[np.ndarray, np.ndarray]:
        data = base.model_dump(mode="python")
        data["arms"][0]["treatment"][0]["conduct"] = conduct
        p = type(base).model_validate(data)
        t = run_trial(p, plan=plan_trial(p)).true_results
        r = t[t.measure == "insulin_dose_relative"]
        r = r.pivot_table(index="patient_id", columns="visit_month", values="value")
        h0 = t[(t.measure == "hba1c_percent") & (t.visit_month == 0)].set_index("patient_id")["value"]
        return r.iloc[:, 1].to_numpy(), h0.reindex(r.index).to_numpy()

    own, h0 = rel("insulin_sparing_baseline_goal")
    goal, _ = rel("insulin_sparing_a1c_goal")
    fixed, _ = rel("fixed_background")
    assert np.all(own <= 1.0) and np.all(goal <= 1.0) and np.all(fixed == 1.0)
    assert np.all(own <= goal + 1e-9)
    above = h0 > 7.5
    assert above.sum() >= 5 and np.mean(own[above]) < np.mean(goal[above]) - 0.05


def test_calibration_keeps_no_simulator_of_its_own():
    """Acceptance 1: the calibration modules contain no time-stepping loop, titration rule or glucose→HbA1c rule and
    reach the simulator only through the trial runner (the old loop's modules trials.py and populations.py are
    gone)."""
    root = Path(__import__("t2dsim.calibration", fromlist=["x"]).__file__).parent
    assert not {f.name for f in root.glob("*.py")} & {"trials.py", "populations.py"}
    forbidden = [
        r"simulate_progression", r"simulate_arm", r"\badvance\(", r"\bmmtt\(", r"insulin_need\(", r"glucose_for_a1c",
        r"for \w*(day|month|visit)\w* in range\(", r"in range\([^)]*(day|month|horizon)",
        r"from t2dsim\.(engine|physiology|population|simulate|solvers)\b",
    ]  # fmt: skip
    for f in sorted(root.glob("*.py")):
        text = f.read_text()
        for pat in forbidden:
            assert not re.search(pat, text), (f.name, pat)
        sim = set(re.findall(r"from t2dsim\.trial\.(\w+) import", text))
        assert sim <= {"runner", "protocol"}, (f.name, sim)
