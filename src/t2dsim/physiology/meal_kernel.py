"""The minute-scale meal model's state and parameter layout and its Numba kernel: the right-hand side
(Dalla Man 2007 / UVA-Padova with the t2dsim extensions) and the batched RK4 integrator that calls it.

The integrator sits in this file beside the right-hand side it inlines, so Numba's file-keyed disk cache
never runs a stale right-hand side. :mod:`t2dsim.physiology.meal` holds the parameters (:class:`MealParams`),
the basal steady state and the published parameter tables; units are listed there.
"""

from __future__ import annotations

import numba
import numpy as np

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
