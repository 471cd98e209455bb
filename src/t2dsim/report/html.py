"""Self-contained HTML report of a virtual trial.

One HTML file, no network: plotly.js is embedded inline from the installed ``plotly`` package
(``plotly.offline.get_plotlyjs()``) and every figure is a ``<div>`` with an inline script. Sections:
disclaimer, run information, patient flow, baseline table per arm, mean trajectories with 95% CIs,
endpoint table (ANCOVA effects, CIs, p-values) with a forest plot, responder shares, a sample of
individual trajectories, the mechanism view (latent model states), risks per therapy, a slot for
complications (filled by the caller through ``extra_sections``), and the protocol text.

The statistics come from the run's :class:`~t2dsim.trial.analysis.TrialAnalysis` (computed from the results
contract if not given); :mod:`.sections` renders it, :mod:`.page` holds the building blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd
import plotly.offline

from t2dsim import DISCLAIMER, __version__
from t2dsim.report.evidence import msc_evidence_section
from t2dsim.report.page import SectionContent, _arm_colours, _esc, _Page, _readable, _table, figure_div, measure_label
from t2dsim.report.sections import (
    _baseline_section,
    _endpoint_section,
    _flow_section,
    _individual_section,
    _mechanism_section,
    _responder_section,
    _risks_section,
    _trajectory_section,
)
from t2dsim.trial.analysis import TrialAnalysis, analyse_run
from t2dsim.trial.measurement import MEASURES

__all__ = ["SectionContent", "build_report_html", "figure_div", "write_report"]


def _conduct(spec: Any) -> tuple[str, str, str] | None:
    """(name, rule, source) of the named trial conduct of a treatment spec that carries one (``standard_care``)."""
    summary = getattr(spec, "conduct_summary", None)
    return summary() if getattr(spec, "conduct", None) is not None and callable(summary) else None


def _treatment_label(spec: Any) -> str:
    """A treatment's kind, with the named trial conduct for specs that carry one."""
    c = _conduct(spec)
    if c is None:
        return _esc(spec.kind)
    return f'{_esc(spec.kind)} (conduct <b class="conduct">{_esc(c[0])}</b>: {_esc(c[1])})'


def _conduct_sources(protocol: Any) -> str:
    """One note per distinct trial conduct used by the protocol's arms, with its source."""
    seen = {c[0]: c for a in protocol.arms for t in a.treatment if (c := _conduct(t)) is not None}
    return "".join(f'<p class="note">Conduct <b>{_esc(n)}</b>: {_esc(c[2])}.</p>' for n, c in seen.items())


# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------


