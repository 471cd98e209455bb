"""β-cell replacement cases on T1D virtual patients: zimislecel (VX-880) and donor-islet transplantation.

T1D virtual patients: the t2dsim progression model with β-cell mass 0.5 mg (C-peptide undetectable),
normal-range insulin sensitivity (median 0.6 in Ha units vs 0.8 for the Ha healthy adult; log-SD 0.3;
H: T1D adults are moderately insulin resistant), BMI 25 kg/m², exogenous insulin titrated to a baseline
HbA1c. Grafts are :class:`~t2dsim.therapies.stemcells.IsletGraft`; insulin is reduced monthly as the
graft matures (calibration.trials.simulate_arm, ``reduce_only``). Insulin independence: fasting glucose
≤ 126 mg/dL without exogenous insulin. Graft function ("C-peptide positive"): functional graft mass ≥
20 mg (2 % of the healthy 1000 mg; D, stands for stimulated C-peptide ≥ 0.1 nmol/L).

Targets are split into ``fit`` (used to set the islet parameters) and ``held out`` (validation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from t2dsim.calibration.trials import (
    ArmResult,
    _g_for_a1c,
    insulin_need,
    mmtt_cpeptide,
    simulate_arm,
    trial_cohort,
)
from t2dsim.core.intervals import wilson_ci
from t2dsim.engine.cohort import Cohort
from t2dsim.physiology import glycation
from t2dsim.physiology.progression import (
    T2DSIM_INSULIN_SCALE,
    Effects,
    simulate_progression,
    t2dsim_initial_state,
    t2dsim_params,
)
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.stemcells.islets import IsletGraft
from t2dsim.therapies.stemcells.params import IsletParams

__all__ = [
    "t1d_population",
    "BetaTarget",
    "beta_targets",
    "run_beta_case",
    "fit_islet",
    "ISLET_THETA",
    "islet_params_from_theta",
    "GRAFT_POSITIVE_MG",
]

GRAFT_POSITIVE_MG = 20.0


def t1d_population(n: int, seed: int, a1c_mean: float = 7.5, a1c_sd: float = 0.6, first_id: int = 500_000) -> Cohort:
    """``n`` T1D virtual patients (ids first_id…), insulin titrated to HbA1c ~ N(mean, sd) in [6.5, 10]."""
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    # stream names must differ in their first 8 bytes (PatientContext.rng keys on them)
    ctx = PatientContext(
        n=n, body_weight_kg=np.ones(n), age_years=np.ones(n), female=np.zeros(n, dtype=bool), seed=seed, patient_ids=ids
    )
    from scipy.stats import norm

    z = norm.ppf(np.clip(ctx.uniform("t1d_si"), 1e-9, 1 - 1e-9))
    z2 = norm.ppf(np.clip(ctx.uniform("t1d_wt"), 1e-9, 1 - 1e-9))
    z3 = norm.ppf(np.clip(ctx.uniform("t1d_age"), 1e-9, 1 - 1e-9))
    ctx.body_weight_kg = np.clip(72.0 + 12.0 * z2, 50.0, 110.0)  # D: adult T1D trial populations
    ctx.age_years = np.clip(45.0 + 10.0 * z3, 20.0, 70.0)
    si = 0.6 * np.exp(0.3 * z) / T2DSIM_INSULIN_SCALE
    params = t2dsim_params(n).replace(SI_target=si, tSI=1e-6, infl_offset=0.0)
    if "insulin_mean_fraction" in params.values:
        # HbA1c follows fasting glucose (φ = 1): the basal-insulin rule (φ 0.6, Riddle 2003 in T2D) uses the
        # glucose without insulin as reference, which in insulin-deficient T1D is not physiological
        params = params.replace(insulin_mean_fraction=1.0)
    st = t2dsim_initial_state(n)
    st.beta_mass_mg = np.full(n, 0.5)
    st.si_state = si.copy()
    bmi = np.full(n, 25.0)
    a1c = np.clip(a1c_mean + a1c_sd * norm.ppf(np.clip(ctx.uniform("t1d_a1c"), 1e-9, 1 - 1e-9)), 6.5, 10.0)
    g_t = _g_for_a1c(a1c)
    neutral = {
        "si_mult": np.ones(n),
        "hgp_mult": np.ones(n),
        "secretion_mult": np.ones(n),
        "glucose_loss_per_day": np.zeros(n),
        "graft_beta_mass_mg": np.zeros(n),
    }
    iexo = np.zeros(n)
    for days in (60, 60, 60, 180):
        iexo = np.clip(insulin_need(params, st, ctx.age_years, bmi, neutral, g_t), 0.0, 1000.0)
        st = simulate_progression(
            params,
            st,
            days,
            age_years=ctx.age_years,
            bmi_kg_m2=bmi,
            effects=Effects(exog_insulin_uuml=iexo),
            record_days="end",
        ).state
    st.hba1c_pct = glycation.steady_state_hba1c_from_fpg(st.glucose_mgdl)  # stable on this dose for months
    return trial_cohort(params, st, ctx, bmi, iexo)


@dataclass(frozen=True)
class BetaTarget:
    case: str
    endpoint: str
    observed: float
    ci_low: float
    ci_high: float
    ci_method: str
    verification: str
    role: str  # "fit" or "held out"
    n: int = 0

    @property
    def se(self) -> float:
        return (self.ci_high - self.ci_low) / (2 * 1.959964)


def _w(case: str, ep: str, k: int, n: int, ver: str, role: str) -> BetaTarget:
    lo, hi = wilson_ci(k, n)
    return BetaTarget(case, ep, k / n, lo, hi, f"Wilson 95 % on {k}/{n}", ver, role, n)


def beta_targets() -> list[BetaTarget]:
    """Targets of the β-cell replacement cases (evidence note §5)."""
    t = []
    z = "zimislecel"
    for day, v in ((90, 424.0), (180, 1036.0), (365, 1274.0)):
        se = 0.5 * v / np.sqrt(12)
        t.append(
            BetaTarget(
                z,
                f"cpeptide_peak_d{day}",
                v,
                v - 1.96 * se,
                v + 1.96 * se,
                "S values; D interval: between-patient CV 50 % assumed, n = 12",
                "S",
                "fit",
                12,
            )
        )
    t.append(_w(z, "insulin_independent_d365", 10, 12, "V", "held out"))
    t.append(_w(z, "graft_positive_d90", 12, 12, "V", "held out"))
    ins = np.array([-100.0] * 10 + [-70.0, -36.0])  # V: 10 independent, the other two cut insulin 70 % and 36 %
    se = ins.std(ddof=1) / np.sqrt(12)
    t.append(
        BetaTarget(
            z,
            "insulin_pct_d365",
            ins.mean(),
            ins.mean() - 1.96 * se,
            ins.mean() + 1.96 * se,
            "V individual values (10 × −100, −70, −36); normal CI",
            "V",
            "held out",
            12,
        )
    )
    c = "islet_modern"
    t.append(_w(c, "ever_independent", 25, 30, "V (Lantidra label)", "fit"))
    t.append(_w(c, "independent_y3", round(0.44 * 208), 208, "V (CITR 2007-10, Barton 2012)", "fit"))
    t.append(_w(c, "graft_positive_y5.9", 128, 255, "V (Marfil-Garza 2022: median graft survival 5.9 y)", "fit"))
    t.append(_w(c, "independent_y1", 21, 30, "V (Lantidra: 21/30 independent ≥ 1 y)", "held out"))
    e = "islet_edmonton_2005"
    t.append(_w(e, "graft_positive_y5", 52, 65, "V (Ryan 2005: ~80 % C-peptide positive at 5 y; count D)", "held out"))
    t.append(_w(e, "independent_y5", 5, 47, "V (Ryan 2005: ~10 % independent at 5 y; count D)", "held out"))
    t.append(_w(e, "independent_y1", 16, 36, "V (Shapiro 2006 international trial, 16/36 at 1 y)", "held out"))
    # Wu J 2024 (Cell Discov): one T2D patient, autologous E-islets ≈ 1.2e6 IEQ intraportal, already on
    # kidney-transplant immunosuppression; insulin stopped at week 11, oral agents by ~1 year (S, news)
    t.append(_w("eislets", "therapy_free_w52", 1, 1, "S (news of the paper); n = 1", "held out"))
    return t


CASE_LABELS = {
    "zimislecel": "zimislecel / VX-880",
    "islet_modern": "islet transplantation (2007-2020 era)",
    "islet_edmonton_2005": "islet transplantation (Edmonton era 1999-2006)",
    "eislets": "Wu J 2024 (E-islets, T2D, n = 1)",
}


def _soft_below(x: np.ndarray, thr: float, width: float, soft: bool) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(thr - x) / width)) if soft else (x < thr).astype(float)


def _graft(case: str, P: IsletParams) -> IsletGraft:
    if case == "zimislecel":
        return IsletGraft(
            "sc_islet",
            cells=0.8e9,
            origin="allogeneic",
            site="portal_vein",
            immunosuppression=True,
            diabetes_type="t1d",
            params=P,
        )
    if case == "eislets":  # 1.2e6 IEQ for an assumed 70 kg (D); IEQ of SC tissue valued like donor islets (D)
        return IsletGraft(
            "sc_islet",
            ieq_per_kg=1.2e6 / 70.0,
            origin="autologous",
            site="portal_vein",
            immunosuppression=True,
            diabetes_type="t2d",
            params=P,
        )
    # donor islets, ≈ 12,000 IEQ/kg over 2 infusions 3 months apart (Ryan 2005: 11,910 IE/kg)
    return IsletGraft(
        "donor_islets",
        ieq_per_kg=[6000.0, 6000.0],
        infusion_days=[0, 90],
        origin="allogeneic",
        site="portal_vein",
        immunosuppression=True,
        diabetes_type="t1d",
        params=P,
    )


_VISITS = {
    "zimislecel": [90, 180, 270, 365],
    "eislets": [77, 182, 365],
    "islet_modern": [30, 60, 120, 180, 270, 365, 545, 730, 1095, 1461, 1826, 2155, 2557],
}


def run_beta_case(case: str, P: IsletParams, pop: Cohort, soft: bool = False) -> dict[str, np.ndarray]:
    """Per-patient endpoint values (arrays (n,)) of a β-cell replacement case; the case's statistic is
    the mean (shares, means) over patients."""
    key = "islet_modern" if case.startswith("islet") else case
    g = _graft(key, P)
    arm: ArmResult = simulate_arm(pop, [g], _VISITS[key], "reduce_only")
    need = arm.out["need_126"]
    mass = arm.effects_at["graft_beta_mass_mg"]
    v = list(arm.visits)
    out: dict[str, np.ndarray] = {}

    def at(a: np.ndarray, day: int) -> np.ndarray:
        return a[:, v.index(day)]

    width = 0.3  # µU/mL of insulin need (soft indicator for fitting)
    if key == "eislets":  # free of all glucose-lowering therapy at 1 year: FPG ≤ 126 mg/dL unaided
        out["therapy_free_w52"] = _soft_below(at(need, 365), 0.0, width, soft)
        return out
    if key == "zimislecel":
        for day in (90, 180, 365):
            out[f"cpeptide_peak_d{day}"] = mmtt_cpeptide(pop, arm, day).max(axis=1)
        out["insulin_independent_d365"] = _soft_below(at(need, 365), 0.0, width, soft)
        out["graft_positive_d90"] = _soft_below(-at(mass, 90), -GRAFT_POSITIVE_MG, 2.0, soft)
        indep = _soft_below(at(need, 365), 0.0, width, soft)
        out["insulin_pct_d365"] = -100.0 * indep + (1 - indep) * 100 * (at(arm.out["dose_rel"], 365) - 1)
        return out
    ever = 1.0 - np.prod(1.0 - _soft_below(need[:, 1:], 0.0, width, soft), axis=1)
    out["ever_independent"] = ever
    for yr, day in ((1, 365), (3, 1095), (5, 1826)):
        # the clock of the 1-, 3- and 5-year figures starts at the last infusion (day 90)
        d = min(v[1:], key=lambda x, t=day + 90: abs(x - t))
        out[f"independent_y{yr}"] = _soft_below(at(need, d), 0.0, width, soft)
    for yr, day in ((5, 1826 + 90), (5.9, 2155 + 90)):
        d = min(v[1:], key=lambda x, t=day: abs(x - t))
        out[f"graft_positive_y{yr}"] = _soft_below(-at(mass, d), -GRAFT_POSITIVE_MG, 2.0, soft)
    return out


#: Fitted islet parameters: (path, prior median, prior log-SD, source).
ISLET_THETA: tuple[tuple[str, float, float, str], ...] = (
    ("engraftment.portal_vein", 0.4, 0.5, "M: 50-70 % peri-transplant loss"),
    ("attrition_per_year", 0.15, 0.7, "D: insulin independence hazard 0.2-0.55/y (§5.3)"),
    ("failure_per_year.allogeneic_immunosuppressed", 0.10, 0.7, "D: ln2/5.9 y ≈ 0.12 (Marfil-Garza)"),
    ("sc_beta_fraction", 0.5, 0.5, "H: β-like share of SC-islet products"),
    ("maturation_days.sc_islet", 140.0, 0.5, "D: C-peptide rising to 12 months (zimislecel)"),
    ("maturation_shape", 2.0, 0.4, "H"),
)


def islet_params_from_theta(log_theta: np.ndarray, base: IsletParams | None = None) -> IsletParams:
    p = base or IsletParams()
    for (path, *_), v in zip(ISLET_THETA, log_theta, strict=True):
        val = float(np.exp(v))
        if "." in path:
            attr, key = path.split(".")
            d = dict(getattr(p, attr))
            d[key] = min(val, 1.0) if attr == "engraftment" else val
            p = replace(p, **{attr: d})
        else:
            p = replace(p, **{path: min(val, 1.0) if path == "sc_beta_fraction" else val})
    return p


def fit_islet(pops: dict[str, Cohort], max_nfev: int = 60) -> dict[str, Any]:
    """MAP + Laplace fit of ISLET_THETA to the ``fit`` targets."""
    targets = [t for t in beta_targets() if t.role == "fit"]
    mu = np.log([t[1] for t in ISLET_THETA])
    sd = np.array([t[2] for t in ISLET_THETA])

    def resid(x: np.ndarray) -> np.ndarray:
        P = islet_params_from_theta(x)
        cache: dict[str, dict[str, np.ndarray]] = {}
        r = []
        for t in targets:
            key = "islet_modern" if t.case.startswith("islet") else t.case
            if key not in cache:
                cache[key] = run_beta_case(key, P, pops[key], soft=True)
            r.append((float(np.mean(cache[key][t.endpoint])) - t.observed) / t.se)
        return np.concatenate([r, (x - mu) / sd])

    res = least_squares(resid, mu.copy(), diff_step=0.02, max_nfev=max_nfev, bounds=(mu - 3 * sd, mu + 3 * sd))
    cov = np.linalg.pinv(res.jac.T @ res.jac)
    return {
        "log_theta": res.x.tolist(),
        "cov": cov.tolist(),
        "cost": float(res.cost),
        "nfev": int(res.nfev),
        "names": [t[0] for t in ISLET_THETA],
        "bounds": [(mu - 3 * sd).tolist(), (mu + 3 * sd).tolist()],
    }
