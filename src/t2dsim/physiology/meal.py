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

import numpy as np
import pandas as pd

from t2dsim.core.units import PMOL_PER_U_INSULIN
from t2dsim.io import read_csv_with_columns
from t2dsim.physiology.cpeptide import van_cauter_kinetics
from t2dsim.physiology.meal_kernel import (  # noqa: F401  (re-exported: the model's names and kernel)
    _T1D_SECRETION_DEFAULTS,
    AUX_NAMES,
    N_AUX,
    N_PARAMS,
    N_STATES,
    NEUTRAL_EXTENSIONS,
    PARAM_NAMES,
    PARAM_UNITS,
    STATE_NAMES,
    P,
    integrate_meal_kernel,
    integrate_patient,
    meal_rhs,
    stable_substeps,
)


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
