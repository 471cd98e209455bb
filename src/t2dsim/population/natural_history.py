"""Natural history of a cohort (no therapy change from baseline): one row per patient per month."""

from __future__ import annotations

import numpy as np
import pandas as pd

from t2dsim.core.units import PMOLL_PER_UUML_INSULIN
from t2dsim.physiology.markers import homa1_b_pct, homa1_ir
from t2dsim.physiology.progression import effective_si, simulate_progression
from t2dsim.population.presets import make_cohort

__all__ = ["run_natural_history", "NATURAL_HISTORY_COLUMNS"]

NATURAL_HISTORY_COLUMNS = (
    "patient_id", "month", "hba1c_pct", "fpg_mgdl", "fasting_insulin_pmol_l", "homa_b_pct", "homa_ir",
    "beta_cell_mass", "insulin_sensitivity", "inflammation", "beta_cell_function", "insulin_sensitivity_eff",
    "exog_insulin_uuml",
)  # fmt: skip


def run_natural_history(preset: str, n: int, years: float, seed: int = 0, chunk: int = 20_000) -> pd.DataFrame:
    """Build a ``preset`` cohort of ``n`` patients and run it for ``years`` on its baseline therapy.

    Returns a long DataFrame, one row per patient per month (month 0 = baseline), with columns
    NATURAL_HISTORY_COLUMNS: HbA1c (%), fasting glucose (mg/dL), fasting insulin (pmol/L, endogenous +
    exogenous, 6 pmol/L per µU/mL), HOMA1-%B and HOMA1-IR (Matthews 1985), β-cell mass (mg),
    intrinsic insulin sensitivity (mL/(µU·day)), inflammation index, β-cell function σ, effective
    insulin sensitivity, baseline exogenous insulin effect (µU/mL).
    Deterministic per patient (see population.presets).
    """
    if not 0 < years <= 60:
        raise ValueError(f"years must be within (0, 60] (got {years})")
    n_days = int(round(years * 365.25))
    if n_days < 31:
        raise ValueError("years must cover at least one month (≥ 31 days)")
    cohort = make_cohort(preset, n, seed=seed, chunk=chunk)
    frames = []
    for a in range(0, n, chunk):
        idx = np.arange(a, min(n, a + chunk))
        eff = cohort.effects
        sub_eff = type(eff)(**{k: np.asarray(v)[idx] if np.ndim(v) else v for k, v in vars(eff).items()})
        r = simulate_progression(
            cohort.params.select(idx), cohort.state.select(idx), n_days,
            age_years=cohort.age_years[idx], bmi_kg_m2=cohort.bmi_kg_m2[idx], effects=sub_eff,
        )  # fmt: skip
        base = cohort.baseline.iloc[idx]
        n_rec = r.record_day.shape[0]

        def col(name: str, b: np.ndarray, r=r, n_rec=n_rec) -> np.ndarray:  # noqa: ANN001
            return np.concatenate([b[:, None], r[name].astype(np.float64)], axis=1).ravel()

        si_eff0 = effective_si(
            cohort.params.select(idx),
            cohort.state.select(idx),
            cohort.age_years[idx],
            cohort.bmi_kg_m2[idx],
            np.asarray(sub_eff.si_mult, dtype=float),
        )
        iexo = np.asarray(sub_eff.exog_insulin_uuml, dtype=float) * np.ones(idx.shape[0])
        g = col("glucose_mgdl", base["fpg_mgdl"].to_numpy())
        ins = col("insulin_total_uuml", base["fasting_insulin_uuml"].to_numpy())
        frames.append(
            pd.DataFrame(
                {
                    "patient_id": np.repeat(cohort.patient_id[idx], n_rec + 1),
                    "month": np.tile(np.arange(n_rec + 1), idx.shape[0]),
                    "hba1c_pct": col("hba1c_pct", base["hba1c_pct"].to_numpy()),
                    "fpg_mgdl": g,
                    "fasting_insulin_pmol_l": ins * PMOLL_PER_UUML_INSULIN,
                    "homa_b_pct": homa1_b_pct(g, ins),
                    "homa_ir": homa1_ir(g, ins),
                    "beta_cell_mass": col("beta_mass_mg", base["beta_cell_mass_mg"].to_numpy()),
                    "insulin_sensitivity": col("si_state", base["insulin_sensitivity"].to_numpy()),
                    "inflammation": col("inflammation", base["inflammation"].to_numpy()),
                    "beta_cell_function": col("sigma", base["beta_cell_function"].to_numpy()),
                    "insulin_sensitivity_eff": col("si_eff", si_eff0),
                    "exog_insulin_uuml": np.repeat(iexo, n_rec + 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
