"""Run an in-silico randomised trial from a protocol: screen, randomise, treat, measure, analyse.

Steps
-----
1. **Screening.** Candidates come from the population preset (:mod:`t2dsim.population.presets`), each
   patient's physiology placed on its disease course so that its baseline is consistent. Protocol
   distributions may override demographic covariates (age, sex) with keyed per-patient draws. The
   inclusion criteria are applied to baseline values; the first eligible candidates (by id) are enrolled.
2. **Randomisation** (stratified permuted blocks, seeded; :mod:`t2dsim.trial.randomisation`).
3. **Treatment.** Each arm's therapies (:mod:`t2dsim.trial.builders`) act on the progression model
   through the engine, chunk by chunk of patients; visits at the protocol's months.
4. **Measurement.** At each visit: HbA1c, FPG and the mechanism states from the progression model; a
   mixed-meal tolerance test on the minute-scale model (fasting insulin and C-peptide, C-peptide AUC
   0–120 min) when a C-peptide or insulin measure is requested; 14 days of CGM (three meals a day,
   sensor noise) when a CGM measure is requested. Assay error and dropout are keyed per patient.

Every random number is keyed by (seed, patient_id, stream), so results do not depend on chunk size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from t2dsim.core.calendar import DAYS_PER_MONTH, visit_days
from t2dsim.core.rng import keyed_normal, keyed_uniform
from t2dsim.core.units import PMOLL_PER_UUML_INSULIN
from t2dsim.engine import ArmState, Cohort, advance, meal_params_today, run_meal_day
from t2dsim.physiology import markers
from t2dsim.physiology.coupling import dose_for_exogenous_insulin, insulin_scale
from t2dsim.physiology.meal import with_basal_glucose
from t2dsim.physiology.sensor import CGMSensor
from t2dsim.population import presets
from t2dsim.simulate import THREE_MEALS, meal_inputs, mmtt_cho_g, simulate
from t2dsim.therapies.base import PatientContext
from t2dsim.therapies.insulin import day_fasting_glucose, find_insulin
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect
from t2dsim.trial.builders import BuildContext, build_arm
from t2dsim.trial.measurement import observe
from t2dsim.trial.randomisation import randomise_for_protocol

#: Adult height (cm) by sex, for body weight from BMI: CDC anthropometric reference data for US adults
#: 2015–2018 (NHANES; Vital Health Stat 3(46), 2021), mean ≈ 175 cm (men) and 161 cm (women), SD ≈ 7 cm
#: (tag U: values recalled, not re-read).
HEIGHT_CM = {"male": (175.0, 7.5), "female": (161.0, 7.0)}
#: Default share of women when a protocol gives no sex distribution: UKPDS 33 enrolled 39 % women
#: (Lancet 352:837, 1998; tag U: recalled); the stem-cell trials report 30–50 %.
FEMALE_SHARE_DEFAULT = 0.39
MMTT_MEASURES = {
    "fasting_cpeptide_pmol_l",
    "cpeptide_auc_nmol_min_l",
    "fasting_insulin_pmol_l",
    "homa_ir",
    "homa_b_percent",
}
CGM_MEASURES = {"cgm_mean_glucose_mgdl", "cgm_tir_percent", "cgm_tbr_percent", "cgm_gmi_percent"}
MECHANISM_MEASURES = (
    "beta_cell_mass_mg",
    "beta_cell_function",
    "insulin_sensitivity",
    "inflammation_index",
    "graft_beta_mass_mg",
)
SIGMA_REF = 536.67  # Ha 2016 human initial σ: beta_cell_function is reported relative to it


@dataclass
class TrialRun:
    """Outcome of :func:`run_trial`: observed long results table (dropout, assay error), per-patient table,
    the model's true values at every scheduled visit, and run metadata."""

    results: pd.DataFrame
    patients: pd.DataFrame
    true_results: pd.DataFrame
    screening: dict
    risks: dict[str, list]  # therapy kind → Risk objects (shown beside every benefit in the report)
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


