"""Seeded, stratified, permuted-block randomisation.

Patients are grouped into strata (combinations of categorical factors and binned continuous ones).
Within each stratum, patients in ascending ``patient_id`` order receive arms from a sequence of
permuted blocks; each block holds every arm ``ratio[arm] * m`` times, with the block multiplier
``m`` drawn at random from ``block_multipliers`` (random block sizes make the next allocation
harder to guess; ICH E9 section 2.3.1). The allocation ratio is the arm sizes divided by their
greatest common divisor.

Determinism: each stratum has its own generator ``numpy.random.default_rng([seed, key])`` where
``key`` is a hash of the stratum label, so the allocation of a patient depends only on the seed,
its stratum and its rank within the stratum, never on row order or on other strata.
Arm sizes can differ from the targets by less than one block per stratum (the last block of a
stratum is usually incomplete): that is the normal behaviour of stratified block randomisation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import reduce

import numpy as np
import pandas as pd

from t2dsim.core.rng import stream_id

__all__ = ["allocation_ratio", "block_randomise", "randomise_for_protocol", "stratum_labels"]


def allocation_ratio(n_per_arm: Mapping[str, int]) -> dict[str, int]:
    """Smallest integer ratio proportional to the arm sizes, e.g. {a: 200, b: 100} -> {a: 2, b: 1}."""
    if not n_per_arm:
        raise ValueError("at least one arm is needed")
    for a, n in n_per_arm.items():
        if int(n) != n or n < 1:
            raise ValueError(f"arm {a!r}: n = {n} must be a positive integer")
    g = reduce(math.gcd, (int(n) for n in n_per_arm.values()))
    return {a: int(n) // g for a, n in n_per_arm.items()}


def stratum_labels(
    patients: pd.DataFrame, stratify_by: Sequence[str] = (), cutpoints: Mapping[str, Sequence[float]] | None = None
) -> pd.Series:
    """Stratum label per patient, e.g. ``"hba1c_percent>=8.5|sex=female"``.

    Args:
        patients: per-patient table with the factor columns.
        stratify_by: factor column names.
        cutpoints: for continuous factors, increasing cut points; a value ``x`` falls in the bin
            ``[c_i, c_{i+1})``.

    Returns:
        Series of str aligned with ``patients.index`` ("all" when not stratified).
    """
    cutpoints = dict(cutpoints or {})
    if not stratify_by:
        return pd.Series("all", index=patients.index)
    parts = []
    for f in stratify_by:
        if f not in patients.columns:
            raise ValueError(
                f"stratification factor {f!r} is not a column of the patient table; columns: {list(patients.columns)}"
            )
        col = patients[f]
        if col.isna().any():
            raise ValueError(f"stratification factor {f!r} has missing values")
        if f in cutpoints:
            cuts = np.asarray(cutpoints[f], dtype=float)
            idx = np.searchsorted(cuts, col.to_numpy(dtype=float), side="right")
            edges = [-np.inf, *cuts, np.inf]
            lab = [
                f"{f}<{edges[i + 1]:g}"
                if i == 0
                else (f"{f}>={edges[i]:g}" if i == len(cuts) else f"{f}[{edges[i]:g},{edges[i + 1]:g})")
                for i in range(len(cuts) + 1)
            ]
            parts.append(pd.Series(np.asarray(lab, dtype=object)[idx], index=patients.index))
        else:
            parts.append(f + "=" + col.astype(str))
    out = parts[0]
    for p in parts[1:]:
        out = out + "|" + p
    return out


def block_randomise(
    patients: pd.DataFrame,
    n_per_arm: Mapping[str, int],
    seed: int,
    stratify_by: Sequence[str] = (),
    cutpoints: Mapping[str, Sequence[float]] | None = None,
    block_multipliers: Sequence[int] = (1, 2),
) -> pd.Series:
    """Assign an arm to every patient by stratified permuted blocks.

    Args:
        patients: per-patient table with a unique ``patient_id`` column and the factor columns.
        n_per_arm: arm -> target size (sets the allocation ratio; arm order is kept).
        seed: randomisation seed (>= 0).
        stratify_by: stratification factors.
        cutpoints: cut points of continuous factors.
        block_multipliers: allowed block multipliers (block size = multiplier x sum of ratio).

    Returns:
        Series of arm names aligned with ``patients.index``.
    """
    if "patient_id" not in patients.columns:
        raise ValueError("patient table needs a 'patient_id' column")
    if patients["patient_id"].duplicated().any():
        raise ValueError("patient_id values must be unique")
    if seed < 0:
        raise ValueError(f"seed = {seed} outside the allowed range [0, 2**63)")
    mults = [int(m) for m in block_multipliers]
    if not mults or min(mults) < 1:
        raise ValueError(f"block_multipliers = {list(block_multipliers)}: need positive integers")
    ratio = allocation_ratio(n_per_arm)
    unit = np.repeat(np.array(list(ratio), dtype=object), list(ratio.values()))
    labels = stratum_labels(patients, stratify_by, cutpoints)
    out = pd.Series(index=patients.index, dtype=object)
    for label in sorted(pd.unique(labels)):
        members = patients.loc[labels == label, "patient_id"].sort_values(kind="stable")
        rng = np.random.default_rng([seed, stream_id("stratum:" + label)])
        seq: list[object] = []
        while len(seq) < len(members):
            block = np.tile(unit, mults[int(rng.integers(len(mults)))])
            rng.shuffle(block)
            seq.extend(block.tolist())
        out.loc[members.index] = seq[: len(members)]
    return out


def randomise_for_protocol(patients: pd.DataFrame, protocol: object) -> pd.Series:
    """Randomise a cohort as a :class:`~t2dsim.trial.protocol.Protocol` prescribes."""
    spec = protocol.randomisation  # type: ignore[attr-defined]
    return block_randomise(
        patients,
        {a.name: a.n for a in protocol.arms},  # type: ignore[attr-defined]
        seed=spec.seed,
        stratify_by=spec.stratify_by,
        cutpoints=spec.cutpoints,
        block_multipliers=spec.block_multipliers,
    )
