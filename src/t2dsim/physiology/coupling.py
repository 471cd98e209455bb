"""Coupling of the years-scale progression state to the minute-scale meal model.

On any day, a patient's progression state (fasting-like glucose G, insulin, β-cell mass β, function σ,
effective insulin sensitivity SIe) sets the meal model's parameters; the meal model is then run for
the days that need minute resolution (visits: MMTT, OGTT; CGM weeks).

Anchors
-------
Two points tie the two models together (values computed by :func:`anchors` and pinned in a test):

* **normal**: the Dalla Man 2007 normal subject ↔ the Ha, Satin & Sherman 2016 human initial state
  (G 99.8 mg/dL, SIe 0.80 mL/µU/day, β·σ = 1000.4 mg × 536.7);
* **T2D**: the Dalla Man 2007 T2D subject (G 159.2 mg/dL) ↔ the Ha 2016 natural-history state on the
  day its glucose reaches 159.2 mg/dL (day 1043 of the Fig. 7 no-intervention run: SIe 0.180,
  β 959 mg, σ 371.7).

Mapping (each documented rule is the simplest that reproduces both anchors exactly)
---------------------------------------------------------------------------------
* Insulin action (Vmx, kp3, Km0, p2u): two-point power law in SIe,
  θ = θ_T2D · (SIe/SIe_T2D)^λθ with λθ = ln(θ_N/θ_T2D)/ln(SIe_N/SIe_T2D).
* Glucose-driven secretion gains (K, β_Y): θ = θ_T2D · F · ρθ^w with ρθ = (θ_N/θ_T2D)/(c_N/c_T2D) (1.54 for K,
  1.46 for β_Y), w the disease weight below and F = f(r) + r_g, where r = β_native·σ/c_T2D and
  r_g = β_graft·σ/c_T2D. f(r) = r at and above the T2D anchor (proportional to capacity, as Ha 2016's
  secretion rate σ·β·H(M(G) + γ) is; both anchors close exactly), r^κ below it (κ = ``CAPACITY_EXPONENT`` 0.35),
  and linear through 0 below ``CAPACITY_FLOOR`` (0.1). Since 2026-12-06 (issue 15, docs/capacity_law.md): with
  the proportional rule, long-duration patients (Riddle 2003 cohort at 0.35 × c_T2D) had meal days +56 mg/dL over
  FPG on oral agents against +31 published, and HbA1c built from their meal days under glargine left 6 % of them
  ≤ 7 % against ~60 % published; a graft adds its own capacity proportionally.
  A therapy multiplying secretion by m (``secretion_mult``)
  therefore multiplies both gains by m (:func:`secretion_gain_multipliers`). Because w is read from
  insulin sensitivity (as for every interpolated constant), a gain in SIe alone raises the gains too,
  modestly (SIe ×1.4 from the T2D anchor: K ×1.10, β_Y ×1.09; none below the T2D anchor's SIe): the
  meal model's secretion follows the disease stage, as β-cell glucose sensitivity improves when insulin
  resistance does (e.g. after weight loss). Pinned in ``tests/test_coupling.py``.
  (Until 2026-11 the gains followed a two-point power law c^κ with κ ≈ 2, fitted through the anchors
  alone. Extrapolated below the T2D anchor it collapsed postprandial secretion: insulin-treated
  patients at 0.43 × the anchor's capacity had 0.2 × its gains, meal-day mean glucose 229 mg/dL at a
  fasting 111 mg/dL (ADAG HbA1c 9.9 % against 6.96 % in Riddle 2003), and a 37 % capacity gain
  nearly doubled the C-peptide response.)
* Every other Table 1 constant (volumes, transfer rates, absorption, hepatic extraction, renal, α_Y):
  log-linear interpolation between the T2D (w = 0) and normal (w = 1) values with
  w = clip(ln(SIe/SIe_T2D)/ln(SIe_N/SIe_T2D), 0, 1) — the disease stage read from insulin resistance.
* Basal state: Gb = progression G; Ib = endogenous progression insulin × INSULIN_PMOL_PER_HA_UNIT plus
  the steady-state plasma insulin of any basal insulin infusion (u2ss) under the patient's kinetics;
  EGPb interpolated (1.99 → 1.92 mg/kg/min) and multiplied by the therapies' ``hgp_mult``. Vm0, kp1,
  m6, Sb follow from :func:`t2dsim.physiology.meal.derive_basal`, so each visit day starts at an exact
  steady state.
* Insulin scale: Ha's model insulin is on a different absolute scale from Dalla Man's plasma insulin;
  the ratio of the two anchors' fasting insulins is 25.59/9.025 = 2.84 (normal) and 59.85/22.10 = 2.71
  (T2D) pmol/L per Ha unit; their geometric mean 2.77 maps one to the other.

Insulin scale of the progression configuration. The t2dsim configuration of the progression model
expresses insulin on an assay-like scale I' = κ·I_Ha with SI' = SI_Ha/κ and V' = V_Ha/κ
(``progression.T2DSIM_INSULIN_SCALE``); κ = 5 L / V is read from the parameters
(:func:`insulin_scale`), and the mapping converts to Ha-equivalent units (SI·κ, I/κ) before using the
anchors, so pure-Ha and t2dsim-configured cohorts couple the same way.

The error of running the meal model only on some days is measured in
``tests/test_coupling.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from t2dsim.core.units import PMOL_PER_U_INSULIN
from t2dsim.physiology.cpeptide import van_cauter_kinetics
from t2dsim.physiology.meal import PARAM_NAMES, MealParams, dallaman_2007, derive_basal

#: Anchor values (see module docstring; recomputed from the models in tests/test_coupling.py).
SI_NORMAL = 0.800  # mL/(µU·day), Ha 2016 initial SI
SI_T2D = 0.1802  # Ha 2016 natural history at G = 159.2 mg/dL (day 1043)
CAPACITY_NORMAL = 1000.423 * 536.67  # β (mg) × σ, Ha 2016 initial conditions
CAPACITY_T2D = 959.26 * 371.65  # Ha 2016 natural history at G = 159.2 mg/dL
INSULIN_PMOL_PER_HA_UNIT = float(np.sqrt((25.59 / 9.025) * (59.85 / 22.099)))

INSULIN_ACTION = ("Vmx", "kp3", "Km0", "p2u")
SECRETION_GAINS = ("K", "beta_Y")
INTERPOLATED = (
    "VG", "k1", "k2", "VI", "m1", "m2", "m4", "m5", "HEb", "kmax", "kmin", "kabs", "f", "b", "d",
    "kp2", "kp4", "ki", "Fsnc", "alpha_Y", "gamma", "ke1", "ke2", "EGPb",
)  # fmt: skip


@dataclass(frozen=True)
class Anchors:
    normal: dict[str, float]
    t2d: dict[str, float]


@lru_cache(maxsize=1)
def anchors() -> Anchors:
    """Dalla Man 2007 normal and T2D subjects' parameters (scalars)."""
    n = dallaman_2007("normal")
    t = dallaman_2007("t2d")
    return Anchors({k: float(n[k][0]) for k in PARAM_NAMES}, {k: float(t[k][0]) for k in PARAM_NAMES})


