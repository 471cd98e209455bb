"""UKPDS OM2 simulator against a published UKPDS-OM2 output for a published cohort.

Published numbers (V, read in the table itself: https://pmc.ncbi.nlm.nih.gov/articles/PMC6659402/
table/T3). Palmer AJ, Si L, Tew M, et al. Computer modeling of diabetes and its transparency: a
report on the Eighth Mount Hood Challenge. Value Health 2018;21(6):724-731, Table 3
"Undiscounted ... total QALYs ... for conventional vs. intensive blood glucose control estimated
from the UKPDS 72 and other modeling groups". The challenge asked every group to reproduce UKPDS 72
(Clarke PM et al. Diabetologia 2005;48:868, the lifetime simulation of the UKPDS 33 glucose-control
cohort) "using the input data described in those articles; gaps in input data were filled with
assumptions reported by the modeling groups" (abstract). Column "UKPDS-OM version 2" (run by the
model's developers): total QALYs conventional 19.14, intensive 19.29, difference 0.15. The same
table gives the original UKPDS 72 result (16.35 / 16.62) and the OM developers' re-run of that
study with OM version 1 from the published inputs (16.59 / 16.79).

What is compared: lifetime undiscounted QALYs per patient (UKPDS 62 utilities, the set UKPDS 72
used, from memory, U) of a cohort built from the published UKPDS 33 description, and the intensive-minus-
conventional QALY gain. No published OM2 cumulative incidence for a defined cohort was reachable
(see docs/complications.md section 7); QALYs are the closest published OM2 output.

Cohort (2000 representative patients, identical in both arms; sources and tags):
* age 53.3 +- 8.6 y, clipped to the 25-65 y entry range (UKPDS 33 arms 53.2 +- 8.6 / 53.4 +- 8.6,
  Cochrane review table of UKPDS 33, PMC6481869, V; entry age 25-65, UKPDS VIII abstract, V);
  newly diagnosed (duration 0);
* 39.0 % women (1508 of 3867, UKPDS 33; secondary summary, S);
* ethnicity 83 % white, 9 % Afro-Caribbean, 8 % Asian-Indian (UKPDS 55 abstract, the 2999
  patients randomised to glucose policies, V);
* BMI 28 kg/m^2 (median at entry, UKPDS VIII abstract, V), SD 5.5 (U);
* LDL 3.6 +- 1.1, HDL 1.10 +- 0.27 mmol/L, urinary albumin >= 50 mg/L (the OM2 MMALB
  definition) 17 % (UKPDS 38 Table 1, PMC28659, V for the hypertensive sub-cohort, used as a proxy
  for the whole cohort, S);
* unverified (U): SBP 135 +- 19 mmHg, 30 % current smokers, eGFR 80 +- 15 mL/min/1.73 m^2, heart
  rate 75 +- 11 /min, WBC 7.0 +- 1.8 10^9/L, haemoglobin 14.3 +- 1.3 g/dL, no AF, PVD or prior
  complication (UKPDS excluded recent MI, angina and heart failure); held constant for life
  (``extend="constant"``; the UKPDS 90 extension changes the result by +0.075 QALY, measured);
* HbA1c: 10-year medians of UKPDS 33 (abstract, V): conventional 7.9 %, intensive 7.0 %, held for
  the 10 trial years. After the trial: "converge" = both arms 7.9 % (UKPDS 80, Holman et al. NEJM
  2008: between-group HbA1c differences were lost after the first post-trial year; secondary
  summaries, S) or "persist" = arm values for life. UKPDS 72 extrapolated HbA1c with the OM1 risk
  factor equation (from memory, U), whose path should lie between these two, so the two are taken
  to bracket the intended scenario.

Tolerances (level tests; every component measured or read, none fitted to the result):
* Monte Carlo + cohort sampling: 2 x SE of the cohort mean over patients (measured, ~0.12 QALY);
* unverified inputs: quadrature sum of the one-at-a-time half-ranges below (common random
  numbers, 2000 x 50, measured by running this file as a script), 0.39 QALY;
* risk-factor extension (constant vs UKPDS 90 paths): 0.075 QALY (measured, same script);
* reproduction from published inputs: 0.24 QALY = OM1 re-run from the challenge inputs minus the
  original patient-level UKPDS 72 result (16.59 - 16.35, same Table 3): how far the model's own
  developers landed from the target when working from the published description;
* year-of-death convention: this module counts the year of death as half a year; the OM2
  software's convention is not documented in any source reached (U). Counting it as a full year
  would add 0.5 x P(death) x (QALYs / life years) per patient (computed from the run, ~0.37).
The level tests pass if the published value lies within the sum of the first four components; the
year-of-death convention is reported but not added (it was identified after the gap was seen).
Measured (seed 72): conventional 18.16 (SE 0.12) vs 19.14 published (gap +0.98 QALY, simulated 5.1 %
low) against a budget of 0.94: just outside what the stated input approximations explain, so that
test is a strict xfail; it would agree if the OM2 software counts the year of death as a full year
(+0.37) or if its challenge inputs differed from ours more than the ranges above. Intensive arm:
18.27 (converge, gap +1.02) to 18.44 (persist, gap +0.85) vs 19.29; it passes only through the
"persist" upper bound. Both arms are thus 0.85-1.02 QALY (4.4-5.3 %) below the published OM2
values, a common ~5 % shortfall. This is a +-7 % check of the OM2 mortality and complication
equations as a whole (a gross error in a death equation moves the level by more), not a precise one.

QALY gain (intensive - conventional): insensitive to the non-HbA1c inputs (<= 0.006 QALY per
input, measured) but driven by the post-trial HbA1c assumption: the published 0.15 must lie
between the "converge" and "persist" results widened by 2 SE of the paired difference plus the
HbA1c-level sensitivity of the gain (conventional level 7.9 +- 0.5 %: +-0.06 QALY, measured).
Measured: converge 0.109, persist 0.276 (paired SE 0.004-0.006); band [0.04, 0.35].
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from t2dsim.outcomes.ukpds_om2 import OM2Inputs, OM2Result, simulate

N_PATIENTS = 2000
N_MC = 50
SEED = 72
COHORT_SEED = 72
TRIAL_YEARS = 10

#: Palmer et al. Value Health 2018;21:724, Table 3 (undiscounted lifetime QALYs).
PUBLISHED_OM2 = {"conventional": 19.14, "intensive": 19.29, "difference": 0.15}
PUBLISHED_UKPDS72 = {"conventional": 16.35, "intensive": 16.62}
PUBLISHED_OM1_RERUN = {"conventional": 16.59, "intensive": 16.79}

#: Unverified / proxy inputs: (central value, low, high) of the plausible range used for the
#: one-at-a-time sensitivity (see module docstring and ``python tests/<this file>``).
CENTRAL = {
    "sbp": 135.0,
    "smoker": 0.30,
    "mmalb": 0.17,
    "egfr": 80.0,
    "heart_rate": 75.0,
    "wbc": 7.0,
    "haemoglobin": 14.3,
    "ldl": 3.6,
    "hdl": 1.10,
    "bmi": 28.0,
    "hba1c_conv": 7.9,
}
RANGES = {
    "sbp": (130.0, 140.0),
    "smoker": (0.23, 0.35),
    "mmalb": (0.10, 0.20),
    "egfr": (70.0, 90.0),
    "heart_rate": (70.0, 80.0),
    "wbc": (6.5, 7.5),
    "haemoglobin": (13.8, 14.8),
    "ldl": (3.4, 3.8),
    "hdl": (1.0, 1.2),
    "bmi": (27.0, 29.8),
    "hba1c_conv": (7.4, 8.4),
}
#: Measured half-ranges (QALYs, conventional arm) of the one-at-a-time sensitivity,
#: ``.venv/bin/python tests/test_ukpds_om2_published_outputs.py`` (2000 x 50, seed 72).
INPUT_HALF_RANGE_QALY = {
    "sbp": 0.140,
    "smoker": 0.147,
    "mmalb": 0.089,
    "egfr": 0.173,
    "heart_rate": 0.061,
    "wbc": 0.092,
    "haemoglobin": 0.015,
    "ldl": 0.162,
    "hdl": 0.096,
    "bmi": 0.009,
    "hba1c_conv": 0.155,
}
INPUT_TOL = math.sqrt(sum(v * v for v in INPUT_HALF_RANGE_QALY.values()))  # 0.39
EXTENSION_TOL = 0.075  # |UKPDS 90 paths - constant|, measured +0.075
REPRODUCTION_TOL = PUBLISHED_OM1_RERUN["conventional"] - PUBLISHED_UKPDS72["conventional"]  # 0.24
GAIN_HBA1C_TOL = 0.062  # gain sensitivity to the conventional HbA1c level 7.9 +- 0.5, measured -0.063/+0.060


def ukpds33_cohort(
    n: int,
    arm: str,
    post_trial: str = "converge",
    seed: int = COHORT_SEED,
    **overrides: float,
) -> OM2Inputs:
    """UKPDS 33 glucose-control cohort as described in the module docstring.

    ``arm``: "conventional" or "intensive"; ``post_trial``: "converge" or "persist";
    ``overrides``: replace a central value of :data:`CENTRAL` (for the sensitivity analysis).
    The random draws do not depend on the arm or the overrides (common random numbers).
    """
    if arm not in ("conventional", "intensive"):
        raise ValueError(f"arm must be 'conventional' or 'intensive', got {arm!r}")
    if post_trial not in ("converge", "persist"):
        raise ValueError(f"post_trial must be 'converge' or 'persist', got {post_trial!r}")
    p = {**CENTRAL, **overrides}
    g = np.random.default_rng(seed)
    eth = g.choice(["white", "afro_caribbean", "asian_indian"], size=n, p=[0.83, 0.09, 0.08])
    female = g.random(n) < 1508 / 3867
    age = np.clip(g.normal(53.3, 8.6, n), 25.0, 65.0)
    z = g.standard_normal((8, n))
    u = g.random((2, n))
    conv = p["hba1c_conv"]
    trial = 7.0 if arm == "intensive" else conv
    after = conv if post_trial == "converge" else trial

    def hba1c(t: int) -> np.ndarray:
        return np.full(n, trial if t < TRIAL_YEARS else after)

    return OM2Inputs(
        age=age,
        duration=np.zeros(n),
        female=female,
        hba1c=hba1c,
        sbp=np.clip(p["sbp"] + 19.0 * z[0], 95.0, 220.0),
        ldl=np.clip(p["ldl"] + 1.1 * z[1], 1.2, 8.0),
        hdl=np.clip(p["hdl"] + 0.27 * z[2], 0.5, 2.5),
        bmi=np.clip(p["bmi"] + 5.5 * z[3], 18.0, 50.0),
        egfr=np.clip(p["egfr"] + 15.0 * z[4], 30.0, 140.0),
        heart_rate=np.clip(p["heart_rate"] + 11.0 * z[5], 45.0, 120.0),
        wbc=np.clip(p["wbc"] + 1.8 * z[6], 3.0, 15.0),
        haemoglobin=np.clip(p["haemoglobin"] + 1.3 * z[7], 9.0, 18.0),
        smoker=u[0] < p["smoker"],
        mmalb=u[1] < p["mmalb"],
        ethnicity=eth,
        patient_id=np.arange(n),
    )


def run(arm: str, post_trial: str = "converge", extend: str = "constant", n: int = N_PATIENTS, **kw) -> OM2Result:
    """Lifetime (to age 100) run, UKPDS 62 utilities, seed :data:`SEED`."""
    return simulate(ukpds33_cohort(n, arm, post_trial, **kw), None, n_mc=N_MC, seed=SEED, extend=extend)


def cohort_mean_and_se(x: np.ndarray) -> tuple[float, float]:
    """Mean over all rows and SE over patients (rows = patients, columns = replicates)."""
    per_patient = x.mean(axis=1)
    return float(per_patient.mean()), float(per_patient.std(ddof=1) / math.sqrt(per_patient.size))


def death_year_convention(res: OM2Result) -> float:
    """QALYs a full-year (instead of half-year) count of the year of death would add per patient,
    approximated with the run's mean utility per life year."""
    died = ~res.alive_at_end
    return float(0.5 * died.mean() * res.qalys.mean() / res.life_years.mean())