def _screen(protocol, n_needed: int, seed: int) -> tuple[presets.Cohort, pd.DataFrame, dict]:
    pop = protocol.population
    if pop.preset is None:
        raise ValueError("population.preset is required by this version (explicit-only populations are not built)")
    supported = {"age_years", "sex"}
    extra = set(pop.distributions) - supported
    if extra:
        raise ValueError(
            f"population.distributions.{sorted(extra)[0]}: not supported with preset {pop.preset!r} "
            f"(the preset places physiology itself); supported overrides: {', '.join(sorted(supported))}"
        )
    max_n = int(np.ceil(pop.max_screening_factor * n_needed))
    batch = max(n_needed, min(max_n, int(n_needed * 1.5) + 16))
    screened = 0
    chosen: list[pd.DataFrame] = []
    cohorts: list[presets.Cohort] = []
    n_ok = 0
    while n_ok < n_needed and screened < max_n:
        size = min(batch, max_n - screened)
        c = presets.make_cohort(pop.preset, size, seed=seed, first_id=screened)
        base = _baseline_covariates(c, pop, seed)
        ok = _eligible(base, pop.inclusion)
        chosen.append(base[ok])
        cohorts.append(c)
        n_ok += int(ok.sum())
        screened += size
    if n_ok < n_needed:
        raise ValueError(
            f"population.inclusion: only {n_ok} of {screened} screened candidates are eligible, "
            f"{n_needed} are needed; widen the criteria or raise population.max_screening_factor "
            f"(now {pop.max_screening_factor:g})"
        )
    eligible = pd.concat(chosen, ignore_index=True).sort_values("patient_id").head(n_needed)
    full = _concat_cohorts(cohorts)
    pos = np.searchsorted(full.patient_id, eligible["patient_id"].to_numpy())
    sub = _select_cohort(full, pos)
    screening = {"screened": screened, "eligible": n_ok, "enrolled": n_needed, "preset": pop.preset}
    return sub, eligible.reset_index(drop=True), screening


def _concat_cohorts(cs: list[presets.Cohort]) -> presets.Cohort:
    if len(cs) == 1:
        return cs[0]
    from t2dsim.physiology.progression import ProgressionParams, ProgressionState

    params = ProgressionParams({k: np.concatenate([c.params[k] for c in cs]) for k in cs[0].params.values})
    state = ProgressionState.from_matrix(np.concatenate([c.state.to_matrix() for c in cs]))
    eff = type(cs[0].effects)(
        **{
            k: np.concatenate([np.broadcast_to(np.asarray(getattr(c.effects, k), float), (c.n,)) for c in cs])
            for k in cs[0].effects.__dataclass_fields__
        }
    )
    return presets.Cohort(
        cs[0].preset,
        cs[0].seed,
        np.concatenate([c.patient_id for c in cs]),
        params,
        state,
        np.concatenate([c.age_years for c in cs]),
        np.concatenate([c.bmi_kg_m2 for c in cs]),
        eff,
        pd.concat([c.baseline for c in cs], ignore_index=True),
    )


def _select_cohort(c: presets.Cohort, pos: np.ndarray) -> presets.Cohort:
    eff = type(c.effects)(
        **{
            k: np.broadcast_to(np.asarray(getattr(c.effects, k), float), (c.n,))[pos]
            for k in c.effects.__dataclass_fields__
        }
    )
    return presets.Cohort(
        c.preset,
        c.seed,
        c.patient_id[pos],
        c.params.select(pos),
        c.state.select(pos),
        c.age_years[pos],
        c.bmi_kg_m2[pos],
        eff,
        c.baseline.iloc[pos].reset_index(drop=True),
    )


def _baseline_covariates(c: presets.Cohort, pop, seed: int) -> pd.DataFrame:
    ids = c.patient_id
    b = c.baseline
    age = c.age_years.copy()
    d = pop.distributions.get("age_years")
    if d is not None:
        age = _draw(d, seed, ids, "cov:age")
    female_p = FEMALE_SHARE_DEFAULT
    sd = pop.distributions.get("sex")
    if sd is not None:
        female_p = float(sd.probabilities.get("female", 0.0))
    female = keyed_uniform(seed, ids, "cov:sex") < female_p
    z_h = keyed_normal(seed, ids, "cov:height")
    height = np.where(
        female, HEIGHT_CM["female"][0] + HEIGHT_CM["female"][1] * z_h, HEIGHT_CM["male"][0] + HEIGHT_CM["male"][1] * z_h
    )
    weight = c.bmi_kg_m2 * (height / 100.0) ** 2
    kappa = insulin_scale(c.params)
    exog = np.broadcast_to(np.asarray(c.effects.exog_insulin_uuml, float), (c.n,))
    dose = dose_for_exogenous_insulin(exog, weight, kappa)
    return pd.DataFrame(
        {
            "patient_id": ids,
            "age_years": age,
            "sex": np.where(female, "female", "male"),
            "height_cm": height,
            "weight_kg": weight,
            "bmi_kg_m2": c.bmi_kg_m2,
            "diabetes_duration_years": b["duration_years"].to_numpy(),
            "hba1c_percent": c.state.hba1c_pct,
            "fpg_mgdl": c.state.glucose_mgdl,
            "insulin_u_per_day": dose,
            "insulin_u_per_kg_day": dose / weight,
            "insulin_use": np.where(dose > 0.5, "yes", "no"),
            "exog_insulin": exog,
        }
    )


