"""Exact tests on small count tables that trials report (responder shares between two arms).

Why not ``scipy.stats.fisher_exact``: importing ``scipy.stats`` costs 0.45–1.0 s (its distributions build
their docstrings at import), about a tenth of a warm default trial (`benchmarks/warm_default_trial.py`,
issue 18), and the two-sided 2×2 Fisher p-value is the one thing a trial needs from it. The p-value below
is the textbook definition (Agresti, *Categorical Data Analysis*, chapter on small-sample tests): the probability, under
the hypergeometric law of the table with its margins fixed, of every table no more likely than the one
observed. Tables whose probabilities agree within a relative 1e-7 count as ties (mathematically equal
probabilities differ in the last bits of the log-gamma evaluation); R's ``fisher.test`` uses the same
tolerance (its ``relErr = 1 + 10^-7``), scipy 1.x computes the same definition by a search over the
hypergeometric law. ``tests/test_exact_tests.py`` compares the two on every table of a grid of arm sizes up to 30
(tie tables included) and on random tables up to 2,000 per arm (relative agreement 1e-9).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

__all__ = ["fisher_exact_two_sided"]

_TIE_TOLERANCE = 1.0 + 1e-7  # R fisher.test's relErr: probabilities within this ratio count as ties


def fisher_exact_two_sided(table: list[list[int]] | np.ndarray) -> float:
    """Two-sided Fisher exact p-value of a 2×2 table of non-negative counts ``[[a, b], [c, d]]``.

    Rows are the two groups, columns the two outcomes. Returns 1.0 when a row or column total is 0
    (as scipy does: no information). Refuses a table that is not 2×2 or has negative or non-integer counts.
    """
    t = np.asarray(table)
    if t.shape != (2, 2):
        raise ValueError(f"Fisher exact test needs a 2x2 table (got shape {t.shape})")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t != np.round(t)):
        raise ValueError(f"Fisher exact test needs non-negative integer counts (got {t.tolist()})")
    t = t.astype(np.int64)
    row1, row2 = int(t[0].sum()), int(t[1].sum())
    col1 = int(t[:, 0].sum())
    n = row1 + row2
    if min(row1, row2, col1, n - col1) == 0:
        return 1.0
    lo, hi = max(0, col1 - row2), min(row1, col1)
    x = np.arange(lo, hi + 1)
    # log hypergeometric pmf of the top-left cell: C(row1, x) C(row2, col1 - x) / C(n, col1)
    logp = _log_choose(row1, x) + _log_choose(row2, col1 - x) - _log_choose(n, np.asarray(col1))
    pmf = np.exp(logp)
    observed = pmf[int(t[0, 0]) - lo]
    p = float(pmf[pmf <= observed * _TIE_TOLERANCE].sum())
    return min(p, 1.0)


def _log_choose(n: int, k: np.ndarray) -> np.ndarray:
    """log C(n, k) for integer arrays ``k`` in [0, n]."""
    k = np.asarray(k, dtype=float)
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
