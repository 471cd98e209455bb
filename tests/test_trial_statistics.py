"""Trial statistics checked against statsmodels, numpy least squares and published numbers.

Synthetic long tables come from t2dsim.trial.synthetic (normal draws with a known arm effect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from t2dsim.trial.statistics import (
    analyse_endpoints,
    ancova,
    endpoint_frame,
    newcombe_diff_ci,
    responder_table,
    trajectory_summary,
    wilson_ci,
)
from t2dsim.trial.synthetic import synthetic_trial

ARMS = {"placebo": 40, "msc": 35, "islets": 30}
EFFECT = {"placebo": 0.0, "msc": -0.4, "islets": -1.0}


@pytest.fixture(scope="module")
def trial() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_trial(ARMS, EFFECT, seed=11, annual_dropout=0.15)


def test_ancova_matches_statsmodels_ols(trial: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    results, _ = trial
    fr = endpoint_frame(results, "hba1c_percent", 12)
    assert fr["arm"].value_counts().sum() < sum(ARMS.values())  # dropout removed some patients
    res = ancova(fr, "placebo")
    fit = smf.ols("change ~ C(arm, Treatment(reference='placebo')) + baseline", data=fr).fit()
    ci = fit.conf_int(alpha=0.05)
    for _, row in res.effects.iterrows():
        term = f"C(arm, Treatment(reference='placebo'))[T.{row['arm']}]"
        assert row["estimate"] == pytest.approx(fit.params[term], abs=1e-8)
        assert row["se"] == pytest.approx(fit.bse[term], abs=1e-8)
        assert row["ci_low"] == pytest.approx(ci.loc[term, 0], abs=1e-8)
        assert row["ci_high"] == pytest.approx(ci.loc[term, 1], abs=1e-8)
        assert row["p_value"] == pytest.approx(fit.pvalues[term], abs=1e-8)
        assert row["t"] == pytest.approx(fit.tvalues[term], abs=1e-8)
        assert row["df"] == fit.df_resid
    assert res.baseline_slope == pytest.approx(fit.params["baseline"], abs=1e-8)
    assert res.baseline_slope_se == pytest.approx(fit.bse["baseline"], abs=1e-8)
    assert res.residual_sd == pytest.approx(np.sqrt(fit.scale), abs=1e-8)

    # least-squares means = model prediction at the overall mean baseline (statsmodels get_prediction)
    new = pd.DataFrame({"arm": res.lsmeans["arm"], "baseline": fr["baseline"].mean()})
    pred = fit.get_prediction(new).summary_frame(alpha=0.05)
    np.testing.assert_allclose(res.lsmeans["adj_mean_change"], pred["mean"], atol=1e-8)
    np.testing.assert_allclose(res.lsmeans["se"], pred["mean_se"], atol=1e-8)
    np.testing.assert_allclose(res.lsmeans["ci_low"], pred["mean_ci_lower"], atol=1e-8)


def test_ancova_matches_numpy_lstsq(trial: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Independent computation: normal equations via np.linalg.lstsq and an explicit inverse."""
    results, _ = trial
    fr = endpoint_frame(results, "hba1c_percent", 12)
    X = np.column_stack([np.ones(len(fr)), fr["arm"] == "islets", fr["arm"] == "msc", fr["baseline"]]).astype(float)
    y = fr["change"].to_numpy()
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    df = len(y) - X.shape[1]
    cov = resid @ resid / df * np.linalg.inv(X.T @ X)
    res = ancova(fr, "placebo").effects.set_index("arm")
    for j, a in ((1, "islets"), (2, "msc")):
        assert res.loc[a, "estimate"] == pytest.approx(beta[j], abs=1e-10)
        assert res.loc[a, "se"] == pytest.approx(np.sqrt(cov[j, j]), abs=1e-10)
        p = 2 * stats.t.sf(abs(beta[j] / np.sqrt(cov[j, j])), df)
        assert res.loc[a, "p_value"] == pytest.approx(p, abs=1e-10)


def test_ancova_recovers_known_effect_and_ci_coverage() -> None:
    """Over 300 synthetic trials the 95% CI of the islets-vs-placebo effect covers the true -1.0
    in 95% +- 3.8% (3 binomial SDs at 300 reps) of trials; the mean estimate is unbiased within
    4 standard errors of the Monte Carlo mean."""
    est, cover = [], 0
    for rep in range(300):
        res, _ = synthetic_trial({"placebo": 25, "islets": 25}, EFFECT, seed=1000 + rep, with_extra_measures=False)
        e = ancova(endpoint_frame(res, "hba1c_percent", 12), "placebo").effects.iloc[0]
        est.append(e["estimate"])
        cover += e["ci_low"] <= -1.0 <= e["ci_high"]
    est = np.array(est)
    assert abs(cover / 300 - 0.95) < 3 * np.sqrt(0.95 * 0.05 / 300)
    assert abs(est.mean() - (-1.0)) < 4 * est.std(ddof=1) / np.sqrt(est.size)


