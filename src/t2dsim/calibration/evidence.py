"""Calibration and validation targets read from the bundled evidence table.

Observed values are read from ``t2dsim/data/evidence/stem-cell-trials.csv`` (a copy of
shared/reference/stem-cell-trials.csv with citations and verification tags). Where a paper gives no
dispersion, the 95 % interval is *derived* under a stated assumption (``ci_method``); these are marked
D and are deliberately wide. Responder shares use Wilson intervals on the reported counts.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from t2dsim.core.intervals import wilson_ci

__all__ = ["Target", "evidence_rows", "t2d_targets", "pooled_check_targets", "T2D_CASES", "CASE_LABELS"]


@dataclass(frozen=True)
class Target:
    """One observed endpoint: value with a 95 % interval and how that interval was obtained."""

    case: str  # trial key (one LOTO unit)
    endpoint: str  # endpoint name of the case's <case>.endpoints.toml
    observed: float
    ci_low: float
    ci_high: float
    ci_method: str
    source_id: str  # row id in the evidence CSV
    verification: str
    scored: bool = True  # used in fitting and in the acceptance count
    role: str = "fit"  # "fit": a target of t2d_targets(); "check": scored on its own, never fitted

    @property
    def is_check(self) -> bool:
        return self.role == "check"

    @property
    def se(self) -> float:
        return (self.ci_high - self.ci_low) / (2 * 1.959964)


@lru_cache(maxsize=1)
def evidence_rows() -> dict[str, dict[str, str]]:
    """The evidence table as ``{id: row}``."""
    path = resources.files("t2dsim.data").joinpath("evidence/stem-cell-trials.csv")
    with path.open("r", encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def _f(row_id: str, col: str) -> float:
    v = evidence_rows()[row_id][col]
    if v == "":
        raise ValueError(f"evidence {row_id}.{col} is empty")
    return float(v)


def _wilson(case: str, ep: str, k: int, n: int, row: str, ver: str, scored: bool = True) -> Target:
    lo, hi = wilson_ci(k, n)
    return Target(case, ep, k / n, lo, hi, f"Wilson 95 % on {k}/{n}", row, ver, scored)


#: Standard error of a sample median relative to that of a mean, √(π/2) ≈ 1.2533: the asymptotic variance
#: of the median of n normal observations is π·σ²/(2n) (Laplace; Kenney & Keeping, Mathematics of
#: Statistics). Applied where a paper reports medians (Bhansali 2014 RCT, Lian 2022): treating a median as a
#: mean understates its uncertainty by this factor. For a difference of two medians of paired data the
#: true factor is larger still (the sample medians correlate less than the observations, 2/π·arcsin ρ),
#: so this is a lower bound, not a widening for convenience.
MEDIAN_SE_FACTOR = float(np.sqrt(np.pi / 2.0))


def _t_crit(p_two_sided: float, df: int) -> float:
    from scipy.stats import t as student_t

    return float(student_t.ppf(1.0 - p_two_sided / 2.0, df))


def _normal(
    case: str, ep: str, value: float, se: float, method: str, row: str, ver: str, scored: bool = True
) -> Target:
    return Target(case, ep, value, value - 1.959964 * se, value + 1.959964 * se, method, row, ver, scored)


CASE_LABELS: dict[str, str] = {
    "bhansali2014_rct": "Bhansali 2014 (RCT)",
    "bhansali2009": "Bhansali 2009/2014 (cohort)",
    "bhansali2017": "Bhansali 2017",
    "wu2014": "Wu 2014",
    "skyler2015": "Skyler 2015",
    "lian2022": "Lian 2022",
    "hu2016": "Hu 2016",
    "pooled_msc_w52": "Pooled MSC RCTs (Kashbour 2025)",
    "pooled_bmmnc_w52": "Pooled BM-MNC studies (Guo 2019)",
}
T2D_CASES = ("bhansali2014_rct", "bhansali2009", "bhansali2017", "wu2014", "skyler2015", "lian2022", "hu2016")


def t2d_targets() -> list[Target]:
    """All T2D targets. Assumed SDs (D) are stated in each ``ci_method``."""
    t: list[Target] = []
    # Bhansali 2014 RCT (Cell Transplant): insulin medians (IQR) 42 (31-64) → 14 (0-30) vs
    # 40.5 (31.8-44.3) → 27.5 (23.5-33.3). SD of % change ≈ IQR of end dose / baseline median / 1.35 (SD ≈
    # IQR/1.35 for normal data, Cochrane Handbook §6.5.2.5); the
    # reported change is a change of medians, so its SE carries the median factor √(π/2).
    r = "bhansali2014_rct"
    tr, ct = _f(r, "insulin_change_pct_treated"), _f(r, "insulin_change_pct_control")
    sd_t = 100 * (30 - 0) / 42.0 / 1.35
    sd_c = 100 * (33.3 - 23.5) / 40.5 / 1.35
    k = MEDIAN_SE_FACTOR
    t.append(
        _normal(
            r,
            "insulin_pct_treated_w52",
            tr,
            k * sd_t / np.sqrt(11),
            f"D: SD from IQR of end dose (≈{sd_t:.0f} %-points), n = 11, median SE ×√(π/2)",
            r,
            "V",
        )
    )
    t.append(
        _normal(
            r,
            "insulin_pct_control_w52",
            ct,
            k * sd_c / np.sqrt(10),
            f"D: SD from IQR of end dose (≈{sd_c:.0f} %-points), n = 10, median SE ×√(π/2)",
            r,
            "V",
        )
    )
    t.append(_wilson(r, "responder_treated_w52", 9, 11, r, "V"))
    t.append(_wilson(r, "responder_control_w52", 0, 10, r, "V"))
    # HbA1c medians (IQR): 6.9 (6.4-7.2) → 7.1 (6.6-7.5) vs 6.9 (6.2-7.0) → 7.0 (6.9-7.5) (V, abstract). The
    # IQRs give SDs 0.44-0.67 at each visit (IQR/1.35), i.e. an SD of change of 0.42-0.63 for a within-patient
    # correlation of 0.7-0.5; the assumed 0.5 lies inside that bracket.
    t.append(
        _normal(
            r,
            "hba1c_change_treated_w52",
            _f(r, "hba1c_change_treated"),
            k * 0.5 / np.sqrt(11),
            "D: medians (IQR reported); SD of change 0.5 %-points (IQR bracket 0.49-0.63), median SE ×√(π/2)",
            r,
            "V",
        )
    )
    t.append(
        _normal(
            r,
            "hba1c_change_control_w52",
            _f(r, "hba1c_change_control"),
            k * 0.5 / np.sqrt(10),
            "D: medians (IQR reported); SD of change 0.5 %-points (IQR bracket 0.42-0.53), median SE ×√(π/2)",
            r,
            "V",
        )
    )
    # Bhansali 2009 cohort (n = 10) and its 15-month follow-up (Bhansali 2014 IJEM).
    c = "bhansali2009"
    t.append(
        _wilson(c, "responder_w26", round(_f("bhansali2009", "responder_frac_treated") * 10), 10, "bhansali2009", "V")
    )
    t.append(
        _wilson(
            c,
            "responder_w65",
            round(_f("bhansali2014_ijem", "responder_frac_treated") * 10),
            10,
            "bhansali2014_ijem",
            "V",
        )
    )
    t.append(
        _wilson(
            c, "insulin_free_w26", round(_f("bhansali2009", "insulin_free_frac_treated") * 10), 10, "bhansali2009", "V"
        )
    )
    t.append(
        _wilson(
            c,
            "insulin_free_w65",
            round(_f("bhansali2014_ijem", "insulin_free_frac_treated") * 10),
            10,
            "bhansali2014_ijem",
            "V",
        )
    )
    t.append(
        _normal(
            c,
            "hba1c_change_responders_w65",
            _f("bhansali2014_ijem", "hba1c_change_treated"),
            np.sqrt(0.5**2 + 0.6**2 - 2 * 0.5 * 0.5 * 0.6) / np.sqrt(6),
            "D: 8.1±0.5 → 7.0±0.6 in 6 responders, within-patient r = 0.5 assumed",
            "bhansali2014_ijem",
            "V",
        )
    )
    # Bhansali 2017 (PMC5496640, n = 7): 6/7 responders, insulin −51 %.
    c = "bhansali2017"
    t.append(_wilson(c, "responder_w26", 6, 7, "bhansali2017_dms", "V"))
    # The abstract gives p < 0.003 for the fall (paired test, n = 7; an exact Wilcoxon test cannot go below
    # p = 2/128 = 0.016 with n = 7, so the test was parametric): |t| ≥ t(0.9985, 6) = 4.80, hence
    # SE ≤ 51/4.80 = 10.6 %-points (SD ≤ 28). The bound replaces the earlier assumed SD of 30.
    ins17 = _f("bhansali2017_dms", "insulin_change_pct_treated")
    se17 = abs(ins17) / _t_crit(0.003, 6)
    t.append(
        _normal(
            c,
            "insulin_pct_w26",
            ins17,
            se17,
            f"D: SE ≤ {se17:.1f} %-points from the reported p < 0.003 (paired t, n = 7)",
            "bhansali2017_dms",
            "V",
        )
    )
    # Wu 2014: C-peptide AUC +43.8 % (BM-MNC arm, ≈20 patients).
    t.append(
        _normal(
            "wu2014",
            "cpeptide_auc_pct_w52",
            43.8,
            50 / np.sqrt(20),
            "D: SD of % change assumed 50 %-points, n ≈ 20",
            "wu2014_hot",
            "V",
        )
    )
    # Skyler 2015: placebo-adjusted HbA1c LS mean ± SE.
    c = "skyler2015"
    t.append(
        _normal(
            c,
            "hba1c_vs_placebo_2e6_w8",
            _f("skyler2015_w8", "hba1c_diff_vs_control"),
            0.2,
            "V: LS mean ± SE 0.2",
            "skyler2015_w8",
            "V",
        )
    )
    t.append(
        _normal(
            c,
            "hba1c_vs_placebo_2e6_w12",
            _f("skyler2015_w12", "hba1c_diff_vs_control"),
            0.25,
            "V: LS mean ± SE 0.25",
            "skyler2015_w12",
            "V",
        )
    )
    t.append(
        _normal(
            c,
            "hba1c_vs_placebo_0p3e6_w8",
            -0.1,
            0.2,
            "V: −0.1 ± 0.2 is the lower end of the dose range; assigned to 0.3e6/kg (D)",
            "skyler2015_w8",
            "V/D",
        )
    )
    t.append(_wilson(c, "a1c_below7_2e6_w12", 5, 15, "skyler2015_w8", "V"))
    t.append(_wilson(c, "a1c_below7_placebo_w12", 0, 16, "skyler2015_w8", "V"))
    # Lian 2022 (n = 16, medians with IQR, V: abstract). SDs from the IQRs (SD ≈ IQR/1.35 for normal data,
    # Cochrane Handbook §6.5.2.5):
    # FPG 2.53 (d0) and 2.57 (d14) mmol/L, HbA1c 0.85 (d0) and 0.98 (d84); the SDs of change assumed below
    # (2.0 mmol/L, 0.8 %-points) correspond to a within-patient correlation ≈ 0.7 (r = 0.5 would give 2.55
    # and 0.92). Medians: SE ×√(π/2).
    c = "lian2022"
    k = MEDIAN_SE_FACTOR
    t.append(
        _normal(
            c,
            "hba1c_change_w12",
            _f("lian2022", "hba1c_change_treated"),
            k * 0.8 / np.sqrt(16),
            "D: medians 7.80 → 7.15; SD of change 0.8 %-points (IQRs: 0.72-0.92 for r 0.7-0.5), median SE ×√(π/2)",
            "lian2022",
            "V",
        )
    )
    t.append(
        _normal(
            c,
            "fpg_change_mmol_d14",
            6.52 - 9.34,
            k * 2.0 / np.sqrt(16),
            "D: medians 9.34 → 6.52 mmol/L; SD of change 2.0 mmol/L (IQRs: 1.97-2.55 for r 0.7-0.5), median SE ×√(π/2)",
            "lian2022",
            "V",
        )
    )
    t.append(
        _normal(
            c,
            "homa_b_pct_d28",
            100 * (40.97 / 29.90 - 1),
            k * 60 / np.sqrt(16),
            "D: medians 29.9 → 41.0; SD of % change assumed 60 %-points, median SE ×√(π/2)",
            "lian2022",
            "V",
        )
    )
    t.append(
        _wilson(
            c,
            "dose_halved_w12",
            6,
            12,
            "lian2022",
            "V",
        )
    )
    # Hu 2016: insulin vs control at 24 months; attribution to this trial is inferred (evidence note, D). A fit row
    # of data/calibration/evidence_roles.csv since issue 16 (scored; predicted out of sample by its own fold).
    t.append(
        Target(
            "hu2016",
            "insulin_iu_vs_control_w104",
            _f("hu2016_wj", "insulin_diff_iu_day_vs_control"),
            -40.82,
            -30.64,
            "V (review CI); attribution inferred (D)",
            "hu2016_wj",
            "D",
        )
    )
    return t


_CI95 = re.compile(r"95\s*% CI (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)")


def reported_ci(row_id: str, col: str) -> tuple[float, float]:
    """The first "95% CI a to b" of an evidence row's uncertainty text (the pooled estimate's reported interval)."""
    m = _CI95.search(evidence_rows()[row_id][col])
    if m is None:
        raise ValueError(f"evidence {row_id}.{col}: no '95% CI a to b' in {evidence_rows()[row_id][col]!r}")
    return float(m.group(1)), float(m.group(2))


def _pooled(case: str, ep: str, row: str, value_col: str, ci_col: str, note: str) -> Target:
    lo, hi = reported_ci(row, ci_col)
    ver = evidence_rows()[row]["verification"].split(":")[0]
    return Target(case, ep, _f(row, value_col), lo, hi, note, row, ver, scored=True, role="check")


def pooled_check_targets() -> list[Target]:
    """The pooled meta-analytic checks (``role == "check"``): scored on their own against the ``CHECK_CASES`` of
    :mod:`t2dsim.calibration.cases`, never fitted and never combined with their member trials (evidence_roles.csv).
    Values and intervals are the pools' reported random-effects estimates, read from the evidence table."""
    return [
        _pooled(
            "pooled_msc_w52",
            "hba1c_vs_control_w52",
            "kashbour2025_ma",
            "hba1c_diff_vs_control",
            "hba1c_diff_uncertainty",
            "V: reported 95 % CI of the pool (13 RCTs, I2 56 %); pools T1D and T2D (T2D 308 of 507), the case is T2D "
            "only: a check of direction and size, not a replication",
        ),
        _pooled(
            "pooled_msc_w52",
            "insulin_iu_vs_control_w52",
            "kashbour2025_ma",
            "insulin_diff_iu_day_vs_control",
            "insulin_diff_uncertainty",
            "V: reported 95 % CI of the pool (I2 0 %); pools T1D and T2D (T2D 308 of 507), the case is T2D only; "
            "model IU/day from an assumed baseline dose 0.6 U/kg/day (D)",
        ),
        _pooled(
            "pooled_bmmnc_w52",
            "hba1c_vs_control_w52",
            "guo2019_ma",
            "hba1c_diff_vs_control",
            "hba1c_diff_uncertainty",
            "V: reported 95 % CI of the pool (6 studies, 206 participants); caveat: the abstract prints '-1.40 to "
            "0.95', read as -1.40 to -0.95; the CI looks narrow for 206 participants of mixed designs (D)",
        ),
    ]