#: κ of the capacity law below the T2D anchor (dimensionless). Tuned (docs/capacity_law.md, scan 0.2-0.4) so that the
#: Riddle 2003 replication cohort's baseline meal day, on metformin + sulfonylurea before insulin, lies +31 mg/dL over
#: its FPG: Riddle et al., Diabetes Care 34:2508 (2011), six pooled treat-to-target trials, FPG 194 mg/dL at HbA1c
#: 8.7 % (mean glucose through the GMI relation, Bergenstal 2018). Checks, not targets: the week-24 meal days under
#: glargine and the share ≤ 7 % of Riddle 2003 (tests/test_therapies_insulin.py), MOBILE's blinded CGM
#: (tests/test_trial_cgm.py).
CAPACITY_EXPONENT = 0.35
#: Capacity (× the T2D anchor's) below which the gains fall linearly to 0 [D]: keeps C-peptide-negative type 1
#: patients without a stimulated response (CIT-07's < 0.3 ng/mL; tests/test_presets_type1.py), which r**κ alone
#: would give them (r**0.35 is 0.2 at r = 0.01).
CAPACITY_FLOOR = 0.1


def capacity_gain_factor(r: ArrayLike) -> np.ndarray:
    """Secretion-gain factor f(r) of native capacity r = β·σ / c_T2D (dimensionless): r at and above the T2D anchor
    (both anchors close exactly), r**κ between the floor and it, and below the floor linear through 0 (continuous
    at the floor)."""
    r = np.asarray(r, dtype=float)
    lo = CAPACITY_FLOOR
    below = lo**CAPACITY_EXPONENT * r / lo
    return np.where(r >= 1.0, r, np.where(r >= lo, np.maximum(r, lo) ** CAPACITY_EXPONENT, below))