def test_endpoint_frame_locf_and_complete_case() -> None:
    rows = [
        ("a", 1, 0, 8.0),
        ("a", 1, 6, 7.5),
        ("a", 1, 12, 7.0),  # completer
        ("a", 2, 0, 9.0),
        ("a", 2, 6, 8.0),  # dropped after month 6
        ("b", 3, 0, 8.5),  # dropped before month 6
        ("b", 4, 0, 7.0),
        ("b", 4, 6, np.nan),
        ("b", 4, 12, 6.5),  # missed month 6
    ]
    res = pd.DataFrame(rows, columns=["arm", "patient_id", "visit_month", "value"]).assign(measure="hba1c_percent")
    cc = endpoint_frame(res, "hba1c_percent", 12)
    assert cc["patient_id"].tolist() == [1, 4]
    assert cc["change"].tolist() == pytest.approx([-1.0, -0.5])
    locf = endpoint_frame(res, "hba1c_percent", 12, missing="locf").set_index("patient_id")
    assert locf.loc[2, "change"] == pytest.approx(-1.0)  # month-6 value carried
    assert locf.loc[3, "change"] == pytest.approx(0.0)  # baseline carried
    assert locf.loc[4, "change"] == pytest.approx(-0.5)


def test_ancova_errors() -> None:
    fr = pd.DataFrame({"arm": ["a", "b"], "baseline": [8.0, 8.0], "change": [0.1, 0.2]})
    with pytest.raises(ValueError, match="reference arm 'z'"):
        ancova(fr, "z")
    with pytest.raises(ValueError, match="more patients"):
        ancova(fr, "a")
    # baseline collinear with the arm (every patient of an arm has the same, different baseline): singular
    fr = pd.DataFrame({"arm": list("aabb"), "baseline": [8.0, 8.0, 9.0, 9.0], "change": [0.1, 0.2, 0.0, 0.3]})
    with pytest.raises(ValueError, match="singular"):
        ancova(fr, "a")


def test_ancova_with_a_constant_baseline_is_the_comparison_of_changes() -> None:
    """A baseline equal for every patient (CGM time below range before anyone takes insulin) carries no information:
    the covariate is left out, and the result equals statsmodels' OLS ``change ~ C(arm)`` (pooled-variance two-sample
    comparison) instead of the singular-design error it gave before 2026-12-06."""
    rng = np.random.default_rng(4)
    fr = pd.DataFrame(
        {
            "arm": ["ref"] * 30 + ["t1"] * 30 + ["t2"] * 25,
            "baseline": 0.0,
            "change": np.r_[rng.normal(1.0, 1.0, 30), rng.normal(4.0, 1.5, 30), rng.normal(0.5, 1.0, 25)],
        }
    )
    res = ancova(fr, "ref")
    ols = smf.ols("change ~ C(arm, Treatment('ref'))", data=fr).fit()
    for a in ("t1", "t2"):
        row = res.effects.set_index("arm").loc[a]
        name = f"C(arm, Treatment('ref'))[T.{a}]"
        assert row["estimate"] == pytest.approx(ols.params[name], rel=1e-10)
        assert row["se"] == pytest.approx(ols.bse[name], rel=1e-10)
        assert row["p_value"] == pytest.approx(ols.pvalues[name], rel=1e-8)
    assert np.isnan(res.baseline_slope) and res.df_resid == int(ols.df_resid)
    ls = res.lsmeans.set_index("arm")
    assert ls.loc["t1", "adj_mean_change"] == pytest.approx(fr.loc[fr.arm == "t1", "change"].mean(), rel=1e-10)