@pytest.fixture(scope="module")
def runs() -> dict[str, OM2Result]:
    return {
        "conventional": run("conventional"),
        "intensive_converge": run("intensive", "converge"),
        "intensive_persist": run("intensive", "persist"),
    }


def test_cohort_follows_the_published_description():
    """The builder reproduces the sourced cohort summaries (sample of 2000, 4 SE bounds) and the
    two arms share every non-HbA1c input (common random numbers)."""
    c = ukpds33_cohort(N_PATIENTS, "conventional")
    i = ukpds33_cohort(N_PATIENTS, "intensive")
    n = N_PATIENTS
    assert abs(c.age_arr.mean() - 53.3) < 4 * 8.6 / math.sqrt(n) + 0.2  # clipping lowers it ~0.1
    assert c.age_arr.min() >= 25.0 and c.age_arr.max() <= 65.0
    share_f = 1508 / 3867
    assert abs(c.female_arr.mean() - share_f) < 4 * math.sqrt(share_f * (1 - share_f) / n)
    assert abs((~c.afro_arr & ~c.indian_arr).mean() - 0.83) < 4 * math.sqrt(0.83 * 0.17 / n)
    assert np.array_equal(c.age_arr, i.age_arr) and np.array_equal(c.female_arr, i.female_arr)
    for name in ("sbp", "ldl", "hdl", "egfr", "smoker", "mmalb"):
        assert np.array_equal(c.sources[name].array, i.sources[name].array), name