def _draw(d, seed: int, ids: np.ndarray, stream: str) -> np.ndarray:
    z = keyed_normal(seed, ids, stream)
    u = keyed_uniform(seed, ids, stream + ":u")
    if d.dist == "normal":
        x = d.mean + d.sd * z
    elif d.dist == "lognormal":
        x = d.median * np.exp(d.sigma_log * z)
    elif d.dist == "uniform":
        x = d.low + (d.high - d.low) * u
    elif d.dist == "fixed":
        x = np.full(ids.shape, d.value)
    else:  # pragma: no cover - categorical handled by caller
        raise ValueError(f"distribution {d.dist!r} is not numeric")
    lo = getattr(d, "low", None)
    hi = getattr(d, "high", None)
    return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)


def _eligible(base: pd.DataFrame, inc) -> np.ndarray:
    ok = np.ones(len(base), dtype=bool)
    for name in ("age_years", "bmi_kg_m2", "diabetes_duration_years", "hba1c_percent", "insulin_u_per_kg_day"):
        b = getattr(inc, name, None)
        if b is None:
            continue
        v = base[name].to_numpy()
        if b.min is not None:
            ok &= v >= b.min
        if b.max is not None:
            ok &= v <= b.max
    if inc.insulin_use == "required":
        ok &= base["insulin_use"].to_numpy() == "yes"
    elif inc.insulin_use == "excluded":
        ok &= base["insulin_use"].to_numpy() == "no"
    return ok


def _engine_cohort(c: presets.Cohort, base: pd.DataFrame, seed: int) -> Cohort:
    n = c.n
    ctx = PatientContext(
        n=n,
        body_weight_kg=base["weight_kg"].to_numpy(float),
        age_years=base["age_years"].to_numpy(float),
        female=(base["sex"] == "female").to_numpy(),
        seed=seed,
        patient_ids=c.patient_id.astype(np.int64),
        covariates={
            "insulin_dose_u_per_day": base["insulin_u_per_day"].to_numpy(float),
            "exog_insulin": base["exog_insulin"].to_numpy(float),
            "insulin_scale": insulin_scale(c.params),
            "diabetes_duration_years": base["diabetes_duration_years"].to_numpy(float),
            "hba1c_pct": base["hba1c_percent"].to_numpy(float),
            "bmi_kg_m2": c.bmi_kg_m2.astype(float),
        },
    )
    return Cohort(c.params, c.state, ctx, c.bmi_kg_m2.astype(float), base["height_cm"].to_numpy(float))


