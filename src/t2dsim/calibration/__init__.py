"""Calibration and validation of the stem-cell therapy models against published trials.

* :func:`calibrate` fits the T2D parameters with the bias terms of uncontrolled studies and the β-cell replacement
  parameters from the priors of ``data/calibration/priors.toml`` (full fit and cold leave-one-trial-out folds,
  :mod:`~t2dsim.calibration.cold_loto`), with the between-trial heterogeneity τ of each T2D fit, and writes a JSON
  results file (shipped: ``therapies/stemcells/calibrated/stemcells.json``).
* :func:`validate` predicts every case out of sample from the shipped results and scores it against the two
  comparators (:mod:`~t2dsim.calibration.scored_validation`); :func:`acceptance_summary` applies the committed rule
  (:mod:`~t2dsim.calibration.loto_rule`).
* :func:`benefit_summaries` (in ``calibration.benefits``) gives benefits with intervals and risks.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "calibrate",
    "validate",
    "default_results_path",
    "N_VIRTUAL",
    "acceptance_summary",
    "claim_line",
    "validation_markdown",
    "check_replication",
    "replication_record",
    "ResultsMismatch",
    "summary_text",
    "RESULTS_VERSION",
]

#: Names defined in :mod:`t2dsim.calibration.workflow`, loaded on first use (PEP 562): importing a submodule of
#: this package (the evidence table, pooled effects) then costs only that submodule.
_WORKFLOW = frozenset({*__all__, "N_VIRTUAL_T1D", "_t2d_plans", "_t1d_plans", "_prior_records"})


def __getattr__(name: str) -> Any:
    if name in _WORKFLOW:
        return getattr(import_module("t2dsim.calibration.workflow"), name)
    raise AttributeError(f"module 't2dsim.calibration' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_WORKFLOW})
