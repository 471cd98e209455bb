"""Stratified permuted-block randomisation: determinism, balance, unbiasedness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from t2dsim.trial.protocol import load_protocol
from t2dsim.trial.randomisation import allocation_ratio, block_randomise, randomise_for_protocol, stratum_labels


def cohort(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "hba1c_percent": rng.normal(8.5, 1.0, n),
            "sex": rng.choice(["female", "male"], n),
        }
    )


def test_allocation_ratio() -> None:
    assert allocation_ratio({"a": 200, "b": 100, "c": 100}) == {"a": 2, "b": 1, "c": 1}
    assert allocation_ratio({"a": 7, "b": 5}) == {"a": 7, "b": 5}
    with pytest.raises(ValueError, match="positive integer"):
        allocation_ratio({"a": 0})


def test_stratum_labels_bins() -> None:
    p = pd.DataFrame({"patient_id": [0, 1, 2], "hba1c_percent": [7.0, 8.5, 9.9], "sex": ["f", "m", "f"]})
    lab = stratum_labels(p, ["hba1c_percent", "sex"], {"hba1c_percent": [8.5]})
    assert lab.tolist() == ["hba1c_percent<8.5|sex=f", "hba1c_percent>=8.5|sex=m", "hba1c_percent>=8.5|sex=f"]
    lab3 = stratum_labels(p, ["hba1c_percent"], {"hba1c_percent": [8.0, 9.0]})
    assert lab3.tolist() == ["hba1c_percent<8", "hba1c_percent[8,9)", "hba1c_percent>=9"]
    with pytest.raises(ValueError, match="'bmi_kg_m2' is not a column"):
        stratum_labels(p, ["bmi_kg_m2"])


def test_deterministic_and_row_order_invariant() -> None:
    p = cohort(300)
    kw = dict(
        n_per_arm={"a": 100, "b": 100, "c": 100},
        stratify_by=["hba1c_percent", "sex"],
        cutpoints={"hba1c_percent": [8.5]},
    )
    a1 = block_randomise(p, seed=5, **kw)
    a2 = block_randomise(p, seed=5, **kw)
    assert a1.equals(a2)
    shuffled = p.sample(frac=1.0, random_state=1)
    a3 = block_randomise(shuffled, seed=5, **kw)
    pd.testing.assert_series_equal(a3.sort_index(), a1.sort_index())
    assert not block_randomise(p, seed=6, **kw).equals(a1)


def test_block_balance_within_strata() -> None:
    """At the end of every complete block, each arm has exactly ratio x blocks patients; overall
    imbalance is below one maximal block per stratum."""
    p = cohort(401, seed=2)
    n = {"a": 2, "b": 1}  # 2:1
    arms = block_randomise(p, n, seed=9, stratify_by=["sex"], block_multipliers=[1, 2])
    labels = stratum_labels(p, ["sex"])
    for lab in labels.unique():
        seq = arms[labels == lab].loc[p.loc[labels == lab].sort_values("patient_id").index].to_numpy()
        ca = np.cumsum(seq == "a")
        cb = np.cumsum(seq == "b")
        # positions where counts are exactly 2:1 must occur at least every 6 patients (max block)
        balanced = np.flatnonzero(ca == 2 * cb) + 1
        gaps = np.diff(np.concatenate([[0], balanced]))
        assert gaps.max() <= 6
        assert abs(ca[-1] - 2 * cb[-1]) <= 6
    counts = arms.value_counts()
    assert abs(counts["a"] / len(p) - 2 / 3) < 0.02


def test_unstratified_exact_sizes_when_blocks_fill() -> None:
    p = cohort(120)
    arms = block_randomise(p, {"x": 40, "y": 40, "z": 40}, seed=1, block_multipliers=[1])
    assert arms.value_counts().to_dict() == {"x": 40, "y": 40, "z": 40}


def test_first_allocation_unbiased() -> None:
    """Over 600 seeds, the first patient's arm follows the 1:1:2 ratio (chi-square p > 0.001)."""
    p = cohort(8)
    first = [block_randomise(p, {"a": 1, "b": 1, "c": 2}, seed=s).iloc[0] for s in range(600)]
    obs = pd.Series(first).value_counts().reindex(["a", "b", "c"]).to_numpy()
    assert stats.chisquare(obs, f_exp=[150, 150, 300]).pvalue > 1e-3


def test_randomise_for_protocol(tmp_path: object) -> None:
    from pathlib import Path

    proto = load_protocol(Path(__file__).parent / "data" / "good_protocol.toml")
    p = cohort(600)
    arms = randomise_for_protocol(p, proto)
    assert set(arms) == {"placebo", "uc_msc", "islets"}
    assert all(abs(c - 200) <= 4 * 6 for c in arms.value_counts())  # < one block (6) per stratum (4)
