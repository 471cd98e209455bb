"""Invariants under random physiology (issue 18): draw parameter sets across wide ranges around the meal and
progression models' priors, simulate, and check that nothing unphysical comes out.

Meal model (one day, three random meals, insulin-treated draws get a basal infusion and meal boluses):
every state and flux finite; masses and concentrations (stomach, gut, plasma/tissue glucose, plasma, liver,
subcutaneous and portal insulin, delayed insulin signals, C-peptide) ≥ 0; provisional secretion Y ≥ −Sb;
fluxes Ra, EGP, secretion, Uid, renal ≥ 0; plasma glucose within (0, 2000] mg/dL.
Progression model (50 years from the healthy start at the 7.6-day placement step, then 3 years daily with
random therapy effects): all outputs finite; glucose within (0, 2000] mg/dL; insulin, β-cell mass, σ, SI and
inflammation ≥ 0; HbA1c within [4, 20] %.

Draws (ranges are deliberately wider than the cohorts'): meal parameters geometrically interpolated between
the Dalla Man 2007 normal and T2D subjects (weight U(−0.25, 1.25)) times log-normal noise (sd 0.25), basal
glucose 70–300 mg/dL, insulin 10–150 pmol/L, EGP 1.2–3.5 mg/kg/min, body weight 45–160 kg; progression
parameters around the t2dsim calibration with the preset variability widened (presets._physiology), BMI
17–55 kg/m², age 20–80 y, each therapy effect uniform over a wide part of its allowed range.
Infeasible meal basal states (tissue glucose ≤ 0, EGPb below insulin-independent use) are rejected
before simulation and counted.

Run: PYTHONPATH=src .venv/bin/python benchmarks/invariants.py [--n 100000] [--seed 0]
Writes benchmarks/results/invariants.json. A seeded few-hundred-draw version runs in
tests/test_invariants.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from t2dsim.core.units import PMOL_PER_U_INSULIN
from t2dsim.physiology import meal as mm
from t2dsim.physiology import progression as pr
from t2dsim.physiology.cpeptide import van_cauter_kinetics
from t2dsim.physiology.progression_params import _EFFECT_RANGES
from t2dsim.solvers import integrate_meal

G_MAX_MGDL = 2000.0  # above any recorded human glucose (hyperosmolar states ~ 1500-2600 mg/dL are case reports)
HBA1C_RANGE = (4.0, 20.0)
#: Meal states that are masses or concentrations (must stay ≥ 0): all but X (insulin action, a deviation
#: from basal that may be negative) and Y (provisional secretion, ≥ −Sb).
MEAL_NONNEG = tuple(i for i, s in enumerate(mm.STATE_NAMES) if s not in ("X", "Y"))
TOL = 1e-9


def _meal_rows(rng: np.random.Generator, n: int) -> tuple[mm.MealParams, np.ndarray]:
    """``n`` random meal-model parameter sets (feasible basal states only) and the insulin-treated flag."""
    tab = mm.dallaman_table().set_index("name")
    base = {k: (mm.dallaman_2007("normal").values[k][0], mm.dallaman_2007("t2d").values[k][0]) for k in mm.P}
    w = rng.uniform(-0.25, 1.25, n)  # 0 = T2D subject, 1 = normal subject
    vals: dict[str, np.ndarray] = {}
    for k in mm.PARAM_NAMES:
        nor, t2d = base[k]
        if k in tab.index and nor > 0 and t2d > 0 and k not in ("HEb", "f", "b", "d"):
            vals[k] = t2d ** (1 - w) * nor**w * np.exp(0.25 * rng.standard_normal(n))
        else:
            vals[k] = np.full(n, t2d)
    for k, lo, hi in (("f", 0.7, 0.95), ("b", 0.5, 0.9), ("d", 0.005, 0.2), ("HEb", 0.4, 0.8)):
        vals[k] = rng.uniform(lo, hi, n)
    vals["kmin"] = np.minimum(vals["kmin"], 0.9 * vals["kmax"])
    vals["Gb"] = rng.uniform(70.0, 300.0, n)
    vals["Ib"] = rng.uniform(10.0, 150.0, n)
    vals["EGPb"] = rng.uniform(1.2, 3.5, n)
    vals["BW"] = rng.uniform(45.0, 160.0, n)
    for k in ("ka1", "ka2", "kd", "ksc"):
        vals[k] = vals[k] * np.exp(0.3 * rng.standard_normal(n))
    cp = van_cauter_kinetics(
        rng.uniform(20, 85, n), rng.random(n) < 0.5, vals["BW"], rng.uniform(150, 195, n),
        np.where(rng.random(n) < 0.5, "normal", "niddm"),
    )  # fmt: skip
    vals.update(cp_k1=cp.k1, cp_k2=cp.k2, cp_k3=cp.k3, cp_V=cp.volume_l, Sfix=np.zeros(n), u2ss=np.zeros(n))
    vals["beta_Y_up"] = np.where(rng.random(n) < 0.3, rng.uniform(1.0, 3.0, n), 1.0)
    # feasibility of the basal state (the conditions derive_basal enforces), rows rejected here
    gpb = vals["Gb"] * vals["VG"]
    renal = np.where(gpb > vals["ke2"], vals["ke1"] * (gpb - vals["ke2"]), 0.0)
    ok = ((vals["Fsnc"] + renal - vals["EGPb"] + vals["k1"] * gpb) > 0) & ((vals["EGPb"] - vals["Fsnc"] - renal) > 0)
    vals = {k: v[ok] for k, v in vals.items()}
    m = int(ok.sum())
    sec = np.ones(m, dtype=bool)
    v0 = mm.derive_basal(vals, sec)
    # insulin-treated draws: exogenous basal covering a fraction of basal insulin; some with a secretagogue
    treated = rng.random(m) < 0.4
    m30 = v0["HEb"] * v0["m1"] / (1 - v0["HEb"])
    u_max = v0["Sb"] * v0["m1"] / (v0["m1"] + m30)
    vals["u2ss"] = np.where(treated, rng.uniform(0.0, 0.95, m) * u_max, 0.0)
    v1 = mm.derive_basal(vals, sec)
    vals["Sfix"] = np.where(rng.random(m) < 0.3, rng.uniform(0.0, 0.9, m) * (v1["Sb"] + v1["Sfix"]), 0.0)
    v2 = mm.derive_basal(vals, sec)
    params = mm.MealParams({k: v2[k] for k in mm.PARAM_NAMES}, tuple(f"m{i}" for i in range(m)))
    return params, treated


def _meal_inputs(rng: np.random.Generator, params: mm.MealParams, treated: np.ndarray) -> tuple[np.ndarray, ...]:
    """Carbohydrate (mg/min) and subcutaneous insulin (pmol/kg/min) per minute over one day."""
    n = params.n
    cho = np.zeros((n, 1440))
    ins = np.repeat(params["u2ss"][:, None], 1440, axis=1)
    icr = rng.uniform(4.0, 25.0, n)  # g carbohydrate per U of bolus
    for lo, hi in ((360, 540), (660, 840), (1020, 1260)):
        start = rng.integers(lo, hi, n)
        grams = rng.uniform(0.0, 150.0, n)
        dur = np.ceil(grams / 5.0).astype(int)  # eaten at 5 g/min
        for j in range(n):
            cho[j, start[j] : start[j] + dur[j]] = 5000.0
            cho[j, start[j] + dur[j] - 1] = 1000.0 * (grams[j] - 5.0 * (dur[j] - 1)) if dur[j] else 0.0
            if treated[j]:
                ins[j, start[j]] += grams[j] / icr[j] * PMOL_PER_U_INSULIN / params["BW"][j]
    return cho, ins


def check_meal(n: int, seed: int, chunk: int = 1000) -> dict:
    rng = np.random.default_rng([seed, 1])
    params, treated = _meal_rows(rng, n)
    cho, ins = _meal_inputs(rng, params, treated)
    x0 = mm.basal_state(params)
    pm = params.to_matrix()
    bad = {"nonfinite": 0, "negative_mass": 0, "y_below_minus_sb": 0, "negative_flux": 0, "glucose_out_of_bounds": 0}
    state_min = np.full(mm.N_STATES, np.inf)
    g_lo, g_hi = np.inf, -np.inf
    examples: list[dict] = []
    for a in range(0, params.n, chunk):
        s = slice(a, min(params.n, a + chunk))
        st, aux, _ = integrate_meal(x0[s], pm[s], cho[s], ins[s], record=tuple(range(mm.N_STATES)))
        finite = np.isfinite(st).all(axis=(1, 2)) & np.isfinite(aux).all(axis=(1, 2))
        smin = st.min(axis=1)
        neg = (smin[:, list(MEAL_NONNEG)] < -TOL).any(axis=1)
        ylow = smin[:, 14] < -params["Sb"][s] - TOL
        fneg = (aux.min(axis=1) < -TOL).any(axis=1)
        g = st[:, :, 3] / params["VG"][s, None]
        gout = (g.min(axis=1) <= 0) | (g.max(axis=1) > G_MAX_MGDL)
        for key, flag in (("nonfinite", ~finite), ("negative_mass", neg), ("y_below_minus_sb", ylow),
                          ("negative_flux", fneg), ("glucose_out_of_bounds", gout)):  # fmt: skip
            bad[key] += int(flag.sum())
            for j in np.flatnonzero(flag)[: max(0, 3 - len(examples))]:
                examples.append(
                    {"check": key, "row": int(a + j), "params": {k: float(pm[a + j, i]) for k, i in mm.P.items()}}
                )
        state_min = np.minimum(state_min, np.nanmin(smin, axis=0))
        g_lo, g_hi = min(g_lo, float(np.nanmin(g))), max(g_hi, float(np.nanmax(g)))
    return {
        "drawn": n,
        "feasible_simulated": params.n,
        "rejected_infeasible_basal": n - params.n,
        "insulin_treated": int(treated.sum()),
        "violations": bad,
        "plasma_glucose_range_mgdl": [g_lo, g_hi],
        "state_min": dict(zip(mm.STATE_NAMES, map(float, state_min), strict=True)),
        "examples": examples,
    }


def _progression_rows(rng: np.random.Generator, n: int) -> tuple[pr.ProgressionParams, np.ndarray, np.ndarray]:
    base = pr.t2dsim_params(n)
    ln = rng.standard_normal((n, 5))
    p = base.replace(
        SI_target=np.clip(0.15 * np.exp(0.5 * ln[:, 0]), 0.03, 0.6) / pr.T2DSIM_INSULIN_SCALE,
        tSI=1.0 / (365.25 * rng.uniform(4.0, 30.0, n)),
        Amax=base["Amax"] * np.clip(np.exp(0.3 * ln[:, 1]), 0.3, 3.0),
        tau_beta=base["tau_beta"] * np.clip(np.exp(0.3 * ln[:, 2]), 0.3, 3.0),
        beta_cap_mg=base["beta_cap_mg"] * np.clip(np.exp(0.3 * ln[:, 3]), 0.5, 3.0),
        infl_offset=0.2 * ln[:, 4],
    )
    pure = rng.random(n) < 0.2  # a fifth with the pure Ha 2016 configuration
    ha = pr.ha2016_params(n)
    p = pr.ProgressionParams({k: np.where(pure, ha[k], p[k]) for k in pr.PARAM_NAMES})
    return p, rng.uniform(17.0, 55.0, n), rng.uniform(20.0, 80.0, n)


def _progression_flags(r: pr.ProgressionResult) -> dict[str, np.ndarray]:
    o = {k: r[k].astype(np.float64) for k in pr.OUTPUT_NAMES}
    finite = np.all([np.isfinite(v).all(axis=1) for v in o.values()], axis=0)
    g = o["glucose_mgdl"]
    nonneg = ("insulin_endo_uuml", "insulin_total_uuml", "beta_mass_mg", "sigma", "si_state", "si_eff", "inflammation")
    return {
        "nonfinite": ~finite,
        "glucose_out_of_bounds": (g.min(axis=1) <= 0) | (g.max(axis=1) > G_MAX_MGDL),
        "negative_state": np.any([o[k].min(axis=1) < 0 for k in nonneg], axis=0),
        "hba1c_out_of_range": (o["hba1c_pct"].min(axis=1) < HBA1C_RANGE[0])
        | (o["hba1c_pct"].max(axis=1) > HBA1C_RANGE[1]),
    }


def check_progression(n: int, seed: int) -> dict:
    from t2dsim.population.presets import _STEP_DAYS, _STEPS_PER_MONTH

    rng = np.random.default_rng([seed, 2])
    p, bmi, age = _progression_rows(rng, n)
    months = np.arange(1, 50 * 12 + 1)
    ra = pr.simulate_progression(
        p.replace(si_age_per_year=0.0), pr.t2dsim_initial_state(n), months[-1] * _STEPS_PER_MONTH, bmi_kg_m2=bmi,
        record_days=months * _STEPS_PER_MONTH, coarse_step_days=_STEP_DAYS,
    )  # fmt: skip
    lo = {k: v[0] for k, v in _EFFECT_RANGES.items()}
    eff = pr.Effects(
        si_mult=rng.uniform(0.3, 4.0, n), hgp_mult=rng.uniform(0.5, 1.5, n), secretion_mult=rng.uniform(0.3, 4.0, n),
        glucose_loss_per_day=np.where(rng.random(n) < 0.3, rng.uniform(0.0, 1.0, n), lo["glucose_loss_per_day"]),
        exog_insulin_uuml=np.where(rng.random(n) < 0.5, rng.uniform(0.0, 100.0, n), 0.0),
        graft_beta_mass_mg=np.where(rng.random(n) < 0.2, rng.uniform(0.0, 3000.0, n), 0.0),
        inflammation_mult=rng.uniform(0.0, 2.0, n), beta_protect=rng.uniform(0.0, 1.0, n),
    )  # fmt: skip
    rb = pr.simulate_progression(p, ra.state, 3 * 365, age_years=age, bmi_kg_m2=bmi, effects=eff)
    fa, fb = _progression_flags(ra), _progression_flags(rb)
    out: dict = {"drawn": n, "violations": {}, "examples": []}
    for key in fa:
        flag = fa[key] | fb[key]
        out["violations"][key] = int(flag.sum())
        for j in np.flatnonzero(flag)[:2]:
            out["examples"].append(
                {"check": key, "row": int(j), "bmi": float(bmi[j]), **{k: float(p[k][j]) for k in ("SI_target", "tSI")}}
            )
    g = np.concatenate([ra["glucose_mgdl"], rb["glucose_mgdl"]], axis=1)
    h = np.concatenate([ra["hba1c_pct"], rb["hba1c_pct"]], axis=1)
    out["glucose_range_mgdl"] = [float(g.min()), float(g.max())]
    out["hba1c_range_pct"] = [float(h.min()), float(h.max())]
    return out


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from _common import write_result

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    meal = check_meal(args.n, args.seed)
    t1 = time.perf_counter()
    prog = check_progression(args.n, args.seed)
    t2 = time.perf_counter()
    write_result(
        "invariants",
        {
            "seed": args.seed,
            "meal": {**meal, "seconds": t1 - t0},
            "progression": {**prog, "seconds": t2 - t1},
            "all_pass": not any(meal["violations"].values()) and not any(prog["violations"].values()),
        },
    )


if __name__ == "__main__":
    main()