def secretion_gain_multipliers(secretion_mult: ArrayLike) -> dict[str, np.ndarray]:
    """Meal-model gain multipliers (K, β_Y) of a therapy that multiplies secretion by ``secretion_mult``: both gains
    are multiplied by it, as Ha 2016's secretion rate is, whatever the patient's capacity (the capacity law
    :func:`capacity_gain_factor` describes the disease, not the drug)."""
    m = np.maximum(np.asarray(secretion_mult, dtype=float), 0.0)
    return {k: m for k in SECRETION_GAINS}


def disease_weight(si_eff: ArrayLike) -> np.ndarray:
    """w ∈ [0, 1]: 0 at the T2D anchor's insulin sensitivity, 1 at the normal anchor's."""
    s = np.log(np.maximum(np.asarray(si_eff, dtype=float), 1e-9) / SI_T2D) / np.log(SI_NORMAL / SI_T2D)
    return np.clip(s, 0.0, 1.0)


def exogenous_insulin_pmol_l(u2ss_pmol_kg_min: ArrayLike, m1, m2, m4, HEb, VI) -> np.ndarray:  # noqa: N803
    """Steady-state plasma insulin (pmol/L) from a constant subcutaneous infusion u2ss (pmol/kg/min):
    Ip = u/((m2 + m4) − m1·m2/(m1 + m30)), m30 = HEb·m1/(1 − HEb) (Dalla Man insulin kinetics)."""
    m30 = HEb * m1 / (1.0 - HEb)
    return np.asarray(u2ss_pmol_kg_min, dtype=float) / ((m2 + m4) - m1 * m2 / (m1 + m30)) / VI


def basal_insulin_u_per_day_to_pmol_kg_min(dose_u_per_day: ArrayLike, body_weight_kg: ArrayLike) -> np.ndarray:
    """A once-daily basal analogue treated as a flat infusion: U/day → pmol/kg/min (1 U = 6000 pmol)."""
    return np.asarray(dose_u_per_day, dtype=float) * PMOL_PER_U_INSULIN / (1440.0 * np.asarray(body_weight_kg))


HA_VOLUME_L = 5.0  # Ha, Satin & Sherman 2016 human.ode insulin distribution volume V


def insulin_scale(progression_params) -> np.ndarray:  # noqa: ANN001
    """κ of each patient's progression parameters: 1 for pure Ha 2016, T2DSIM_INSULIN_SCALE for t2dsim."""
    return HA_VOLUME_L / np.asarray(progression_params["V"], dtype=float)


def exogenous_insulin_ha_units(
    dose_u_per_day: ArrayLike, body_weight_kg: ArrayLike, insulin_scale: ArrayLike = 1.0
) -> np.ndarray:
    """Plasma insulin added by a basal insulin dose in the progression model's insulin units — the value
    for ``Effects.exog_insulin_uuml`` — using the T2D anchor's insulin kinetics. Pass
    ``insulin_scale=coupling.insulin_scale(params)`` for t2dsim-configured cohorts (κ·Ha units)."""
    a = anchors().t2d
    u = basal_insulin_u_per_day_to_pmol_kg_min(dose_u_per_day, body_weight_kg)
    i_ha = exogenous_insulin_pmol_l(u, a["m1"], a["m2"], a["m4"], a["HEb"], a["VI"]) / INSULIN_PMOL_PER_HA_UNIT
    return i_ha * np.asarray(insulin_scale, dtype=float)


def dose_for_exogenous_insulin(
    exog_insulin: ArrayLike, body_weight_kg: ArrayLike, insulin_scale: ArrayLike = 1.0
) -> np.ndarray:
    """Inverse of :func:`exogenous_insulin_ha_units`: basal insulin dose (U/day) giving that effect."""
    per_unit = exogenous_insulin_ha_units(1.0, body_weight_kg, insulin_scale)
    return np.asarray(exog_insulin, dtype=float) / per_unit