def _measure_visit(arm: ArmState, measures: set[str], seed: int, visit: int) -> dict[str, np.ndarray]:
    last = arm.last
    out: dict[str, np.ndarray] = {
        "hba1c_percent": last["hba1c_pct"],
        "fpg_mgdl": last["glucose_mgdl"],
        "weight_kg": arm.cohort.ctx.body_weight_kg * (arm.bmi_kg_m2 / arm.cohort.bmi_kg_m2),
        "beta_cell_mass_mg": last["beta_mass_mg"],
        "beta_cell_function": last["sigma"] / SIGMA_REF,
        "insulin_sensitivity": last.get("si_eff", last["si_state"]),
        "inflammation_index": last["inflammation"],
        "graft_beta_mass_mg": np.broadcast_to(last.get("graft_beta_mass_mg", 0.0), (arm.cohort.n,)),
    }
    dose = np.zeros(arm.cohort.n)
    for t in arm.active():
        rep = getattr(t, "report", None)
        if callable(rep):
            r = rep(arm.cohort.ctx, arm.day)
            if "insulin_dose_u_per_day" in r:
                dose = dose + np.asarray(r["insulin_dose_u_per_day"], float)
    out["insulin_u_per_day"] = dose
    if measures & MMTT_MEASURES:
        grams = mmtt_cho_g(arm.cohort.ctx.body_weight_kg)
        cho = np.stack([meal_inputs(120, [(0, g)], rate_g_per_min=g / 5.0) for g in grams])
        res = run_meal_day(arm, cho)  # minutes 0..120
        cp = res["cpeptide_pmol_l"]
        ins = res["plasma_insulin_pmol_l"][:, 0]
        out["fasting_cpeptide_pmol_l"] = cp[:, 0]
        # Trapezoid over the per-minute curve 0–120 min, pmol/L·min → nmol/L·min.
        out["cpeptide_auc_nmol_min_l"] = markers.auc_trapezoid(np.arange(121), cp[:, :121]) / 1000.0
        out["fasting_insulin_pmol_l"] = ins
    if measures & CGM_MEASURES:
        out.update(_cgm_fortnight(arm, seed, visit))
    return out


def _cgm_fortnight(arm: ArmState, seed: int, visit: int, days: int = 14) -> dict[str, np.ndarray]:
    """14 days of CGM at minute scale from the visit-day physiology: three meals a day (sizes ±20 % by
    day, keyed per patient), sensor noise per Breton & Kovatchev 2008; consensus metrics (Battelino 2019)
    over the fortnight. Simulated day by day from each day's end state, keeping only the CGM trace.
    Patients on basal insulin carry the day-to-day variability of fasting glucose of the fortnight's
    calendar days (the 14 days before the visit; ``insulin.day_fasting_glucose``, the values their
    titration saw): each day's basal relations are re-derived at that day's fasting glucose and the
    day starts from the previous day's end state, so nocturnal lows appear on low days."""
    n = arm.cohort.n
    ids = arm.cohort.ctx.patient_ids
    base = meal_inputs(1440, list(THREE_MEALS))
    params = meal_params_today(arm)
    insulin = find_insulin(arm)
    trace = np.empty((n, 1440 * days), dtype=np.float32)
    x0 = None
    for d in range(days):
        f = 0.8 + 0.4 * keyed_uniform(seed, ids, "cgm:meal", visit * 100 + d)
        p_day = params
        if insulin is not None:
            p_day = with_basal_glucose(params, day_fasting_glucose(arm, insulin, arm.day - days + d))
        res = simulate(p_day, base[None, :] * f[:, None], None, x0=x0)
        x0 = res.final_state
        trace[:, d * 1440 : (d + 1) * 1440] = res["cgm_glucose_mgdl"][:, 1:]
    noisy = CGMSensor().measure(trace, seed * 1000 + visit, ids)
    m = markers.cgm_metrics(noisy)
    return {
        "cgm_mean_glucose_mgdl": m["mean_mgdl"],
        "cgm_tir_percent": m["tir_70_180_pct"],
        "cgm_tbr_percent": m["tbr_70_pct"],
        "cgm_gmi_percent": m["gmi_pct"],
    }