def level_tolerance(res: OM2Result) -> tuple[float, float, float]:
    """(simulated mean QALYs, SE, allowed |published - simulated|) for a level comparison."""
    mean, se = cohort_mean_and_se(res.qalys)
    # The year-of-death convention (~0.37 QALY, module docstring) is reported but NOT part of the
    # tolerance: it was identified after the gap was seen, and no source says which convention OM2 uses.
    tol = 2 * se + INPUT_TOL + EXTENSION_TOL + REPRODUCTION_TOL
    return mean, se, tol


@pytest.mark.xfail(
    strict=True,
    reason="Measured (seed 72): conventional arm 18.16 QALYs (SE 0.12) vs published OM2 19.14: gap +0.98 "
    "against a budget of 0.94 from the stated input approximations. It would agree if the OM2 software "
    "counted the year of death as a full year (+~0.37 QALY here; convention undocumented in any source "
    "reached) or if post-decade mortality here is too high (open: check the death equations against the "
    "Hayes 2013 ESM); see docs/complications.md section 7.",
)
def test_lifetime_qalys_conventional_arm_vs_published_om2(runs):
    """Conventional arm: published OM2 19.14 QALYs (Palmer 2018 Table 3) within the stated
    tolerance of the simulated cohort mean (see module docstring for every component)."""
    mean, se, tol = level_tolerance(runs["conventional"])
    gap = PUBLISHED_OM2["conventional"] - mean
    assert abs(gap) <= tol, f"simulated {mean:.2f} (SE {se:.2f}) vs published 19.14: gap {gap:+.2f}, allowed {tol:.2f}"


