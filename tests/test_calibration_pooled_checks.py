"""The two pooled meta-analytic checks of issue 16 (evidence_roles.csv role "check"): pooled_msc_w52 for
kashbour2025_ma and pooled_bmmnc_w52 for guo2019_ma are runnable cases on the trial engine (like every other case,
`t2dsim trial <case file>` gives run_case's values: tests/test_calibration_engine.py), their targets are read from the
evidence table and equal the published numbers written here with their source, and they never enter the fit."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.calibration.cases import CASES, CHECK_CASES, case_dir, case_plan, case_protocol, run_case
from t2dsim.calibration.endpoints import load_endpoints
from t2dsim.calibration.evidence import T2D_CASES, pooled_check_targets, t2d_targets
from t2dsim.calibration.evidence_roles import evidence_roles

#: Published pooled estimates (value, 95 % CI low, high), written from the abstracts, not from the code:
#: Kashbour M et al., Diabetol Metab Syndr 2025;17:189 (PMID 40462158): 13 MSC RCTs, 507 patients (T1D + T2D),
#: 12 months: HbA1c MD −0.72 % (−1.11 to −0.33), insulin MD −14.50 IU/day (−19.45 to −9.55).
#: Guo XJ et al., Diabetes Ther 2019;10:535 (PMID 30725399): 6 BM-MNC studies, 206 participants, HbA1c vs control
#: at 12 months −1.18 % (−1.40 to −0.95; the abstract prints "−1.40 to 0.95", a dropped minus sign).
PUBLISHED = {
    ("pooled_msc_w52", "hba1c_vs_control_w52"): ("kashbour2025_ma", -0.72, -1.11, -0.33),
    ("pooled_msc_w52", "insulin_iu_vs_control_w52"): ("kashbour2025_ma", -14.50, -19.45, -9.55),
    ("pooled_bmmnc_w52", "hba1c_vs_control_w52"): ("guo2019_ma", -1.18, -1.40, -0.95),
}


def test_pooled_targets_are_the_published_numbers():
    got = {(t.case, t.endpoint): t for t in pooled_check_targets()}
    assert set(got) == set(PUBLISHED)
    for key, (row, value, lo, hi) in PUBLISHED.items():
        t = got[key]
        assert t.source_id == row and t.is_check and t.scored
        assert (t.observed, t.ci_low, t.ci_high) == pytest.approx((value, lo, hi), abs=1e-9), key
        assert "T1D" in t.ci_method or row == "guo2019_ma"  # the MSC pool's T1D + T2D mix is stated beside it


def test_pooled_checks_are_not_fit_targets():
    fit = t2d_targets()
    assert not {t.case for t in fit} & set(CHECK_CASES)
    assert not {t.source_id for t in fit} & {"kashbour2025_ma", "guo2019_ma"}
    assert not set(CHECK_CASES) & (set(CASES) | set(T2D_CASES))  # calibrate() plans and fits CASES / T2D_CASES
    roles = evidence_roles()
    assert (roles["kashbour2025_ma"].role, roles["kashbour2025_ma"].case) == ("check", "pooled_msc_w52")
    assert (roles["guo2019_ma"].role, roles["guo2019_ma"].case) == ("check", "pooled_bmmnc_w52")


@pytest.mark.parametrize("case", CHECK_CASES)
def test_pooled_case_files_define_every_check_endpoint(case):
    spec = load_endpoints(case_dir() / f"{case}.endpoints.toml", case_protocol(case))
    defs = {e.name: e for e in spec.endpoints}
    for (c, ep), (row, *_) in PUBLISHED.items():
        if c == case:
            assert defs[ep].evidence == row and defs[ep].kind == "diff"
            assert defs[ep].visit_month == pytest.approx(364 / (365.25 / 12), abs=1e-4)  # 52 weeks


@pytest.mark.parametrize("case", CHECK_CASES)
def test_pooled_cases_run_and_give_finite_endpoints(case):
    stats = run_case(case, None, case_plan(case, 0, 5))
    assert {ep for c, ep in PUBLISHED if c == case} == set(stats)
    for st in stats.values():
        assert np.isfinite(st.value())
