"""Parameters, state and therapy effects of the years-scale progression model (Ha, Satin & Sherman 2016 +
the t2dsim extension): names, defaults with their sources, the calibration, the column indices the Numba
kernel in :mod:`t2dsim.physiology.progression` reads, and the initial states."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from t2dsim.physiology import glycation

HA_PARAM_NAMES: tuple[str, ...] = (
    "R0", "EG0", "k", "V", "Mmax", "alphaM", "kM", "alphaISR", "kISR", "Pmax", "alphaP", "kP",
    "Amax", "alphaA", "kA", "Ab", "tau_beta", "Gbar", "Gs", "Gn", "Gshft", "tau_gamma", "Gsh_sigma",
    "ISRI_bar", "sISRI", "nISRI", "kISRI", "MI_bar", "kMI", "sMI", "nMI", "sigma_b", "tau_sigma",
    "tSI", "SI_target",
)  # fmt: skip

#: t2dsim extension parameters: name → (default, unit, source). Defaults give the pure Ha model
#: except where the value only feeds an output (HbA1c kinetics, fasting→mean glucose line).
EXTENSION_DEFAULTS: dict[str, tuple[float, str, str]] = {
    "bmi_ref": (25.0, "kg/m2", "reference BMI at which the obesity multipliers are 1 (WHO overweight cut-off)"),
    "si_bmi_elasticity": (
        0.0,
        "dimensionless",
        "b in SI ∝ BMI^-b; 0 = pure Ha. t2dsim value 3 (T2DSIM_CALIBRATION): NHANES III HOMA-IR "
        "quartiles vs mean BMI (Ausk et al., Diabetes Care 2010, doi 10.2337/dc09-2110, Table 1: "
        "BMI 22.6 → 31.1 across HOMA-IR ≤1.4 → >2.8, elasticity ≈ 4 cross-sectionally) and Vitola et al. Obesity "
        "(PMC2834223): 8.2 % weight loss → +56 % hepatic SI (elasticity ≈ 5); 3 chosen as a "
        "conservative round value, range 2-5",
    ),
    "infl_fraction": (
        0.3,
        "dimensionless",
        "f: share of the obesity effect on SI carried by the slow inflammation index (hypothesis; "
        "Reyes et al. Nutr J 10:4, 2011: hs-CRP mediates adiposity→HOMA-IR; Magkos et al. Cell Metab "
        "23:591, 2016: 5 % weight loss raised SI with no change in inflammatory markers → a direct "
        "part must exist)",
    ),
    "tau_infl": (
        180.0,
        "day",
        "relaxation time of the inflammation index (hypothesis; DPP Research Group, Diabetes "
        "54(5), 2005: CRP −33 % (men) after 1 y of lifestyle weight loss, i.e. months-scale)",
    ),
    "infl_offset": (0.0, "dimensionless", "patient-specific inflammation not explained by BMI (Φ0)"),
    "si_age_per_year": (
        0.0,
        "1/year",
        "a_age; 0 = pure Ha. t2dsim value 0.0026/y: EGIR (Ferrannini et al., Diabetes 45:947, 1996) "
        "clamp M fell 0.9 µmol/min/kg per decade (of ~35), not significant after BMI adjustment → "
        "an upper bound",
    ),
    "age_ref": (50.0, "year", "reference age of the age multiplier"),
    "beta_cap_mg": (
        1e12,
        "mg",
        "crowding limit of β-cell proliferation, P·max(0, 1 − β/β_cap); 1e12 = pure Ha (no limit). Adult "
        "human β-cell mass expands little (Butler et al., Diabetes 52:102, 2003, from memory, "
        "unverified: +50 % relative β-cell volume in obese non-diabetic vs lean); t2dsim value in "
        "T2DSIM_CALIBRATION",
    ),
    "fpg_mean_slope": (glycation.FPG_TO_MEAN_SLOPE, "dimensionless", "Wei, Zheng & Nathan 2014 / ADAG fit"),
    "fpg_mean_intercept": (glycation.FPG_TO_MEAN_INTERCEPT_MGDL, "mg/dL", "Wei, Zheng & Nathan 2014 / ADAG fit"),
    "tau_hba1c": (float(glycation.HBA1C_TAU_DAYS), "day", "Tahara & Shima 1995: 30-day half-life"),
    "insulin_mean_fraction": (
        1.0,
        "dimensionless",
        "φ: share of the fasting-glucose lowering by exogenous (basal) insulin that carries over to the "
        "glucose driving HbA1c; 1 = pure (HbA1c follows fasting glucose through the Wei line). Basal insulin "
        "lowers fasting more than postprandial glucose: the Wei line is evaluated at G0 − φ·(G0 − G), G0 the "
        "fasting glucose the same day without exogenous insulin. t2dsim value 0.6 (T2DSIM_CALIBRATION)",
    ),
}
EXT_PARAM_NAMES: tuple[str, ...] = tuple(EXTENSION_DEFAULTS)
PARAM_NAMES: tuple[str, ...] = HA_PARAM_NAMES + EXT_PARAM_NAMES
_P = {name: j for j, name in enumerate(PARAM_NAMES)}

# Column indices of PARAM_NAMES (compile-time constants for the Numba kernel).
_I_R0 = 0
_I_EG0 = 1
_I_k = 2
_I_V = 3
_I_Mmax = 4
_I_alphaM = 5
_I_kM = 6
_I_alphaISR = 7
_I_kISR = 8
_I_Pmax = 9
_I_alphaP = 10
_I_kP = 11
_I_Amax = 12
_I_alphaA = 13
_I_kA = 14
_I_Ab = 15
_I_tau_beta = 16
_I_Gbar = 17
_I_Gs = 18
_I_Gn = 19
_I_Gshft = 20
_I_tau_gamma = 21
_I_Gsh_sigma = 22
_I_ISRI_bar = 23
_I_sISRI = 24
_I_nISRI = 25
_I_kISRI = 26
_I_MI_bar = 27
_I_kMI = 28
_I_sMI = 29
_I_nMI = 30
_I_sigma_b = 31
_I_tau_sigma = 32
_I_tSI = 33
_I_SI_target = 34
_I_bmi_ref = 35
_I_si_bmi_elasticity = 36
_I_infl_fraction = 37
_I_tau_infl = 38
_I_infl_offset = 39
_I_si_age_per_year = 40
_I_age_ref = 41
_I_beta_cap_mg = 42
_I_fpg_mean_slope = 43
_I_fpg_mean_intercept = 44
_I_tau_hba1c = 45
_I_insulin_mean_fraction = 46
assert all(PARAM_NAMES[v] == k[3:] for k, v in dict(globals()).items() if k.startswith("_I_"))

#: Changes from pure Ha 2016 used by the t2dsim cohorts (name → (value, source)); see
#: docs/progression.md "Calibration". Pure Ha cannot produce a UKPDS-like course: (i) β-cell mass
#: compensates any slow fall of SI at G ≈ 100 mg/dL (mass grows without bound, HOMA-%B > 300 %),
#: and (ii) the glucotoxic σ switch (nMI = 0.02, threshold G ≈ 142 mg/dL) collapses σ within months
#: once fasting-like G exceeds ~145 mg/dL, so a cohort with median FPG 8.2 mmol/L (UKPDS 16) would
#: decompensate within 1–2 years instead of drifting +0.26 mmol/L/y. The four structural changes below
#: were set by hand against the UKPDS 16 diet-arm drift (HbA1c +0.24 %-points/y, FPG +0.26 mmol/L/y,
#: HOMA-%B 50 → 28 % over 6 y); they are calibrations, not independent estimates.
T2DSIM_CALIBRATION: dict[str, tuple[float, str]] = {
    "si_bmi_elasticity": (3.0, "see EXTENSION_DEFAULTS"),
    "si_age_per_year": (0.0026, "see EXTENSION_DEFAULTS"),
    "beta_cap_mg": (2000.0, "≈2× the Ha healthy mass (1000 mg); Butler 2003 (+50 % in obesity); calibrated"),
    "Gsh_sigma": (200.0, "σ glucotoxic switch moved to G ≈ 260 mg/dL (Ha human 75 → ≈142); calibrated"),
    "nMI": (0.04, "switch width doubled (Ha human 0.02); calibrated"),
    "tau_beta": (25710.0, "2 × Ha human 8570 d: slower β-mass turnover; calibrated to UKPDS 16 drift"),
    # insulin scale: I' = κ·I, SI' = SI/κ, V' = V/κ leaves the Ha dynamics unchanged and expresses
    # insulin in assay-like µU/mL. κ = 0.4618 is fixed by the Dalla Man 2007 anchors of the meal-model
    # coupling (physiology/coupling.py): fasting insulin 25.59 pmol/L (normal) and 59.85 pmol/L (T2D) against
    # Ha's 9.025 and 22.10 units at the same glucose give 2.771 pmol/L per Ha unit = 0.4618 µU/mL, so the
    # progression model's µU/mL × 6 equals the meal model's plasma insulin. It gives the newly-diagnosed
    # cohort a median HOMA1-%B of ≈ 45 % and HOMA1-IR ≈ 3.5 at diagnosis (UKPDS: ~50 % of β-cell function
    # left at diagnosis, secondary); Ha's own scale gives ≈ 20 µU/mL at FPG 8 mmol/L (HOMA-IR ≈ 7).
    "V": (5.0 / 0.4618, "Ha V = 5 divided by the insulin scale κ = 0.4618 (meal-model anchors, see above)"),
    # Riddle et al., Diabetes Care 26:3080 (2003), abstract (read): after 24 weeks of titrated basal insulin,
    # FPG 117 mg/dL with HbA1c 6.96 % (ADAG mean 153 mg/dL), i.e. mean glucose 34 mg/dL above what the
    # Wei 2014 fasting line gives at FPG 117. With the model's untreated FPG of such patients (~185–200
    # mg/dL), φ = (G0 − Wei⁻¹(153))/(G0 − 117) ≈ 0.55–0.65; 0.6 is used (a calibration on one trial).
    "insulin_mean_fraction": (0.6, "calibrated to Riddle 2003 endpoint FPG/HbA1c (see comment)"),
}
#: Bounds (%) of the HbA1c the glycation kinetics relax to. The ADAG line (Nathan et al. 2008, fitted over
#: HbA1c ≈ 5–13 %) extrapolated gave 1.4 % at the fasting glucose of 2 mg/dL and 37 % at 900 mg/dL that extreme
#: random physiology and therapy reached (benchmarks/invariants.py); measured HbA1c stays within ≈ 4–20 %. The
#: target is clamped there (FPG ≈ 72 and ≈ 472 mg/dL on the Wei line), unchanged in between.
HBA1C_FLOOR_PCT = 4.0
HBA1C_CEIL_PCT = 20.0
#: Insulin scale κ of the t2dsim configuration (see T2DSIM_CALIBRATION["V"]): µU/mL per Ha insulin unit.
T2DSIM_INSULIN_SCALE = 0.4618

EFFECT_NAMES: tuple[str, ...] = (
    "si_mult", "hgp_mult", "secretion_mult", "glucose_loss_per_day", "exog_insulin_uuml",
    "graft_beta_mass_mg", "inflammation_mult", "beta_protect",
)  # fmt: skip
_EFFECT_NEUTRAL = (1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
#: Neutral value of each therapy effect (no therapy), by name.
NEUTRAL_EFFECTS: dict[str, float] = dict(zip(EFFECT_NAMES, _EFFECT_NEUTRAL, strict=True))
_EFFECT_RANGES = {
    "si_mult": (0.0, 20.0),
    "hgp_mult": (0.0, 5.0),
    "secretion_mult": (0.0, 20.0),
    "glucose_loss_per_day": (0.0, 50.0),
    "exog_insulin_uuml": (0.0, 1000.0),
    "graft_beta_mass_mg": (0.0, 1e5),
    "inflammation_mult": (0.0, 20.0),
    "beta_protect": (0.0, 1.0),
}

STATE_NAMES: tuple[str, ...] = (
    "glucose_mgdl", "insulin_uuml", "beta_mass_mg", "gamma", "sigma", "si_state", "inflammation", "hba1c_pct",
)  # fmt: skip
OUTPUT_NAMES: tuple[str, ...] = (
    "glucose_mgdl",  # fasting-like G (mg/dL)
    "insulin_endo_uuml",  # endogenous insulin (µU/mL)
    "insulin_total_uuml",  # endogenous + exogenous (what an assay would read, µU/mL)
    "beta_mass_mg",
    "sigma",  # β-cell function (secretory capacity per mass, Ha units)
    "gamma",
    "si_state",  # intrinsic insulin sensitivity state, mL/(µU·day)
    "si_eff",  # effective insulin sensitivity acting on glucose, mL/(µU·day)
    "inflammation",
    "hba1c_pct",
)


# --------------------------------------------------------------------------------------------------
# Parameters, effects, state
# --------------------------------------------------------------------------------------------------


def ha2016_table() -> pd.DataFrame:
    """The Ha 2016 human parameter table (name, value, unit, source) from ``ha2016_human.csv``."""
    with resources.files("t2dsim.physiology.parameters").joinpath("ha2016_human.csv").open("r") as fh:
        return pd.read_csv(fh)


@dataclass
class ProgressionParams:
    """Per-patient parameters: name → float64 array ``(n_patients,)`` for every name in PARAM_NAMES."""

    values: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        missing = [k for k in PARAM_NAMES if k not in self.values]
        unknown = [k for k in self.values if k not in _P]
        if missing or unknown:
            raise ValueError(f"ProgressionParams: missing {missing}, unknown {unknown}")
        n = {np.shape(v) for v in self.values.values()}
        if len(n) != 1 or len(next(iter(n))) != 1:
            raise ValueError(f"ProgressionParams: all parameters must be 1-D arrays of one length, got {n}")
        self.values = {k: np.ascontiguousarray(self.values[k], dtype=np.float64) for k in PARAM_NAMES}

    @property
    def n(self) -> int:
        return int(self.values["R0"].shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def replace(self, **updates: ArrayLike) -> ProgressionParams:
        """Copy with some parameters replaced (scalars broadcast to all patients)."""
        vals = {k: v.copy() for k, v in self.values.items()}
        for k, v in updates.items():
            if k not in _P:
                raise ValueError(f"unknown progression parameter {k!r}")
            vals[k] = np.broadcast_to(np.asarray(v, dtype=float), (self.n,)).copy()
        return ProgressionParams(vals)

    def select(self, idx: ArrayLike) -> ProgressionParams:
        return ProgressionParams({k: v[np.asarray(idx)] for k, v in self.values.items()})

    def to_matrix(self) -> np.ndarray:
        """C-contiguous ``(n_patients, len(PARAM_NAMES))`` matrix for the kernel."""
        return np.ascontiguousarray(np.stack([self.values[k] for k in PARAM_NAMES], axis=1))


def ha2016_params(n: int = 1) -> ProgressionParams:
    """Pure Ha, Satin & Sherman 2016 human parameters (Fig. 7 set; inflammation and BMI/age off)."""
    if n < 1:
        raise ValueError(f"n must be ≥ 1 (got {n})")
    table = ha2016_table()
    vals = {str(r.name): np.full(n, float(r.value)) for r in table.itertuples()}
    for k, (v, _unit, _src) in EXTENSION_DEFAULTS.items():
        vals[k] = np.full(n, v)
    return ProgressionParams(vals)


def t2dsim_params(n: int = 1) -> ProgressionParams:
    """Ha 2016 with the t2dsim extension switched on and the UKPDS calibration (T2DSIM_CALIBRATION).

    Insulin is on the t2dsim scale (κ = T2DSIM_INSULIN_SCALE): SI and SI_target are divided by κ."""
    p = ha2016_params(n).replace(**{k: v for k, (v, _src) in T2DSIM_CALIBRATION.items()})
    return p.replace(SI_target=p["SI_target"] / T2DSIM_INSULIN_SCALE)


@dataclass
class Effects:
    """Per-patient therapy effects (docs/architecture.md), each ``(n,)`` (constant) or ``(n, n_days)``.

    Neutral values: si_mult 1, hgp_mult 1, secretion_mult 1, glucose_loss_per_day 0 (1/day),
    exog_insulin_uuml 0 (µU/mL), graft_beta_mass_mg 0 (mg), inflammation_mult 1, beta_protect 0
    (fraction). Constant within a day.
    """

    si_mult: ArrayLike = 1.0
    hgp_mult: ArrayLike = 1.0
    secretion_mult: ArrayLike = 1.0
    glucose_loss_per_day: ArrayLike = 0.0
    exog_insulin_uuml: ArrayLike = 0.0
    graft_beta_mass_mg: ArrayLike = 0.0
    inflammation_mult: ArrayLike = 1.0
    beta_protect: ArrayLike = 0.0

    @classmethod
    def neutral(cls, n: int) -> Effects:
        return cls(**{k: np.full(n, v) for k, v in zip(EFFECT_NAMES, _EFFECT_NEUTRAL, strict=True)})

    def to_array(self, n: int, n_days: int) -> np.ndarray:
        """Validated ``(n, T, 8)`` float64 array with T = 1 (constant) or T = n_days (daily)."""
        cols = []
        t_len = 1
        for name in EFFECT_NAMES:
            a = np.asarray(getattr(self, name), dtype=float)
            lo, hi = _EFFECT_RANGES[name]
            if not np.all(np.isfinite(a)) or np.any(a < lo) or np.any(a > hi):
                raise ValueError(f"effects.{name} must be finite and within [{lo}, {hi}]")
            if a.ndim == 2:
                if a.shape[0] != n or a.shape[1] not in (1, n_days):
                    raise ValueError(f"effects.{name} has shape {a.shape}; expected (n={n},) or (n, n_days={n_days})")
                t_len = max(t_len, a.shape[1])
            elif a.ndim > 2 or (a.ndim == 1 and a.shape[0] != n):
                raise ValueError(f"effects.{name} has shape {a.shape}; expected scalar, (n={n},) or (n, n_days)")
            cols.append(a)
        out = np.empty((n, t_len, len(EFFECT_NAMES)))
        for j, a in enumerate(cols):
            if a.ndim == 2:
                out[:, :, j] = a if a.shape[1] == t_len else a[:, :1]
            else:
                out[:, :, j] = np.broadcast_to(a, (n,))[:, None] if a.ndim == 1 else a
        return np.ascontiguousarray(out)


@dataclass
class ProgressionState:
    """Per-patient progression state; arrays ``(n,)``. Units: G mg/dL, insulin µU/mL (endogenous),
    β mg, γ and σ in Ha units, SI mL/(µU·day), inflammation index (dimensionless), HbA1c %."""

    glucose_mgdl: np.ndarray
    insulin_uuml: np.ndarray
    beta_mass_mg: np.ndarray
    gamma: np.ndarray
    sigma: np.ndarray
    si_state: np.ndarray
    inflammation: np.ndarray
    hba1c_pct: np.ndarray

    def to_matrix(self) -> np.ndarray:
        return np.ascontiguousarray(np.stack([np.asarray(getattr(self, k), float) for k in STATE_NAMES], axis=1))

    @classmethod
    def from_matrix(cls, x: np.ndarray) -> ProgressionState:
        return cls(**{k: np.array(x[:, j]) for j, k in enumerate(STATE_NAMES)})

    def select(self, idx: ArrayLike) -> ProgressionState:
        return ProgressionState.from_matrix(self.to_matrix()[np.asarray(idx)])

    @property
    def n(self) -> int:
        return int(np.shape(self.glucose_mgdl)[0])


def t2dsim_initial_state(n: int = 1) -> ProgressionState:
    """Healthy start for the t2dsim configuration: Ha 2016 initial state with insulin × κ and SI / κ."""
    st = ha2016_initial_state(n)
    st.insulin_uuml = st.insulin_uuml * T2DSIM_INSULIN_SCALE
    st.si_state = st.si_state / T2DSIM_INSULIN_SCALE
    return st


def ha2016_initial_state(n: int = 1) -> ProgressionState:
    """Ha 2016 human initial conditions (human.ode): G 99.7664, I 9.025, β 1000.423, γ −0.00666,
    σ 536.67, SI 0.8; inflammation 0; HbA1c at its steady state for that G."""
    g = np.full(n, 99.7664)
    return ProgressionState(
        glucose_mgdl=g,
        insulin_uuml=np.full(n, 9.025),
        beta_mass_mg=np.full(n, 1000.423),
        gamma=np.full(n, -0.00666),
        sigma=np.full(n, 536.67),
        si_state=np.full(n, 0.8),
        inflammation=np.zeros(n),
        hba1c_pct=glycation.steady_state_hba1c_from_fpg(g),
    )