def test_lifetime_qalys_intensive_arm_vs_published_om2(runs):
    """Intensive arm: published OM2 19.29 QALYs within the stated tolerance of the interval
    spanned by the two post-trial HbA1c assumptions ("converge", "persist").

    Measured (seed 72): converge 18.27 (gap +1.02, outside the 0.94 budget), persist 18.44 (gap
    +0.85, inside): the test passes only through the "persist" upper bound. Like the conventional
    arm (gap +0.98, strict xfail above), the intensive arm is 0.85-1.02 QALY below the published
    OM2 value: a common ~5 % shortfall of both arms, not an arm-specific agreement.
    """
    lo, se_lo, tol_lo = level_tolerance(runs["intensive_converge"])
    hi, se_hi, tol_hi = level_tolerance(runs["intensive_persist"])
    tol = max(tol_lo, tol_hi)
    published = PUBLISHED_OM2["intensive"]
    assert lo - tol <= published <= hi + tol, (
        f"simulated {lo:.2f} (converge) .. {hi:.2f} (persist) vs published {published}, allowed +-{tol:.2f}"
    )


def test_qaly_gain_intensive_vs_conventional_vs_published_om2(runs):
    """QALY gain of 10 years of intensive control: published OM2 0.15 (Palmer 2018 Table 3) must
    lie between the "converge" and "persist" gains (same patients, same random numbers), each
    widened by 2 paired SE plus the HbA1c-level sensitivity (0.06 QALY)."""
    conv = runs["conventional"].qalys
    gains = {}
    for k in ("converge", "persist"):
        d = runs[f"intensive_{k}"].qalys - conv
        gains[k] = cohort_mean_and_se(d)
    lo = gains["converge"][0] - 2 * gains["converge"][1] - GAIN_HBA1C_TOL
    hi = gains["persist"][0] + 2 * gains["persist"][1] + GAIN_HBA1C_TOL
    assert gains["converge"][0] < gains["persist"][0]
    assert lo <= PUBLISHED_OM2["difference"] <= hi, (
        f"simulated gain {gains['converge'][0]:.3f} (converge) .. {gains['persist'][0]:.3f} (persist), "
        f"band [{lo:.3f}, {hi:.3f}] vs published 0.15"
    )