def build_report_html(
    results: pd.DataFrame,
    patients: pd.DataFrame,
    protocol: Any,
    *,
    extra_sections: Mapping[str, SectionContent] | None = None,
    risks: Mapping[str, Sequence[Any]] | None = None,
    screening: Mapping[str, Any] | None = None,
    run_meta: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    individual_per_arm: int = 10,
    sample_seed: int = 0,
    title: str | None = None,
    analysis: TrialAnalysis | None = None,
) -> str:
    """Build the report HTML text. See :func:`write_report` for the arguments."""
    if analysis is None:
        analysis = analyse_run(results, patients, protocol, labels={m: measure_label(m) for m in MEASURES})
    arms = list(analysis.settings["arms"])
    colours = _arm_colours(arms)
    page = _Page()

    disc = (
        f"<b>Research tool, not a treatment recommendation.</b> {_esc(DISCLAIMER)} Results are predictions of a "
        "simplified model of a virtual population under stated assumptions; experimental therapies in it are "
        "unproven in people. Do not use them to make decisions about any person's care."
    )
    disc += "".join(f"<br>{_esc(n)}" for n in notes)
    page.add("disclaimer", "Disclaimer", f'<div class="disclaimer">{disc}</div>')

    info = {
        "protocol": protocol.name,
        "protocol SHA-256": protocol.sha256,
        "duration (months)": f"{protocol.duration_months:g}",
        "visits (months)": ", ".join(f"{v:g}" for v in protocol.visit_months),
        "randomisation seed": protocol.randomisation.seed,
        "stratified by": ", ".join(protocol.randomisation.stratify_by) or "none",
        "t2dsim version": __version__,
    }
    for k, v in (run_meta or {}).items():
        info[str(k)] = (
            _readable(v) if not isinstance(v, Mapping) else ", ".join(f"{a}={_readable(b)}" for a, b in v.items())
        )
    arms_html = "".join(
        f"<li><b>{_esc(a.name)}</b> (n={a.n}): "
        + (", ".join(_treatment_label(t) for t in a.treatment) or "no treatment")
        + (f" &mdash; {_esc(a.description)}" if a.description else "")
        + "</li>"
        for a in protocol.arms
    )
    page.add(
        "run",
        "Trial and run",
        _table(pd.DataFrame({"item": list(info), "value": [str(v) for v in info.values()]}))
        + f"<ul>{arms_html}</ul>"
        + _conduct_sources(protocol),
    )

    _flow_section(page, analysis, screening)
    _baseline_section(page, analysis)
    clinical = [m for m in protocol.measurements if MEASURES[m].kind == "clinical"]
    # measures present beyond the protocol's (from the analysis: ``results`` may hold only the sampled measure)
    present = pd.unique(analysis.trajectories["measure"]) if len(analysis.trajectories) else []
    clinical += [m for m in present if m in MEASURES and MEASURES[m].kind == "clinical" and m not in clinical]
    _trajectory_section(page, analysis, arms, colours, clinical, getattr(protocol, "glycation", "fasting_line"))
    _endpoint_section(page, analysis)
    msc_evidence_section(page, analysis, protocol)
    _responder_section(page, analysis, arms, colours)
    _individual_section(
        page, results, arms, colours, protocol.endpoints.primary.measure, individual_per_arm, sample_seed
    )
    _mechanism_section(page, analysis, arms, colours)
    _risks_section(page, protocol, risks)

    extra = dict(extra_sections or {})
    comp_key = next((k for k in extra if k.lower().startswith("complication")), None)
    if comp_key is None:
        page.add(
            "complications",
            "Complications",
            '<p class="note">Long-term complications (UKPDS Outcomes Model 2) were not computed for this run.</p>',
        )
    else:
        page.add("complications", comp_key, page.content(extra.pop(comp_key)))
    for i, (k, v) in enumerate(extra.items()):
        page.add(f"extra{i}", k, page.content(v))
    src = protocol.source_text or protocol.model_dump_json(indent=2)
    page.add(
        "protocol",
        "Protocol",
        f"<details><summary>protocol text ({len(src.splitlines())} lines)</summary><pre>{_esc(src)}</pre></details>",
    )

    nav = "".join(f'<a href="#{a}">{_esc(t)}</a>' for a, t, _ in page.sections)
    body = "\n".join(f'<section id="{a}"><h2>{_esc(t)}</h2>\n{h}\n</section>' for a, t, h in page.sections)
    template = Template(resources.files("t2dsim.report").joinpath("templates/report.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=_esc(title or f"t2dsim virtual trial: {protocol.name}"),
        subtitle=_esc(protocol.description or "in-silico randomised trial")
        + " &middot; research simulation, not medical advice",
        version=_esc(__version__),
        plotly_js=plotly.offline.get_plotlyjs(),
        nav=nav,
        body=body,
    )


def write_report(
    results: pd.DataFrame,
    patients: pd.DataFrame,
    protocol: Any,
    out_path: str | Path,
    *,
    extra_sections: Mapping[str, SectionContent] | None = None,
    risks: Mapping[str, Sequence[Any]] | None = None,
    screening: Mapping[str, Any] | None = None,
    run_meta: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    individual_per_arm: int = 10,
    sample_seed: int = 0,
    title: str | None = None,
    analysis: TrialAnalysis | None = None,
) -> Path:
    """Write the self-contained HTML report.

    Args:
        results: long table ``arm, patient_id, visit_month, measure, value`` (``run_id`` optional); with
            ``analysis`` given, only the primary measure's rows are read (the sample of individual courses).
        patients: per-patient table ``arm, patient_id, randomised, completed, dropout_month`` plus
            baseline covariates (all other columns are shown in the baseline table).
        protocol: the :class:`~t2dsim.trial.protocol.Protocol` that was run.
        out_path: file to write (parent directories are created).
        extra_sections: title -> HTML string, Plotly figure or list of them; a title starting with
            "Complications" fills the complications slot, others are appended.
        risks: therapy kind -> list of risks (text, or objects such as ``therapies.base.Risk`` with
            ``name, description, rate, rate_low, rate_high, period, severity, source``), overriding the
            spec classes' ``risks``.
        screening: optional screening counts shown in the patient flow (e.g. {"screened": 1450,
            "eligible": 600}).
        run_meta: items shown in the run table (run id, backend, timings dict, ...).
        notes: extra lines added to the disclaimer box (e.g. "synthetic data").
        individual_per_arm: patients per arm in the individual-trajectory sample.
        sample_seed: seed of that sample.
        title: page title.
        analysis: the run's :class:`~t2dsim.trial.analysis.TrialAnalysis` (computed here if not given); the
            report renders it and computes no statistics itself.

    Returns:
        the path written.
    """
    text = build_report_html(
        results,
        patients,
        protocol,
        extra_sections=extra_sections,
        risks=risks,
        screening=screening,
        run_meta=run_meta,
        notes=notes,
        individual_per_arm=individual_per_arm,
        sample_seed=sample_seed,
        title=title,
        analysis=analysis,
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
