"""Between-arm comparison of UKPDS OM2 simulations for the trial report.

:func:`compare_arms` simulates each arm (:func:`t2dsim.outcomes.ukpds_om2.simulate`) and returns a
long table of arm means and differences versus a reference arm with bootstrap intervals;
:func:`format_comparison` turns it into a wide report table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from t2dsim.outcomes.ukpds_om2 import OUTCOME_LABELS, OUTCOMES, OM2Inputs, OM2Result, simulate


def _measures(res: OM2Result, horizon_label: str, at_years: int | None) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Per-unit measure matrix. Units are patients (n >= 30) or (patient, replicate) rows."""
    names: list[tuple[str, str]] = []
    cols: list[np.ndarray] = []
    for o in OUTCOMES:
        fy = res.first_year[o]
        if at_years is not None:
            names.append((f"cumulative incidence {at_years} y: {OUTCOME_LABELS[o]}", "%"))
            cols.append(100.0 * ((fy >= 0) & (fy < at_years)))
        names.append((f"cumulative incidence {horizon_label}: {OUTCOME_LABELS[o]}", "%"))
        cols.append(100.0 * (fy >= 0))
    for arr, label, unit in (
        (res.life_years, f"life expectancy ({horizon_label}, undiscounted)", "years"),
        (res.life_years_disc, f"life years ({horizon_label}, discounted {res.discount_rate:.1%})", "years"),
        (res.qalys, f"QALYs ({horizon_label}, undiscounted, {res.utilities})", "QALY"),
        (
            res.qalys_disc,
            f"QALYs ({horizon_label}, discounted {res.discount_rate:.1%}, {res.utilities})",
            "QALY",
        ),
    ):
        names.append((label, unit))
        cols.append(arr)
    return names, np.stack([c.astype(np.float64) for c in cols], axis=-1)  # (n, n_mc, k)


def _boot(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means ``(n_boot, k)`` of the rows of ``values`` ``(m, k)`` (multinomial weights)."""
    m = values.shape[0]
    out = np.empty((n_boot, values.shape[1]))
    chunk = max(1, min(n_boot, 2_000_000 // max(m, 1)))
    for s in range(0, n_boot, chunk):
        b = min(chunk, n_boot - s)
        w = rng.multinomial(m, np.full(m, 1.0 / m), size=b).astype(np.float64)
        out[s : s + b] = w @ values / m
    return out


def compare_arms(
    arms: Mapping[str, OM2Inputs],
    horizon_years: int | None = None,
    n_mc: int = 100,
    seed: int = 0,
    *,
    reference: str | None = None,
    n_boot: int = 1000,
    utilities: str = "ukpds62",
    discount_rate: float = 0.035,
    extend: str = "ukpds90",
    max_age: float = 100.0,
) -> pd.DataFrame:
    """Simulate each arm with OM2 and tabulate outcomes and differences versus ``reference``.

    Returns a long table with columns ``measure, unit, arm, value, reference_arm, difference,
    diff_lo95, diff_hi95, interval``: arm means (cumulative incidence in %, life expectancy and
    life years in years, QALYs) at 10 years (when the horizon is >= 10 years) and over the
    horizon ("lifetime" when ``horizon_years`` is None), and the difference arm - reference with
    a 95% percentile bootstrap interval. The bootstrap resamples patients (paired when the arms
    share patient ids: common random numbers) if there are >= 30 patients, otherwise the
    (patient, replicate) rows, so it reflects Monte Carlo and cohort-sampling variation.
    ``df.attrs`` holds seed, n_mc, horizon, utilities, discounting and any hypothesis label.
    """
    if not arms:
        raise ValueError("arms: at least one arm is required")
    names = list(arms)
    ref = reference if reference is not None else names[0]
    if ref not in arms:
        raise ValueError(f"reference: {ref!r} is not an arm; arms: {names}")
    horizon_label = "lifetime" if horizon_years is None else f"{horizon_years} y"
    at_years = 10 if (horizon_years is None or horizon_years > 10) else None
    results = {
        a: simulate(
            c,
            horizon_years,
            n_mc,
            seed,
            max_age=max_age,
            utilities=utilities,
            discount_rate=discount_rate,
            extend=extend,
        )
        for a, c in arms.items()
    }
    mats = {}
    for a, r in results.items():
        labels, m = _measures(r, horizon_label, at_years)
        mats[a] = m
    rng = np.random.default_rng([seed, 0xB00757])
    rows = []
    for a in names:
        m_a = mats[a]
        per_patient_units = m_a.shape[0] >= 30
        unit = (lambda m: m.mean(axis=1)) if per_patient_units else (lambda m: m.reshape(-1, m.shape[-1]))
        mean_a = unit(m_a).mean(axis=0)
        if a == ref:
            diff = np.zeros_like(mean_a)
            lo = hi = np.full_like(mean_a, np.nan)
            how = ""
        else:
            m_r = mats[ref]
            diff = mean_a - unit(m_r).mean(axis=0)
            paired = np.array_equal(arms[a].patient_id_arr, arms[ref].patient_id_arr)
            if paired:
                bd = _boot(unit(m_a) - unit(m_r), n_boot, rng)
            else:
                bd = _boot(unit(m_a), n_boot, rng) - _boot(unit(m_r), n_boot, rng)
            lo, hi = np.percentile(bd, [2.5, 97.5], axis=0)
            how = (
                f"{'paired' if paired else 'unpaired'} bootstrap over "
                f"{'patients' if per_patient_units else 'patient-replicate rows'}, {n_boot} resamples"
            )
        for j, (label, unit_name) in enumerate(labels):
            rows.append(
                {
                    "measure": label,
                    "unit": unit_name,
                    "arm": a,
                    "value": mean_a[j],
                    "reference_arm": ref,
                    "difference": diff[j],
                    "diff_lo95": lo[j],
                    "diff_hi95": hi[j],
                    "interval": how,
                }
            )
    df = pd.DataFrame(rows)
    df.attrs.update(
        {
            "model": "UKPDS Outcomes Model 2 (Hayes et al. Diabetologia 2013;56:1925)",
            "seed": seed,
            "n_mc": n_mc,
            "horizon_years": horizon_years,
            "utilities": utilities,
            "discount_rate": discount_rate,
            "risk_factor_extension": extend,
            "max_age": max_age,
            "hazard_modifiers": {
                a: (c.hazard_modifiers.label if c.hazard_modifiers else "none") for a, c in arms.items()
            },
        }
    )
    return df


def format_comparison(df: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Wide report table from :func:`compare_arms`: one row per measure, one column per arm
    (value) and one per non-reference arm with ``difference [lo, hi]`` as text."""
    ref = df["reference_arm"].iloc[0]
    arms = list(dict.fromkeys(df["arm"]))
    measures = list(dict.fromkeys(df["measure"]))
    out = pd.DataFrame(index=pd.Index(measures, name="measure"))
    idx = df.set_index(["measure", "arm"])
    out["unit"] = [idx.loc[(m, ref), "unit"] for m in measures]
    for a in arms:
        out[a] = [round(float(idx.loc[(m, a), "value"]), digits) for m in measures]
    for a in arms:
        if a == ref:
            continue
        out[f"{a} - {ref} (95% interval)"] = [
            f"{idx.loc[(m, a), 'difference']:+.{digits}f} "
            f"[{idx.loc[(m, a), 'diff_lo95']:+.{digits}f}, {idx.loc[(m, a), 'diff_hi95']:+.{digits}f}]"
            for m in measures
        ]
    out.attrs.update(df.attrs)
    return out


__all__ = ["compare_arms", "format_comparison"]