def sensitivity_table() -> None:  # pragma: no cover - measurement script, run by hand
    """Print the measured numbers behind the tolerances (about 2 minutes on 2 cores)."""
    base = run("conventional")
    base_q = base.qalys.mean()
    m, se = cohort_mean_and_se(base.qalys)
    print(
        f"conventional: QALYs {m:.3f} (SE {se:.3f}), life years {base.life_years.mean():.3f}, "
        f"death-year convention {death_year_convention(base):.3f}"
    )
    for k in ("converge", "persist"):
        r = run("intensive", k)
        d = cohort_mean_and_se(r.qalys - base.qalys)
        print(f"intensive {k}: QALYs {r.qalys.mean():.3f}, gain {d[0]:.3f} (SE {d[1]:.3f})")
    ext = run("conventional", extend="ukpds90")
    print(f"extension ukpds90 - constant: {ext.qalys.mean() - base_q:+.3f}")
    adv = simulate(
        ukpds33_cohort(N_PATIENTS, "conventional"),
        None,
        n_mc=N_MC,
        seed=SEED,
        extend="constant",
        utilities="advance_hayes2016",
    )
    print(
        f"utilities advance_hayes2016 - ukpds62 (information, not in the tolerance): {adv.qalys.mean() - base_q:+.3f}"
    )
    gain0 = (run("intensive").qalys - base.qalys).mean()
    for name, (lo, hi) in RANGES.items():
        dq, dg = [], []
        for v in (lo, hi):
            c = run("conventional", **{name: v})
            i = run("intensive", **{name: v})
            dq.append(c.qalys.mean() - base_q)
            dg.append((i.qalys - c.qalys).mean() - gain0)
        print(
            f"{name:12s} {lo}..{hi}: QALYs {dq[0]:+.3f} {dq[1]:+.3f} (half-range "
            f"{(abs(dq[0]) + abs(dq[1])) / 2:.3f}); gain {dg[0]:+.3f} {dg[1]:+.3f}"
        )


if __name__ == "__main__":  # pragma: no cover
    sensitivity_table()
