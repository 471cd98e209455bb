"""Pooled (meta-analytic) stem-cell effects as published, read from the bundled evidence table
(``t2dsim/data/evidence/stem-cell-trials.csv``), to be shown beside a trial's prediction.

Nothing here is fitted: a pooled effect is never a calibration target beside its member trials (issue 16); it is
a check a reader can hold the model's prediction against. The numbers come from the table's columns
``hba1c_diff_vs_control`` and ``hba1c_diff_uncertainty`` (e.g. "95% CI -1.11 to -0.33; I2 56%").
"""

from __future__ import annotations

from dataclasses import dataclass

from t2dsim.calibration.evidence import evidence_rows, reported_ci

__all__ = ["MSC_META_ANALYSIS", "PublishedPool", "pooled_hba1c"]

#: The pooled MSC RCT evidence on HbA1c at 12 months (Kashbour 2025: 13 RCTs; pools T1D and T2D).
MSC_META_ANALYSIS = "kashbour2025_ma"


@dataclass(frozen=True)
class PublishedPool:
    """A pooled treated-minus-control HbA1c difference (%-points) with its published 95 % CI."""

    source_id: str
    citation: str
    doi: str
    indication: str
    design: str
    estimate: float
    ci_low: float
    ci_high: float
    heterogeneity: str
    timepoint_weeks: float
    notes: str


def pooled_hba1c(source_id: str = MSC_META_ANALYSIS) -> PublishedPool:
    """The pooled HbA1c difference of evidence row ``source_id`` (refuses a row without one, naming the column)."""
    rows = evidence_rows()
    if source_id not in rows:
        raise ValueError(f"evidence row {source_id!r} is not in t2dsim/data/evidence/stem-cell-trials.csv")
    r = rows[source_id]
    if r["hba1c_diff_vs_control"] == "":
        raise ValueError(f"evidence {source_id}: hba1c_diff_vs_control is empty (a pooled HbA1c difference is needed)")
    ci_low, ci_high = reported_ci(source_id, "hba1c_diff_uncertainty")
    het = "; ".join(part.strip() for part in r["hba1c_diff_uncertainty"].split(";")[1:])
    return PublishedPool(
        source_id=source_id,
        citation=f"{r['first_author']} {r['year']}, {r['journal']}",
        doi=r["doi"],
        indication=r["indication"],
        design=r["design_detail"],
        estimate=float(r["hba1c_diff_vs_control"]),
        ci_low=ci_low,
        ci_high=ci_high,
        heterogeneity=het,
        timepoint_weeks=float(r["timepoint_weeks"]) if r["timepoint_weeks"] else float("nan"),
        notes=r["notes"],
    )
