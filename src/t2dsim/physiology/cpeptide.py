"""C-peptide kinetics: Van Cauter et al. 1992 two-compartment model with population parameters.

Source: E. Van Cauter, F. Mestrez, J. Sturis, K. S. Polonsky, "Estimation of insulin secretion rates
from C-peptide levels. Comparison of individual and standard kinetic parameters for C-peptide
clearance", Diabetes 41:368–377, 1992 (population regressions; values as transcribed in
``shared/reference/physiology-models.md`` §3, tag S, three independent implementations agree).

Model (C1 plasma C-peptide, C2 peripheral compartment, both pmol/L; ISR in pmol/min; V in L)::

    dC1/dt = -(k1 + k3)·C1 + k2·C2 + ISR/V
    dC2/dt =  k1·C1 - k2·C2

Insulin and C-peptide are co-secreted equimolar, so ISR is the pre-hepatic insulin secretion rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Short half-life (min) and fraction of the short component by group (Van Cauter 1992).
_GROUPS = {
    "normal": (4.95, 0.76),
    "obese": (4.55, 0.78),
    "niddm": (4.52, 0.78),
}


@dataclass(frozen=True)
class CPeptideKinetics:
    """Per-patient rate constants (1/min) and distribution volume (L), arrays of shape (n,)."""

    k1: np.ndarray
    k2: np.ndarray
    k3: np.ndarray
    volume_l: np.ndarray


def body_surface_area_m2(weight_kg: ArrayLike, height_cm: ArrayLike) -> np.ndarray:
    """DuBois & DuBois (1916) body surface area, m²: 0.007184 · W^0.425 · H^0.725."""
    w = np.asarray(weight_kg, dtype=float)
    h = np.asarray(height_cm, dtype=float)
    return 0.007184 * w**0.425 * h**0.725


def van_cauter_kinetics(
    age_years: ArrayLike,
    female: ArrayLike,
    weight_kg: ArrayLike,
    height_cm: ArrayLike,
    group: str | ArrayLike = "niddm",
) -> CPeptideKinetics:
    """Population C-peptide kinetic parameters (Van Cauter 1992).

    Parameters
    ----------
    age_years: age, years (long half-life = 0.14·age + 29.16 min).
    female: boolean per patient (volume: men 1.92·BSA + 0.64 L, women 1.11·BSA + 2.04 L).
    weight_kg, height_cm: for the DuBois body surface area.
    group: "normal", "obese" (> 15 % above ideal weight) or "niddm" (type 2 diabetes), scalar or per patient.
    """
    age = np.atleast_1d(np.asarray(age_years, dtype=float))
    n = age.shape[0]
    fem = np.broadcast_to(np.asarray(female, dtype=bool), (n,))
    groups = np.broadcast_to(np.asarray(group, dtype=object), (n,))
    unknown = set(groups.tolist()) - set(_GROUPS)
    if unknown:
        raise ValueError(f"C-peptide group must be one of {sorted(_GROUPS)}, got {sorted(unknown)}")
    if np.any((age < 0) | (age > 120)):
        raise ValueError("age_years must lie in 0–120 years")
    t_short = np.array([_GROUPS[g][0] for g in groups])
    frac = np.array([_GROUPS[g][1] for g in groups])
    t_long = 0.14 * age + 29.16
    a = np.log(2.0) / t_short
    b = np.log(2.0) / t_long
    k2 = frac * b + (1.0 - frac) * a
    k3 = a * b / k2
    k1 = a + b - k2 - k3
    bsa = np.broadcast_to(body_surface_area_m2(weight_kg, height_cm), (n,))
    volume = np.where(fem, 1.11 * bsa + 2.04, 1.92 * bsa + 0.64)
    return CPeptideKinetics(k1=k1, k2=k2, k3=k3, volume_l=volume)