def run_trial(
    protocol,
    *,
    chunk_size: int = 512,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrialRun:
    """Run ``protocol`` (a validated :class:`~t2dsim.trial.protocol.Protocol`)."""
    t0 = time.perf_counter()
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    seed = int(protocol.randomisation.seed)
    n_total = sum(a.n for a in protocol.arms)
    cohort, base, screening = _screen(protocol, n_total, seed)
    t_screen = time.perf_counter()
    base["arm"] = randomise_for_protocol(base, protocol).to_numpy()
    duration_days = int(round(protocol.duration_months * DAYS_PER_MONTH))
    bctx = BuildContext(duration_days=duration_days)
    visits = list(protocol.visit_months)
    days = visit_days(visits)
    measures = set(protocol.measurements) | set(MECHANISM_MEASURES)
    rows: list[pd.DataFrame] = []
    risks: dict[str, list] = {}  # therapy kind → Risk objects
    done = 0
    for arm_spec in protocol.arms:
        idx = np.nonzero(base["arm"].to_numpy() == arm_spec.name)[0]
        # Risks shown beside every benefit: the protocol kind's listed risks plus the simulated therapy
        # objects' own (sourced) risks, without duplicates.
        for spec in arm_spec.treatment:
            lst = risks.setdefault(spec.kind, [])
            lst.extend(r for r in getattr(type(spec), "risks", ()) if r not in lst)
        for t in build_arm(arm_spec.treatment, bctx, arm_spec.name):
            lst = risks.setdefault(t.spec_kind, [])
            lst.extend(r for r in getattr(t, "risks", ()) if r not in lst)
        for a in range(0, idx.size, chunk_size):
            part = idx[a : a + chunk_size]
            sub = _select_cohort(cohort, part)
            ecoh = _engine_cohort(sub, base.iloc[part].reset_index(drop=True), seed)
            therapies = build_arm(arm_spec.treatment, bctx, arm_spec.name)
            if protocol.trial_effect:
                therapies.append(PlaceboTrialEffect())
            arm = ArmState(ecoh, therapies)
            for k, (vm, vd) in enumerate(zip(visits, days, strict=True)):
                if vd > arm.day:
                    advance(arm, vd - arm.day)
                vals = _measure_visit(arm, measures, seed, k)
                ids = ecoh.ctx.patient_ids
                for name, v in vals.items():
                    if name not in measures:
                        continue
                    rows.append(
                        pd.DataFrame(
                            {
                                "arm": arm_spec.name,
                                "patient_id": ids,
                                "visit_month": vm,
                                "measure": name,
                                "value": np.asarray(v, float),
                            }
                        )
                    )
            done += part.size
            if progress is not None:
                progress(arm_spec.name, done, n_total)
    t_sim = time.perf_counter()
    true_results = pd.concat(rows, ignore_index=True)
    results, flow = observe(true_results, protocol, seed)
    wanted = set(protocol.measurements)
    true_results = _derive_homa(true_results, wanted)
    results = _derive_homa(results, wanted)  # from the measured FPG and insulin (assay error included)
    patients = _patients_table(base, flow)
    t_end = time.perf_counter()
    timings = {
        "screening_s": t_screen - t0,
        "simulation_s": t_sim - t_screen,
        "analysis_s": t_end - t_sim,
        "total_s": t_end - t0,
    }
    return TrialRun(
        results,
        patients,
        true_results,
        screening,
        risks,
        timings,
        {"seed": seed, "chunk_size": chunk_size, "backend": "numba"},
    )


def _derive_homa(results: pd.DataFrame, wanted: set[str]) -> pd.DataFrame:
    """Add HOMA1-IR and HOMA1-%B rows (Matthews 1985) computed from the table's FPG and fasting insulin,
    for the HOMA measures the protocol asks for."""
    names = [m for m in ("homa_ir", "homa_b_percent") if m in wanted]
    if not names:
        return results
    wide = results.pivot_table(index=["arm", "patient_id", "visit_month"], columns="measure", values="value")
    if "fasting_insulin_pmol_l" not in wide or "fpg_mgdl" not in wide:
        return results
    both = wide[["fpg_mgdl", "fasting_insulin_pmol_l"]].dropna()
    fpg = both["fpg_mgdl"].to_numpy()
    fpi_uuml = both["fasting_insulin_pmol_l"].to_numpy() / PMOLL_PER_UUML_INSULIN
    fns = {"homa_ir": markers.homa1_ir, "homa_b_percent": markers.homa1_b_pct}
    extra = []
    for name in names:
        # HOMA1-%B is undefined at FPG ≤ 3.5 mmol/L (63 mg/dL): those rows are left out.
        ok = fpg > 63.1 if name == "homa_b_percent" else np.ones(fpg.shape, bool)
        df = both.index[ok].to_frame(index=False)
        df["measure"] = name
        df["value"] = fns[name](fpg[ok], fpi_uuml[ok])
        extra.append(df)
    return pd.concat([results] + extra, ignore_index=True)


def _patients_table(base: pd.DataFrame, flow: pd.DataFrame) -> pd.DataFrame:
    p = base.drop(columns=["exog_insulin"]).merge(flow.drop(columns=["arm"]), on="patient_id", how="left")
    p["randomised"] = True
    cols = ["arm", "patient_id"] + [c for c in p.columns if c not in ("arm", "patient_id")]
    return p[cols]