def test_analyse_endpoints_table(trial: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    results, _ = trial
    tab = analyse_endpoints(results, [("hba1c_percent", 12), ("fpg_mgdl", 6, "FPG 6 m")], "placebo")
    assert list(tab["endpoint"]) == ["hba1c_percent@12m", "hba1c_percent@12m", "FPG 6 m", "FPG 6 m"]
    assert list(tab["role"]) == ["primary", "primary", "secondary", "secondary"]
    direct = ancova(endpoint_frame(results, "fpg_mgdl", 6), "placebo").effects
    np.testing.assert_allclose(tab["estimate"].iloc[2:], direct["estimate"], atol=1e-12)


# ---- proportions --------------------------------------------------------------------------------

# Wilson score intervals, Newcombe (Stat Med 1998;17:857) Table I, method 3, 4 decimals; the same
# values are returned by statsmodels proportion_confint(method="wilson").
WILSON_PUBLISHED = [
    ((81, 263), (0.2553, 0.3662)),
    ((15, 148), (0.0624, 0.1605)),
    ((0, 20), (0.0, 0.1611)),
    ((1, 29), (0.0061, 0.1718)),
]
# Newcombe (Stat Med 1998;17:873) Table II, method 10 (hybrid score, no continuity correction),
# examples (a), (b), (d); 4 decimals. (Recalled from the paper's table and agreeing with statsmodels
# confint_proportions_2indep(method="newcomb"), which is checked separately below.)
NEWCOMBE_PUBLISHED = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
]


@pytest.mark.parametrize(("kn", "expected"), WILSON_PUBLISHED)
def test_wilson_published(kn: tuple[int, int], expected: tuple[float, float]) -> None:
    assert wilson_ci(*kn) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_PUBLISHED)
def test_newcombe_published(counts: tuple[int, int, int, int], expected: tuple[float, float]) -> None:
    assert newcombe_diff_ci(*counts) == pytest.approx(expected, abs=5e-5)


def test_proportion_cis_match_statsmodels() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n1, n2 = rng.integers(1, 200, 2)
        k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        assert wilson_ci(k1, n1) == pytest.approx(proportion_confint(k1, n1, method="wilson"), abs=1e-10)
        sm = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert newcombe_diff_ci(k1, n1, k2, n2) == pytest.approx(sm, abs=1e-10)


def test_responder_table_counts_and_nri() -> None:
    rows = []
    # arm c (reference): 4 patients, insulin 40 -> 30, 40 -> 10, 40 -> 0, dropout (no 12-m value)
    for pid, v12 in [(1, 30.0), (2, 10.0), (3, 0.0), (4, None)]:
        rows.append(("c", pid, 0, 40.0))
        if v12 is not None:
            rows.append(("c", pid, 12, v12))
    # arm t: 2 patients, 20 -> 10 (exactly 50 %), 50 -> 0
    rows += [("t", 5, 0, 20.0), ("t", 5, 12, 10.0), ("t", 6, 0, 50.0), ("t", 6, 12, 0.0)]
    res = pd.DataFrame(rows, columns=["arm", "patient_id", "visit_month", "value"]).assign(measure="insulin_u_per_day")
    defs = [
        {
            "name": "reduction>=50%",
            "measure": "insulin_u_per_day",
            "visit_month": 12,
            "rule": "percent_reduction_at_least",
            "threshold": 50,
        },
        {
            "name": "independent",
            "measure": "insulin_u_per_day",
            "visit_month": 12,
            "rule": "value_at_most",
            "threshold": 0,
        },
    ]
    tab = responder_table(res, defs, "c").set_index(["responder", "arm"])
    assert tab.loc[("reduction>=50%", "c"), ["k", "n"]].tolist() == [2, 4]  # dropout = non-responder
    assert tab.loc[("reduction>=50%", "t"), ["k", "n"]].tolist() == [2, 2]
    assert tab.loc[("independent", "c"), ["k", "n"]].tolist() == [1, 4]
    assert tab.loc[("independent", "t"), ["k", "n"]].tolist() == [1, 2]
    row = tab.loc[("reduction>=50%", "t")]
    assert row["diff_vs_reference"] == pytest.approx(0.5)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx(newcombe_diff_ci(2, 2, 2, 4))
    assert row["p_value"] == pytest.approx(stats.fisher_exact([[2, 0], [2, 2]]).pvalue)
    cc = responder_table(res, defs[:1], "c", missing="complete_case").set_index("arm")
    assert cc.loc["c", ["k", "n"]].tolist() == [2, 3]


def test_trajectory_summary() -> None:
    res = pd.DataFrame(
        {
            "arm": ["a"] * 4,
            "patient_id": [1, 2, 3, 4],
            "visit_month": [0.0] * 4,
            "measure": "m",
            "value": [1.0, 2.0, 4.0, np.nan],
        }
    )
    s = trajectory_summary(res).iloc[0]
    lo, hi = stats.t.interval(0.95, 2, loc=7 / 3, scale=np.std([1, 2, 4], ddof=1) / np.sqrt(3))
    assert s["n"] == 3 and s["mean"] == pytest.approx(7 / 3)
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((lo, hi))