def meal_params_from_progression(
    glucose_mgdl: ArrayLike,
    insulin_endo_ha: ArrayLike,
    si_eff: ArrayLike,
    beta_mass_mg: ArrayLike,
    sigma: ArrayLike,
    *,
    body_weight_kg: ArrayLike,
    age_years: ArrayLike,
    female: ArrayLike,
    height_cm: ArrayLike = 170.0,
    graft_beta_mass_mg: ArrayLike = 0.0,
    hgp_mult: ArrayLike = 1.0,
    modifiers: Mapping[str, ArrayLike] | None = None,
    names: tuple[str, ...] | None = None,
    insulin_scale: ArrayLike = 1.0,
) -> MealParams:
    """Meal-model parameters for each patient on one day, from its progression state.

    Units: glucose mg/dL (fasting-like), insulin in Ha units (× INSULIN_PMOL_PER_HA_UNIT = pmol/L),
    SIe mL/(µU·day), β mg, σ Ha units, body weight kg, age years, height cm. ``modifiers``: therapies'
    meal-model modifiers (multipliers for names in ``therapies.base.MEAL_MULTIPLIERS``, additions for
    ``Sfix`` and ``u2ss`` in pmol/kg/min), already combined. ``insulin_scale``: κ of the progression
    configuration (:func:`insulin_scale`); insulin and SI are converted to Ha-equivalent units first.
    """
    g = np.atleast_1d(np.asarray(glucose_mgdl, dtype=float))
    n = g.shape[0]

    def arr(x: ArrayLike) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), (n,)).astype(float)

    kappa = arr(insulin_scale)
    si = np.maximum(arr(si_eff) * kappa, 1e-6)
    a = anchors()
    w = disease_weight(si)
    vals: dict[str, np.ndarray] = {}
    for k in INTERPOLATED:
        vals[k] = a.t2d[k] * (a.normal[k] / a.t2d[k]) ** w
    for k in INSULIN_ACTION:
        lam = np.log(a.normal[k] / a.t2d[k]) / np.log(SI_NORMAL / SI_T2D)
        vals[k] = a.t2d[k] * (si / SI_T2D) ** lam
    native = np.maximum(arr(beta_mass_mg) * arr(sigma), 0.0) / CAPACITY_T2D
    graft = np.maximum(arr(graft_beta_mass_mg) * arr(sigma), 0.0) / CAPACITY_T2D
    f = capacity_gain_factor(native) + graft
    for k in SECRETION_GAINS:
        rho = (a.normal[k] / a.t2d[k]) / (CAPACITY_NORMAL / CAPACITY_T2D)
        vals[k] = a.t2d[k] * f * rho**w
    vals["BW"] = arr(body_weight_kg)
    for k in ("ka1", "ka2", "kd", "ksc"):
        vals[k] = np.full(n, a.t2d[k])
    vals["Gb"] = g.copy()
    vals["EGPb"] = vals["EGPb"] * arr(hgp_mult)
    vals["u2ss"] = np.zeros(n)
    vals["Sfix"] = np.zeros(n)
    vals["beta_Y_up"] = np.ones(n)
    for name, value in (modifiers or {}).items():
        v = arr(value)
        if name in ("Sfix", "u2ss"):
            vals[name] = vals[name] + v
        elif name in vals:
            vals[name] = vals[name] * v
        else:
            raise ValueError(f"unknown meal modifier {name!r}")
    i_exo = exogenous_insulin_pmol_l(vals["u2ss"], vals["m1"], vals["m2"], vals["m4"], vals["HEb"], vals["VI"])
    vals["Ib"] = np.maximum(arr(insulin_endo_ha) / kappa, 0.0) * INSULIN_PMOL_PER_HA_UNIT + i_exo
    # Glucose-independent secretion cannot exceed the basal secretion it is part of (90 % cap).
    m30 = vals["HEb"] * vals["m1"] / (1 - vals["HEb"])
    ipb = vals["Ib"] * vals["VI"]
    ilb = ((vals["m2"] + vals["m4"]) * ipb - vals["u2ss"]) / vals["m1"]
    s_total = np.maximum((vals["m1"] + m30) * ilb - vals["m2"] * ipb, 0.0)
    vals["Sfix"] = np.minimum(vals["Sfix"], 0.9 * s_total)
    cp = van_cauter_kinetics(
        arr(age_years), np.broadcast_to(np.asarray(female, bool), (n,)), vals["BW"], arr(height_cm), "niddm"
    )
    vals.update(cp_k1=cp.k1, cp_k2=cp.k2, cp_k3=cp.k3, cp_V=cp.volume_l)
    for k in ("Vm0", "kp1", "m6", "Sb", "h"):
        vals[k] = np.zeros(n)
    vals = derive_basal(vals, np.ones(n, dtype=bool))
    names = names or tuple(f"patient{i}" for i in range(n))
    return MealParams({k: vals[k] for k in PARAM_NAMES}, names)
