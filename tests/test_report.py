"""HTML report: self-contained, all sections present, numbers taken from the statistics layer."""

from __future__ import annotations

import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest

from t2dsim.report import build_report_html, write_report
from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.statistics import ancova, endpoint_frame
from t2dsim.trial.synthetic import synthetic_trial

PROTO = Path(__file__).parent / "data" / "good_protocol.toml"
SECTIONS = [
    "disclaimer",
    "run",
    "flow",
    "baseline",
    "trajectories",
    "endpoints",
    "responders",
    "individuals",
    "mechanism",
    "risks",
    "complications",
    "protocol",
]


@pytest.fixture(scope="module")
def data():
    proto = load_protocol(PROTO)
    res, pat = synthetic_trial(
        {"placebo": 60, "uc_msc": 60, "islets": 60},
        {"uc_msc": -0.3, "islets": -1.0},
        seed=3,
        annual_dropout=0.1,
        insulin_reduction={"islets": 0.7},
        graft_mass_mg={"islets": 300},
    )
    return proto, res, pat


def test_self_contained(data, tmp_path: Path) -> None:
    proto, res, pat = data
    out = write_report(res, pat, proto, tmp_path / "sub" / "report.html")
    text = out.read_text()
    # no external resources: no src/href pointing to http(s) or protocol-relative URLs
    assert not re.search(r"<(script|link|img|iframe)[^>]*(src|href)\s*=\s*[\"']?(https?:)?//", text, flags=re.I)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.I)
    # plotly.js of the installed package is inline
    assert f"plotly.js v{plotly.offline.get_plotlyjs_version()}" in text
    assert text.count("Plotly.newPlot(") == text.count('class="plotly-graph-div"') >= 8


def test_sections_and_disclaimer(data) -> None:
    proto, res, pat = data
    text = build_report_html(res, pat, proto)
    for s in SECTIONS:
        assert f'<section id="{s}">' in text, s
    assert "not a treatment recommendation" in text.lower()
    assert proto.sha256 in text
    # risks come from the therapy spec classes
    assert "teratoma" in text and "thrombosis" in text
    # complication slot placeholder when not provided
    assert "were not computed for this run" in text


def test_endpoint_numbers_match_statistics(data) -> None:
    proto, res, pat = data
    text = build_report_html(res, pat, proto)
    eff = ancova(endpoint_frame(res, "hba1c_percent", 12), "placebo").effects.set_index("arm")
    for arm in ("uc_msc", "islets"):
        e = eff.loc[arm]
        assert f"<td>{e['estimate']:.4g}</td>" in text
        assert f"{e['ci_low']:.4g} to {e['ci_high']:.4g}" in text


def test_extra_sections_and_escaping(data) -> None:
    proto, res, pat = data
    fig = go.Figure(go.Bar(x=["MI", "stroke"], y=[0.1, 0.05]))
    base = build_report_html(res, pat, proto)
    text = build_report_html(
        res,
        pat,
        proto,
        extra_sections={"Complications (UKPDS OM2)": ["<p>ten-year risks</p>", fig], "Notes": "<p>x</p>"},
        notes=["<b>synthetic</b> data"],
        screening={"screened": 900, "eligible": 180},
    )
    assert "Complications (UKPDS OM2)" in text and "ten-year risks" in text
    assert "were not computed" not in text
    assert text.count('class="plotly-graph-div"') == base.count('class="plotly-graph-div"') + 1
    assert "&lt;b&gt;synthetic&lt;/b&gt; data" in text  # notes are escaped
    assert "screened: 900" in text


def test_missing_mechanism_measures_are_reported(data) -> None:
    proto, res, pat = data
    clinical_only = res[
        ~res["measure"].isin(
            [
                "beta_cell_mass_mg",
                "beta_cell_function",
                "insulin_sensitivity",
                "inflammation_index",
                "graft_beta_mass_mg",
            ]
        )
    ]
    text = build_report_html(clinical_only, pat, proto)
    assert "reported no latent-state measures" in text


def test_risk_objects_are_shown(data) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class R:  # same fields as t2dsim.therapies.base.Risk
        name: str
        description: str
        source: str
        rate: float | None = None
        rate_low: float | None = None
        rate_high: float | None = None
        period: str = ""
        severity: str = "moderate"

    proto, res, pat = data
    text = build_report_html(
        res,
        pat,
        proto,
        risks={
            "islet_graft": [R("Bleeding", "after implantation", "registry X", 0.02, 0.01, 0.04, "procedure", "serious")]
        },
    )
    assert "<b>Bleeding</b>: after implantation &mdash; 2% (95% CI 1 to 4%) per procedure [serious]" in text
    assert "registry X" in text


def _section(text: str, anchor: str) -> str:
    start = text.index(f'<section id="{anchor}">')
    return text[start : text.index("</section>", start)]


def test_hba1c_derivation_and_limits_next_to_hba1c(data) -> None:
    """Issue 15, acceptance 4: next to HbA1c the report says how the model derives it and its known limits, with
    the published size of GMI–HbA1c discordance in people (Bergenstal et al., Diabetes Care 41:2275, 2018: ≥ 0.5
    %-points in about 28 % of patients). It sits in the trajectory section that holds the HbA1c figure, and the
    endpoint table (HbA1c primary endpoint) links to it."""
    proto, res, pat = data
    text = build_report_html(res, pat, proto)
    traj = _section(text, "trajectories")
    assert "HbA1c (%)" in traj and "hba1c-derivation" in traj
    for needed in ("How HbA1c is derived", "ADAG", "Wei", "Known limits", "Bergenstal", "28 %", "GMI"):
        assert needed in traj, needed
    assert 'href="#trajectories"' in _section(text, "endpoints")
    assert text.count("How HbA1c is derived") == 1


def test_arm_list_states_the_usual_care_conduct(data) -> None:
    """Issue 15, acceptance 3: the report states which trial conduct each standard-care arm uses (the test
    protocol's standard_care takes the default, guideline_treat_to_target) with its source."""
    proto, res, pat = data
    run = _section(build_report_html(res, pat, proto), "run")
    assert run.count('class="conduct">guideline_treat_to_target<') == 3
    assert "titrated up and down" in run and run.count("Riddle et al. Diabetes Care 26:3080") == 1


def test_hba1c_derivation_follows_the_protocol_glycation_setting(data) -> None:
    """A protocol with ``glycation = "meal_days"`` gets the meal-day derivation (GMI relation) in the note."""
    proto, res, pat = data
    text = _section(build_report_html(res, pat, proto.model_copy(update={"glycation": "meal_days"})), "trajectories")
    assert "glycation = meal_days" in text and "meal-model day" in text and "Wei, Zheng" not in text
