"""Minute-scale meal model: Dalla Man, Rizza & Cobelli 2007 with the UVA/Padova subcutaneous parts.

Sources
-------
* C. Dalla Man, R. A. Rizza, C. Cobelli, "Meal simulation model of the glucose-insulin system",
  IEEE Trans Biomed Eng 54(10):1740–1749, 2007 (equations of the glucose, insulin, EGP,
  utilisation, renal, beta-cell secretion subsystems; Table 1 parameters).
* C. Dalla Man, M. Camilleri, C. Cobelli, IEEE TBME 53(12):2472–2478, 2006 (gastric emptying with a
  meal-size-dependent, nonlinear emptying rate kempt).
* Subcutaneous insulin (Isc1, Isc2: ka1, ka2, kd) and subcutaneous glucose (Gs: ksc) as in the
  UVA/Padova T1D simulator (Kovatchev et al., JDST 3:44, 2009) and its open implementation
  simglucose (jxx123/simglucose, MIT; conventions noted in ``docs/meal_model.md``).
* C-peptide: Van Cauter et al. 1992 (see :mod:`t2dsim.physiology.cpeptide`).

The right-hand side is written once, as a Numba function of one patient's state and parameter row,
and driven by the batched integrator in :mod:`t2dsim.solvers`.

States (index: name, unit)::

    0 Qsto1 mg        solid glucose in stomach
    1 Qsto2 mg        liquid (triturated) glucose in stomach
    2 Qgut  mg        glucose in intestine
    3 Gp    mg/kg     plasma and rapidly equilibrating tissue glucose
    4 Gt    mg/kg     slowly equilibrating tissue glucose
    5 Ip    pmol/kg   plasma insulin
    6 X     pmol/L    insulin action on glucose utilisation
    7 I1    pmol/L    delayed insulin signal, first compartment
    8 Id    pmol/L    delayed insulin signal acting on EGP
    9 Il    pmol/kg   liver insulin
    10 Isc1 pmol/kg   subcutaneous insulin, non-monomeric
    11 Isc2 pmol/kg   subcutaneous insulin, monomeric
    12 Gs   mg/kg     subcutaneous glucose (CGM site)
    13 Ipo  pmol/kg   portal vein insulin (secreted)
    14 Y    pmol/kg/min  provisional (second-phase) secretion
    15 CP1  pmol/L    plasma C-peptide
    16 CP2  pmol/L    peripheral C-peptide
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from t2dsim.core.units import PMOL_PER_U_INSULIN
from t2dsim.io import read_csv_with_columns
from t2dsim.physiology.cpeptide import van_cauter_kinetics

STATE_NAMES: tuple[str, ...] = (
    "Qsto1", "Qsto2", "Qgut", "Gp", "Gt", "Ip", "X", "I1", "Id", "Il",
    "Isc1", "Isc2", "Gs", "Ipo", "Y", "CP1", "CP2",
)  # fmt: skip
N_STATES = len(STATE_NAMES)

#: Parameters in the kernel's column order. Units in ``PARAM_UNITS``.
PARAM_NAMES: tuple[str, ...] = (
    "BW", "VG", "k1", "k2", "VI", "m1", "m2", "m4", "m5", "m6", "HEb",
    "kmax", "kmin", "kabs", "f", "b", "d",
    "kp1", "kp2", "kp3", "kp4", "ki", "Fsnc", "Vm0", "Vmx", "Km0", "p2u",
    "K", "alpha_Y", "beta_Y", "gamma", "h", "Sb", "Gb", "Ib", "EGPb",
    "ke1", "ke2", "ka1", "ka2", "kd", "ksc", "u2ss",
    "cp_k1", "cp_k2", "cp_k3", "cp_V", "Sfix", "beta_Y_up",
)  # fmt: skip
N_PARAMS = len(PARAM_NAMES)
P = {name: i for i, name in enumerate(PARAM_NAMES)}

PARAM_UNITS: dict[str, str] = {
    "BW": "kg", "VG": "dL/kg", "k1": "1/min", "k2": "1/min", "VI": "L/kg", "m1": "1/min",
    "m2": "1/min", "m4": "1/min", "m5": "min·kg/pmol", "m6": "-", "HEb": "-", "kmax": "1/min",
    "kmin": "1/min", "kabs": "1/min", "f": "-", "b": "-", "d": "-", "kp1": "mg/kg/min",
    "kp2": "1/min", "kp3": "mg/kg/min per pmol/L", "kp4": "mg/kg/min per pmol/kg", "ki": "1/min",
    "Fsnc": "mg/kg/min", "Vm0": "mg/kg/min", "Vmx": "mg/kg/min per pmol/L", "Km0": "mg/kg",
    "p2u": "1/min", "K": "pmol/kg per mg/dL", "alpha_Y": "1/min", "beta_Y": "pmol/kg/min per mg/dL",
    "gamma": "1/min", "h": "mg/dL", "Sb": "pmol/kg/min", "Gb": "mg/dL", "Ib": "pmol/L",
    "EGPb": "mg/kg/min", "ke1": "1/min", "ke2": "mg/kg", "ka1": "1/min", "ka2": "1/min", "kd": "1/min",
    "ksc": "1/min", "u2ss": "pmol/kg/min", "cp_k1": "1/min", "cp_k2": "1/min", "cp_k3": "1/min",
    "cp_V": "L", "Sfix": "pmol/kg/min", "beta_Y_up": "-",
}  # fmt: skip

# Kernel column indices (module constants, compiled in by Numba).
_BW, _VG, _K1, _K2, _VI, _M1, _M2, _M4, _M5, _M6, _HEB = range(11)
_KMAX, _KMIN, _KABS, _F, _B, _D = range(11, 17)
_KP1, _KP2, _KP3, _KP4, _KI, _FSNC, _VM0, _VMX, _KM0, _P2U = range(17, 27)
_KSEC, _ALPHAY, _BETAY, _GAMMA, _H, _SB, _GB, _IB, _EGPB = range(27, 36)
_KE1, _KE2, _KA1, _KA2, _KD, _KSC, _U2SS = range(36, 43)
_CPK1, _CPK2, _CPK3, _CPV = range(43, 47)
_SFIX = 47  # glucose-independent secretion (sulfonylurea-like), pmol/kg/min; 0 in the paper's model
_BETAYUP = 48  # multiplier of beta_Y while glucose is above threshold (secretagogue amplification); 1 in the paper
assert _BETAYUP == N_PARAMS - 1

#: Parameters t2dsim added to the published model, with the value that gives the published model back;
#: a parameter set that omits them gets these values.
NEUTRAL_EXTENSIONS: dict[str, float] = {"Sfix": 0.0, "beta_Y_up": 1.0}

#: Plasma glucose (mg/dL) below which insulin-independent uptake Fsnc ramps linearly to 0 (see meal_rhs).
G_UII_RAMP_MGDL = 20.0

#: Auxiliary fluxes recorded by the kernel at the start of each step.
AUX_NAMES: tuple[str, ...] = ("ra", "egp", "secretion", "uid", "renal")
N_AUX = len(AUX_NAMES)

# UVA/Padova conventions for T1D rows (no beta-cell secretion): neutral secretion parameters.
_T1D_SECRETION_DEFAULTS = {"K": 0.0, "alpha_Y": 0.05, "beta_Y": 0.0, "gamma": 0.5, "kp4": 0.0, "m5": 0.0}


@numba.njit(cache=True, fastmath=False, inline="always")
def meal_rhs(x, p, cho_mg_per_min, insulin_pmol_kg_min, dbar_mg, dx, aux):
    """Right-hand side of the meal model for one patient (writes ``dx`` and ``aux`` in place).

    x: state (N_STATES,); p: parameter row (N_PARAMS,); cho_mg_per_min: carbohydrate eaten (mg/min);
    insulin_pmol_kg_min: subcutaneous insulin (pmol/kg/min); dbar_mg: meal size for gastric emptying
    (mg; 0 → kempt = kmax). aux receives Ra, EGP, pre-hepatic secretion (mg/kg/min, mg/kg/min,
    pmol/kg/min), Uid and renal excretion (mg/kg/min).
    """
    bw = p[_BW]
    kmax = p[_KMAX]
    qsto = x[0] + x[1]
    if dbar_mg > 0.0:
        aa = 5.0 / (2.0 * dbar_mg * (1.0 - p[_B]))
        cc = 5.0 / (2.0 * dbar_mg * p[_D])
        kempt = p[_KMIN] + (kmax - p[_KMIN]) / 2.0 * (
            np.tanh(aa * (qsto - p[_B] * dbar_mg)) - np.tanh(cc * (qsto - p[_D] * dbar_mg)) + 2.0
        )
    else:
        kempt = kmax
    dx[0] = -kmax * x[0] + cho_mg_per_min
    dx[1] = kmax * x[0] - kempt * x[1]
    dx[2] = kempt * x[1] - p[_KABS] * x[2]
    ra = p[_F] * p[_KABS] * x[2] / bw

    gp = x[3]
    gt = x[4]
    egp = p[_KP1] - p[_KP2] * gp - p[_KP3] * x[8] - p[_KP4] * x[13]
    if egp < 0.0:
        egp = 0.0
    renal = p[_KE1] * (gp - p[_KE2]) if gp > p[_KE2] else 0.0
    # Insulin-dependent utilisation Vm(X) = Vm0 + Vmx·X, floored at 0: with X far below basal (plasma insulin
    # well under Ib) the paper's linear Vm turns negative, i.e. tissues would release glucose
    # (benchmarks/invariants.py; tests/test_invariants.py). Unchanged wherever Vm(X) ≥ 0.
    vm = p[_VM0] + p[_VMX] * x[6]
    if vm < 0.0:
        vm = 0.0
    uid = vm * gt / (p[_KM0] + gt)
    # Insulin-independent (mostly brain) uptake Fsnc, as published above G_UII_RAMP_MGDL; below, where the
    # saturable GLUT1/3 transport cannot take a fixed flux out of a vanishing pool, it falls linearly to 0 at
    # G = 0 (t2dsim assumption): with a constant Fsnc severe hypoglycaemia drove Gp below 0
    # (benchmarks/invariants.py; tests/test_invariants.py).
    uii = p[_FSNC]
    g_ramp = G_UII_RAMP_MGDL * p[_VG]
    if gp < g_ramp:
        uii = uii * gp / g_ramp if gp > 0.0 else 0.0
    dgp = egp + ra - uii - renal - p[_K1] * gp + p[_K2] * gt
    if gp < 0.0:
        dgp = 0.0 if dgp < 0.0 else dgp
    dgt = -uid + p[_K1] * gp - p[_K2] * gt
    if gt < 0.0:
        dgt = 0.0 if dgt < 0.0 else dgt
    dx[3] = dgp
    dx[4] = dgt

    # Beta-cell secretion (Dalla Man 2007): Spo = Y + K·max(dG/dt, 0) + Sb.
    g = gp / p[_VG]
    dgdt = dgp / p[_VG]
    sb = p[_SB]
    spo = x[14] + sb + p[_SFIX]
    if dgdt > 0.0:
        spo += p[_KSEC] * dgdt
    if spo < 0.0:
        spo = 0.0
    s_liver = p[_GAMMA] * x[13]
    dx[13] = -p[_GAMMA] * x[13] + spo
    drive = p[_BETAY] * (g - p[_H])
    if drive > 0.0:
        drive *= p[_BETAYUP]
    if drive >= -sb:
        dx[14] = -p[_ALPHAY] * (x[14] - drive)
    else:
        dx[14] = -p[_ALPHAY] * x[14] - p[_ALPHAY] * sb

    # Insulin kinetics with secretion-dependent hepatic extraction HE = -m5·S + m6 (bounded to [0, 0.95]).
    he = -p[_M5] * s_liver + p[_M6]
    if he < 0.0:
        he = 0.0
    elif he > 0.95:
        he = 0.95
    m3 = he * p[_M1] / (1.0 - he)
    il = x[9]
    ip = x[5]
    dil = -(p[_M1] + m3) * il + p[_M2] * ip + s_liver
    if il < 0.0:
        dil = 0.0 if dil < 0.0 else dil
    dip = -(p[_M2] + p[_M4]) * ip + p[_M1] * il + p[_KA1] * x[10] + p[_KA2] * x[11]
    if ip < 0.0:
        dip = 0.0 if dip < 0.0 else dip
    dx[9] = dil
    dx[5] = dip
    i_plasma = ip / p[_VI]
    dx[6] = -p[_P2U] * x[6] + p[_P2U] * (i_plasma - p[_IB])
    dx[7] = -p[_KI] * (x[7] - i_plasma)
    dx[8] = -p[_KI] * (x[8] - x[7])

    # Subcutaneous insulin (pmol/kg) and glucose (mg/kg).
    disc1 = insulin_pmol_kg_min - (p[_KA1] + p[_KD]) * x[10]
    if x[10] < 0.0:
        disc1 = 0.0 if disc1 < 0.0 else disc1
    disc2 = p[_KD] * x[10] - p[_KA2] * x[11]
    if x[11] < 0.0:
        disc2 = 0.0 if disc2 < 0.0 else disc2
    dx[10] = disc1
    dx[11] = disc2
    dx[12] = -p[_KSC] * x[12] + p[_KSC] * gp

    # C-peptide (Van Cauter 1992), secreted equimolar with insulin: ISR = Spo·BW pmol/min.
    dx[15] = -(p[_CPK1] + p[_CPK3]) * x[15] + p[_CPK2] * x[16] + spo * bw / p[_CPV]
    dx[16] = p[_CPK1] * x[15] - p[_CPK2] * x[16]

    aux[0] = ra
    aux[1] = egp
    aux[2] = spo
    aux[3] = uid
    aux[4] = renal


# fastmath flags: FMA contraction, reciprocal division and no signed zeros only (no nnan/ninf, so invalid values
# still propagate); results move by ~1e-13 relative from plain IEEE evaluation (float round-off). error_model
# "numpy": divisions are not guarded by ZeroDivisionError checks (the parallel kernel's own model).
@numba.njit(cache=True, fastmath={"contract", "arcp", "nsz"}, error_model="numpy")
def integrate_patient(x0, p, cho_mg, ins_pmol_kg, n_sub0, rec_idx, rec_states, rec_aux, x_final):
    """Fixed-step RK4 of one patient over all minutes with ``n_sub0`` steps per minute (serial; the
    per-patient body of :func:`integrate_meal_kernel`, which passes that patient's rows: x0 (N_STATES,),
    p (N_PARAMS,), cho_mg and ins_pmol_kg (T,), rec_states (T + 1, n_rec), rec_aux (T + 1, N_AUX),
    x_final (N_STATES,))."""
    n_min = cho_mg.shape[0]
    x = x0.copy()
    k1 = np.empty(N_STATES)
    k2 = np.empty(N_STATES)
    k3 = np.empty(N_STATES)
    k4 = np.empty(N_STATES)
    xt = np.empty(N_STATES)
    aux_tmp = np.empty(N_AUX)
    ks = (k1, k2, k3, k4)
    # Vmx·X above which the tissue-glucose rate (Vm0 + Vmx·X)/Km0 + k2 exceeds RK4_STABLE_LAMBDA_H·n_sub0
    vmx_x_max = (RK4_STABLE_LAMBDA_H * n_sub0 - p[_K2]) * p[_KM0] - p[_VM0]
    meal_q0 = 0.0
    eaten = 0.0
    prev_cho = 0.0
    # One call site of the (Numba-IR-inlined) right-hand side, reached by the four RK4 stages of every
    # sub-step and, at t = n_min, once more for the fluxes at the final time: one inlined copy instead of
    # five keeps the cold compile short. Same operations in the same order as four explicit stages.
    for t in range(n_min + 1):
        last = t == n_min
        if last:
            d = cho_mg[n_min - 1] if n_min > 0 else 0.0
            u = ins_pmol_kg[n_min - 1] if n_min > 0 else 0.0
        else:
            d = cho_mg[t]
            u = ins_pmol_kg[t]
            if d > 0.0 and prev_cho <= 0.0:
                meal_q0 = x[0] + x[1]
                eaten = 0.0
            if d > 0.0:
                eaten += d
            prev_cho = d
        dbar = meal_q0 + eaten
        # Tissue glucose decays at up to (Vm0 + Vmx·X)/Km0 + k2 per minute; a massive insulin dose makes this
        # stiff (X ~ 1e4 pmol/L), so the minute gets more sub-steps (never for the published subjects' days).
        n_sub = n_sub0
        if p[_VMX] * x[6] > vmx_x_max:  # i.e. lam_g > RK4_STABLE_LAMBDA_H·n_sub0 (no division per minute)
            lam_g = (p[_VM0] + p[_VMX] * x[6]) / p[_KM0] + p[_K2]
            n_sub = max(n_sub0, int(np.ceil(lam_g / RK4_STABLE_LAMBDA_H)))
        h = 1.0 / n_sub
        for s in range(n_sub):
            for stage in range(4):
                if stage == 0:
                    for j in range(N_STATES):
                        xt[j] = x[j]
                elif stage == 3:
                    for j in range(N_STATES):
                        xt[j] = x[j] + h * k3[j]
                else:
                    kprev = ks[stage - 1]
                    for j in range(N_STATES):
                        xt[j] = x[j] + 0.5 * h * kprev[j]
                meal_rhs(xt, p, d, u, dbar, ks[stage], aux_tmp)
                if s == 0 and stage == 0:
                    for a in range(N_AUX):
                        rec_aux[t, a] = aux_tmp[a]
                    if last:
                        break
            if last:
                break
            for j in range(N_STATES):
                x[j] += h / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
        if not last:
            for r in range(rec_idx.shape[0]):
                rec_states[t + 1, r] = x[rec_idx[r]]
    for j in range(N_STATES):
        x_final[j] = x[j]


@numba.njit(cache=True, parallel=True)
def integrate_meal_kernel(x0, params, cho_mg, ins_pmol_kg, substeps, rec_idx, rec_states, rec_aux, x_final):
    """Batched fixed-step RK4 over all patients (prange); see :func:`t2dsim.solvers.integrate_meal`.

    The parallel loop only calls the serial per-patient integrator :func:`integrate_patient` (not inlined
    into it), which holds a single call site of the Numba-IR-inlined :func:`meal_rhs`. Numba's parallel passes
    then analyse a one-line loop body instead of five inlined copies of the right-hand side: the cold compile
    of this kernel fell from ~37 s to ~2.5 s (benchmarks/cold_start.py) at the same speed per patient-day
    (benchmarks/meal_throughput.py).
    """
    for i in numba.prange(x0.shape[0]):
        integrate_patient(
            x0[i], params[i], cho_mg[i], ins_pmol_kg[i], substeps[i], rec_idx, rec_states[i], rec_aux[i], x_final[i]
        )


#: Largest |λ|·h for which classical RK4 is used without extra sub-steps (its real-axis limit is 2.785).
RK4_STABLE_LAMBDA_H = 2.5


def stable_substeps(params: np.ndarray) -> np.ndarray:
    """Per-patient RK4 sub-steps per minute that keep the stiffest linear block of the model stable.

    The stiffest block is liver/plasma insulin (Il, Ip) with hepatic extraction HE at its highest reachable
    value, min(0.95, m6) (HE = m6 − m5·S and S ≥ 0): rates a = m1 + m3, m3 = HE·m1/(1 − HE), d = m2 + m4,
    largest eigenvalue (a + d + √((a + d)² − 4(a·d − m1·m2)))/2 (1/min). Returns ceil(λ/2.5) ≥ 1 for each row
    of the (n, N_PARAMS) matrix. 1 for the Dalla Man normal and T2D subjects (λ ≈ 0.9 and 2.2/min); parameter
    sets with m6 ≥ 0.95 (HE reaching its cap when secretion stops) need 2–6 (benchmarks/invariants.py).
    Depends only on the patient's own parameters, so results do not depend on batching.
    """
    p = np.asarray(params, dtype=np.float64)
    he = np.clip(p[:, _M6], 0.0, 0.95)
    m1 = p[:, _M1]
    a = m1 + he * m1 / (1.0 - he)
    d = p[:, _M2] + p[:, _M4]
    tr = a + d
    lam = 0.5 * (tr + np.sqrt(np.maximum(tr * tr - 4.0 * (a * d - m1 * p[:, _M2]), 0.0)))
    return np.maximum(1, np.ceil(lam / RK4_STABLE_LAMBDA_H)).astype(np.int64)


@dataclass
class MealParams:
    """Per-patient parameters of the meal model.

    ``values`` maps each name of :data:`PARAM_NAMES` to a float64 array of shape (n_patients,);
    ``names`` labels the patients. Units in :data:`PARAM_UNITS`.
    """

    values: dict[str, np.ndarray]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        self.values = dict(self.values)  # never modify the caller's mapping
        for k, neutral in NEUTRAL_EXTENSIONS.items():
            if k not in self.values:
                self.values[k] = np.full(len(self.names), neutral)
        missing = [k for k in PARAM_NAMES if k not in self.values]
        if missing:
            raise ValueError(f"meal parameters missing: {', '.join(missing)}")
        n = len(self.names)
        for k in PARAM_NAMES:
            arr = np.asarray(self.values[k], dtype=np.float64).reshape(-1)
            if arr.shape[0] == 1 and n != 1:
                arr = np.full(n, arr[0])
            if arr.shape[0] != n:
                raise ValueError(f"parameter {k!r} has {arr.shape[0]} values for {n} patients")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"parameter {k!r} has non-finite values")
            self.values[k] = arr

    @property
    def n(self) -> int:
        """Number of patients."""
        return len(self.names)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def to_matrix(self) -> np.ndarray:
        """C-contiguous (n_patients, N_PARAMS) float64 matrix in kernel column order."""
        return np.ascontiguousarray(np.column_stack([self.values[k] for k in PARAM_NAMES]))

    def replace(self, **updates: np.ndarray | float) -> MealParams:
        """Copy with some parameters replaced (scalars broadcast)."""
        vals = {k: v.copy() for k, v in self.values.items()}
        for k, v in updates.items():
            if k not in P:
                raise KeyError(f"unknown meal parameter {k!r}")
            vals[k] = np.broadcast_to(np.asarray(v, dtype=np.float64), (self.n,)).copy()
        return MealParams(vals, self.names)

    def select(self, idx: Iterable[int] | np.ndarray) -> MealParams:
        """Subset of patients by position."""
        idx = np.asarray(list(idx) if not isinstance(idx, np.ndarray) else idx)
        return MealParams({k: v[idx].copy() for k, v in self.values.items()}, tuple(np.asarray(self.names)[idx]))

    @staticmethod
    def concat(parts: Iterable[MealParams]) -> MealParams:
        parts = list(parts)
        return MealParams(
            {k: np.concatenate([p.values[k] for p in parts]) for k in PARAM_NAMES},
            tuple(n for p in parts for n in p.names),
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: self.values[k] for k in PARAM_NAMES}, index=pd.Index(self.names, name="Name"))

    @property
    def basal_insulin_u_per_min(self) -> np.ndarray:
        """Exogenous basal insulin holding the basal steady state, U/min (u2ss·BW/6000)."""
        return self.values["u2ss"] * self.values["BW"] / PMOL_PER_U_INSULIN


def with_basal_glucose(params: MealParams, gb_mgdl: np.ndarray) -> MealParams:
    """``params`` with each patient's basal glucose set to ``gb_mgdl`` (mg/dL) and the basal relations
    re-derived (:func:`derive_basal`) at the same basal insulin and hepatic output EGPb: insulin-independent
    uptake Vm0, kp1 and the secretion threshold h (= Gb) move with it, so the set is a steady state at the
    new glucose. Used for day-to-day variability of fasting glucose."""
    vals = dict(params.values)
    vals["Gb"] = np.asarray(gb_mgdl, dtype=np.float64).reshape(-1).copy()
    secreting = (vals["Sb"] + vals["Sfix"]) > 0.0
    vals = derive_basal(vals, secreting)
    return MealParams({k: vals[k] for k in PARAM_NAMES}, params.names)


def derive_basal(values: Mapping[str, np.ndarray], secreting: np.ndarray) -> dict[str, np.ndarray]:
    """Complete a parameter set so that (Gb, Ib, EGPb, u2ss) is an exact steady state.

    Dalla Man 2007 §II basal relations: Gpb = Gb·VG; Gtb from dGp/dt = 0; Vm0 from dGt/dt = 0;
    insulin: Ipb = Ib·VI, Ilb from dIp/dt = 0 (with exogenous basal flux u2ss), Sb from dIl/dt = 0 with
    m3b = HEb·m1/(1 − HEb), m6 = HEb + m5·Sb; kp1 = EGPb + kp2·Gpb + kp3·Ib + kp4·Ipob; h = Gb.
    For non-secreting (T1D) patients Sb = 0 and Ib follows from u2ss (UVA/Padova convention).
    """
    v = {k: np.asarray(val, dtype=np.float64).copy() for k, val in values.items()}
    sec = np.asarray(secreting, dtype=bool)
    gpb = v["Gb"] * v["VG"]
    renal_b = np.where(gpb > v["ke2"], v["ke1"] * (gpb - v["ke2"]), 0.0)
    gtb = (v["Fsnc"] + renal_b - v["EGPb"] + v["k1"] * gpb) / v["k2"]
    if np.any(gtb <= 0):
        bad = np.nonzero(gtb <= 0)[0].tolist()
        raise ValueError(f"basal state infeasible (tissue glucose ≤ 0) for patient rows {bad}: check Gb, EGPb, k1, k2")
    uidb = v["EGPb"] - v["Fsnc"] - renal_b
    if np.any(uidb <= 0):
        raise ValueError("basal state infeasible: EGPb must exceed Fsnc (insulin-independent use) plus renal loss")
    v["Vm0"] = uidb * (v["Km0"] + gtb) / gtb
    m30 = v["HEb"] * v["m1"] / (1.0 - v["HEb"])
    u = v["u2ss"]
    # T1D: plasma insulin set by the exogenous basal flux alone.
    ipb_t1d = u / ((v["m2"] + v["m4"]) - v["m1"] * v["m2"] / (v["m1"] + m30))
    ipb = np.where(sec, v["Ib"] * v["VI"], ipb_t1d)
    v["Ib"] = ipb / v["VI"]
    ilb = ((v["m2"] + v["m4"]) * ipb - u) / v["m1"]
    if "beta_Y_up" not in v:
        v["beta_Y_up"] = np.full(u.shape, NEUTRAL_EXTENSIONS["beta_Y_up"])
    sfix = v.get("Sfix", np.zeros_like(u))
    v["Sfix"] = np.broadcast_to(sfix, u.shape).astype(np.float64).copy()
    s_total = np.where(sec, (v["m1"] + m30) * ilb - v["m2"] * ipb, 0.0)
    if np.any(s_total < -1e-9):
        raise ValueError("basal state infeasible: exogenous basal insulin exceeds the insulin needed for Ib")
    s_total = np.maximum(s_total, 0.0)
    if np.any(v["Sfix"] > s_total + 1e-12):
        raise ValueError("basal state infeasible: glucose-independent secretion Sfix exceeds total basal secretion")
    v["Sb"] = s_total - v["Sfix"]
    v["m6"] = v["HEb"] + v["m5"] * s_total
    ipob = s_total / v["gamma"]
    v["kp1"] = v["EGPb"] + v["kp2"] * gpb + v["kp3"] * v["Ib"] + v["kp4"] * ipob
    v["h"] = v["Gb"].copy()
    return v


def basal_state(params: MealParams) -> np.ndarray:
    """Steady state (n_patients, N_STATES) under basal inputs (no meal, insulin u2ss).

    Exact for parameters completed by :func:`derive_basal`.
    """
    v = params.values
    n = params.n
    x = np.zeros((n, N_STATES))
    gpb = v["Gb"] * v["VG"]
    renal_b = np.where(gpb > v["ke2"], v["ke1"] * (gpb - v["ke2"]), 0.0)
    x[:, 3] = gpb
    x[:, 4] = (v["Fsnc"] + renal_b - v["EGPb"] + v["k1"] * gpb) / v["k2"]
    ipb = v["Ib"] * v["VI"]
    x[:, 5] = ipb
    x[:, 7] = v["Ib"]
    x[:, 8] = v["Ib"]
    x[:, 9] = ((v["m2"] + v["m4"]) * ipb - v["u2ss"]) / v["m1"]
    x[:, 10] = v["u2ss"] / (v["ka1"] + v["kd"])
    x[:, 11] = v["kd"] * x[:, 10] / v["ka2"]
    x[:, 12] = gpb
    s_total = v["Sb"] + v["Sfix"]
    x[:, 13] = s_total / v["gamma"]
    x[:, 15] = s_total * v["BW"] / (v["cp_k3"] * v["cp_V"])
    x[:, 16] = v["cp_k1"] / v["cp_k2"] * x[:, 15]
    return x


# ----------------------------------------------------------------------------------------------
# Parameter sets
# ----------------------------------------------------------------------------------------------

_DALLAMAN_FILE = "dallaman2007.csv"
_BASAL_FILE = "dallaman2007_subjects.csv"


def _read_param_table(name: str) -> pd.DataFrame:
    with resources.files("t2dsim.physiology.parameters").joinpath(name).open("r") as fh:
        return pd.read_csv(fh, comment="#")


def dallaman_table() -> pd.DataFrame:
    """Dalla Man 2007 Table 1 as a DataFrame (columns name, normal, t2d, unit, source, tag)."""
    return _read_param_table(_DALLAMAN_FILE)


def dallaman_2007(subject: str = "t2d", n: int = 1) -> MealParams:
    """The paper's mean normal (``"normal"``) or type 2 diabetic (``"t2d"``) subject.

    Table 1 gives the rate constants; the subject's basal glucose, insulin, EGP, body weight and
    the demographic inputs of the C-peptide model are in ``dallaman2007_subjects.csv`` (values and
    sources there). Vm0, kp1, m6, Sb and h are re-derived so the basal state is exact.
    """
    if subject not in ("normal", "t2d"):
        raise ValueError(f"subject must be 'normal' or 't2d', got {subject!r}")
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    tab = dallaman_table().set_index("name")[subject]
    subj = _read_param_table(_BASAL_FILE).set_index("name")[subject]
    vals: dict[str, np.ndarray] = {}
    for k in PARAM_NAMES:
        if k in tab.index:
            vals[k] = np.full(n, float(tab[k]))
        elif k in subj.index:
            vals[k] = np.full(n, float(subj[k]))
    # Placeholders completed by derive_basal.
    for k in ("Vm0", "kp1", "m6", "Sb", "h"):
        vals[k] = np.zeros(n)
    vals["u2ss"] = np.zeros(n)
    cp = van_cauter_kinetics(
        np.full(n, float(subj["age_years"])),
        np.full(n, bool(subj["female"])),
        np.full(n, float(subj["BW"])),
        np.full(n, float(subj["height_cm"])),
        group="normal" if subject == "normal" else "niddm",
    )
    vals.update(cp_k1=cp.k1, cp_k2=cp.k2, cp_k3=cp.k3, cp_V=cp.volume_l)
    vals = derive_basal(vals, np.ones(n, dtype=bool))
    names = tuple(f"{subject}-mean" if n == 1 else f"{subject}-mean#{i + 1:03d}" for i in range(n))
    return MealParams({k: vals[k] for k in PARAM_NAMES}, names)


#: Columns required in a UVA/Padova (simglucose ``vpatient_params.csv``) parameter file.
UVA_REQUIRED_COLUMNS: tuple[str, ...] = (
    "Name", "BW", "EGPb", "Gb", "Ib", "kabs", "kmax", "kmin", "b", "d", "Vg", "Vi", "Vmx", "Km0",
    "k2", "k1", "p2u", "m1", "m2", "m4", "HEb", "ki", "kp2", "kp3", "f", "ke1", "ke2", "Fsnc",
    "kd", "ksc", "ka1", "ka2", "u2ss",
)  # fmt: skip


def read_uvapadova_table(path: str | Path) -> pd.DataFrame:
    """Read and check a UVA/Padova parameter file (simglucose ``vpatient_params.csv`` layout)."""
    return read_csv_with_columns(path, UVA_REQUIRED_COLUMNS, "parameter file")


def from_uvapadova(table: pd.DataFrame, names: Iterable[str] | None = None) -> MealParams:
    """UVA/Padova T1D virtual patients (no endogenous secretion) from a simglucose-layout table.

    Column mapping: ``Vg``→VG, ``Vi``→VI; m5 = 0 and m6 = HEb so hepatic extraction is the constant
    m30 = HEb·m1/(1 − HEb) of the T1D simulator; kp4 = K = beta_Y = Sb = 0 (no secretion). The file's
    m2, m4, Vm0, kp1 are re-derived or taken as given (m2, m4 as given).
    """
    df = table
    if names is not None:
        names = list(names)
        unknown = [nm for nm in names if nm not in set(df["Name"])]
        if unknown:
            raise ValueError(
                f"patient(s) {unknown} not in the parameter file's Name column "
                f"(available: {', '.join(map(str, df['Name'].tolist()[:12]))}...)"
            )
        df = df.set_index("Name").loc[names].reset_index()
    n = len(df)
    if n == 0:
        raise ValueError("parameter file has no patients")
    numeric = [c for c in UVA_REQUIRED_COLUMNS if c != "Name"]
    bad = [c for c in numeric if not np.issubdtype(df[c].dtype, np.number) or not np.all(np.isfinite(df[c]))]
    if bad:
        raise ValueError(f"parameter file column(s) {', '.join(bad)} must be finite numbers")
    rename = {"Vg": "VG", "Vi": "VI"}
    vals: dict[str, np.ndarray] = {}
    for c in numeric:
        vals[rename.get(c, c)] = df[c].to_numpy(dtype=np.float64)
    for k, v in _T1D_SECRETION_DEFAULTS.items():
        vals[k] = np.full(n, v)
    vals["m6"] = vals["HEb"].copy()
    for k in ("Vm0", "kp1", "Sb", "h"):
        vals[k] = np.zeros(n)
    # C-peptide kinetics are irrelevant without secretion; population adult defaults keep them finite.
    cp = van_cauter_kinetics(np.full(n, 40.0), np.zeros(n, dtype=bool), vals["BW"], np.full(n, 170.0), "normal")
    vals.update(cp_k1=cp.k1, cp_k2=cp.k2, cp_k3=cp.k3, cp_V=cp.volume_l)
    vals = derive_basal(vals, np.zeros(n, dtype=bool))
    return MealParams({k: vals[k] for k in PARAM_NAMES}, tuple(df["Name"].astype(str)))
