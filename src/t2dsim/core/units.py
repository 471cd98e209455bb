"""Unit conversions used across t2dsim.

Sources
-------
* Glucose: molar mass 180.16 g/mol, so 1 mmol/L = 18.016 mg/dL (clinical rounding 18.0).
* Insulin: 1 U = 6 nmol = 6000 pmol (international unit of human insulin, the convention of the
  UVA/Padova simulator); 1 µU/mL = 6.0 pmol/L on that convention (older literature uses 6.945).
* HbA1c: IFCC (mmol/mol) = 10.929 × (NGSP % − 2.15) (Hoelzel et al., Clin Chem 50:166, 2004,
  the IFCC–NGSP master equation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

GLUCOSE_MGDL_PER_MMOLL = 18.016
PMOL_PER_U_INSULIN = 6000.0
PMOLL_PER_UUML_INSULIN = 6.0


def mgdl_to_mmoll(g_mgdl: ArrayLike) -> np.ndarray:
    """Glucose mg/dL → mmol/L."""
    return np.asarray(g_mgdl, dtype=float) / GLUCOSE_MGDL_PER_MMOLL


def mmoll_to_mgdl(g_mmoll: ArrayLike) -> np.ndarray:
    """Glucose mmol/L → mg/dL."""
    return np.asarray(g_mmoll, dtype=float) * GLUCOSE_MGDL_PER_MMOLL


def pmoll_to_uuml(i_pmoll: ArrayLike) -> np.ndarray:
    """Insulin pmol/L → µU/mL (6 pmol/L per µU/mL)."""
    return np.asarray(i_pmoll, dtype=float) / PMOLL_PER_UUML_INSULIN


def uuml_to_pmoll(i_uuml: ArrayLike) -> np.ndarray:
    """Insulin µU/mL → pmol/L."""
    return np.asarray(i_uuml, dtype=float) * PMOLL_PER_UUML_INSULIN


def hba1c_pct_to_mmolmol(a1c_pct: ArrayLike) -> np.ndarray:
    """HbA1c NGSP % → IFCC mmol/mol."""
    return 10.929 * (np.asarray(a1c_pct, dtype=float) - 2.15)


def hba1c_mmolmol_to_pct(a1c_mmolmol: ArrayLike) -> np.ndarray:
    """HbA1c IFCC mmol/mol → NGSP %."""
    return np.asarray(a1c_mmolmol, dtype=float) / 10.929 + 2.15
