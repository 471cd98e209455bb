"""Measurement layer of a virtual trial: what can be measured, assay error, dropout, visits.

Everything here is keyed, not streamed: every random number is a pure function of
``(seed, patient_id, stream, index)`` computed with the one keyed generator (:mod:`t2dsim.core.rng`), so the
same seed gives the same measurement error and dropout time for a patient whatever order,
chunk size or number of workers the engine uses.

Assay error model
-----------------
A measured value is ``true * exp(s * z - s**2 / 2)`` with ``z ~ N(0, 1)`` and
``s = sqrt(log(1 + CV**2))``: log-normal, mean-preserving, with total coefficient of variation
``CV = sqrt(CV_A**2 + CV_I**2)`` (analytical and within-subject biological variation add as
variances; Fraser & Harris, Crit Rev Clin Lab Sci 1989). The within-subject part stands for the
day-to-day fluctuation around a patient's set point that the day-scale model does not produce.
Defaults and their sources are in :data:`MEASURES`; a protocol can override them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from t2dsim.core.rng import keyed_normal, keyed_uniform

__all__ = [
    "MEASURES",
    "MeasureInfo",
    "apply_assay_error",
    "dropout_months",
    "mask_after_dropout",
    "monthly_hazard",
    "observe",
]


@dataclass(frozen=True)
class MeasureInfo:
    """Description of one measure of the results long table.

    Attributes:
        unit: unit of ``value`` in the long table.
        label: human-readable name for tables and plots.
        kind: ``"clinical"`` (measured at visits, may carry assay error) or ``"mechanism"``
            (latent model state, shown in the report's mechanism view, never measured in a real trial).
        cv_analytical: default analytical CV (fraction, e.g. 0.014 = 1.4 %).
        cv_within_subject: default within-subject biological CV (fraction).
        source: where the CVs come from (V verified abstract/paper text read, S secondary, U unverified).
    """

    unit: str
    label: str
    kind: Literal["clinical", "mechanism"]
    cv_analytical: float = 0.0
    cv_within_subject: float = 0.0
    source: str = ""


_HBA1C_SRC = (
    "CV_A 1.4 %: desirable analytical imprecision derived from biological variation, "
    "Scand J Clin Lab Invest 2024;84(7-8) doi:10.1080/00365513.2024.2439394 [V abstract]; "
    "CV_I 1.2 % (95% CI 0.3-2.5): Ricos et al., Adv Lab Med 2020;1(3):20200029, BIVAC meta-analysis "
    "[V abstract]"
)
_FPG_SRC = (
    "CV_A 1.78 %: Oguz et al., Turk J Biochem 2021 doi:10.1515/tjb-2020-0115 (enzymatic glucose) "
    "[V abstract]; CV_I 5.0 % (4.1-12.0): Ricos et al., Adv Lab Med 2020;1(3):20200029 [V abstract]"
)
_CPEP_SRC = (
    "CV_A 2.3 %: mean intra-laboratory CV of serum C-peptide, Zhou et al., Ann Lab Med 2022;42(4) "
    "(94 labs) [V abstract]; within/between-run CVs range <2 % to >18 % across assays, Little et al., "
    "Clin Chem 2008;54:1023 [V abstract]; CV_I 24 % fasting C-peptide, Widjaja et al., Clin Chem "
    "1999;45:561 [V abstract]"
)
_INS_SRC = (
    "CV_A 2.7 %: mean intra-laboratory CV of serum insulin, Zhou et al., Ann Lab Med 2022;42(4) "
    "[V abstract]; CV_I 26 % fasting insulin, Widjaja et al., Clin Chem 1999;45:561 [V abstract]"
)
_AUC_SRC = (
    "CV_A 2.3 % as for C-peptide (Zhou 2022) [V abstract]; no within-subject term by default: the "
    "stimulated AUC integrates many samples and the test-retest CV of MMTT C-peptide AUC was not "
    "verified here [U]; set cv_within_subject in the protocol to add one"
)

#: Measures of the results long table. ``kind == "mechanism"`` rows are latent model states.
MEASURES: dict[str, MeasureInfo] = {
    "hba1c_percent": MeasureInfo("%", "HbA1c", "clinical", 0.014, 0.012, _HBA1C_SRC),
    "fpg_mgdl": MeasureInfo("mg/dL", "Fasting plasma glucose", "clinical", 0.0178, 0.050, _FPG_SRC),
    "fasting_insulin_pmol_l": MeasureInfo("pmol/L", "Fasting insulin", "clinical", 0.027, 0.26, _INS_SRC),
    "fasting_cpeptide_pmol_l": MeasureInfo("pmol/L", "Fasting C-peptide", "clinical", 0.023, 0.24, _CPEP_SRC),
    "cpeptide_auc_nmol_min_l": MeasureInfo(
        "nmol/L·min", "MMTT C-peptide AUC (0-120 min)", "clinical", 0.023, 0.0, _AUC_SRC
    ),
    "insulin_u_per_day": MeasureInfo(
        "U/day", "Exogenous insulin dose", "clinical", source="prescribed dose: recorded without error"
    ),
    "hypo_documented_per_patient_year": MeasureInfo(
        "events/patient-year",
        "Documented hypoglycaemia (days with fasting/nocturnal glucose < 72 mg/dL) on titrated insulin",
        "clinical",
        source="counted by the insulin titration (therapies/insulin.py), no error; NaN without titrated insulin",
    ),
    "homa_ir": MeasureInfo(
        "1", "HOMA-IR", "clinical", source="derived from FPG and insulin; compute it from measured values"
    ),
    "homa_b_percent": MeasureInfo(
        "%", "HOMA-B", "clinical", source="derived from FPG and insulin; compute it from measured values"
    ),
    "cgm_mean_glucose_mgdl": MeasureInfo(
        "mg/dL", "CGM mean glucose (14 d)", "clinical", source="sensor noise is modelled by physiology.sensor"
    ),
    "cgm_tir_percent": MeasureInfo(
        "%",
        "CGM time in range 70-180 mg/dL",
        "clinical",
        source="sensor noise is modelled by physiology.sensor",
    ),
    "cgm_tbr_percent": MeasureInfo(
        "%", "CGM time below 70 mg/dL", "clinical", source="sensor noise is modelled by physiology.sensor"
    ),
    "cgm_gmi_percent": MeasureInfo(
        "%", "Glucose management indicator", "clinical", source="derived from CGM mean glucose"
    ),
    "weight_kg": MeasureInfo("kg", "Body weight", "clinical", source="no error by default"),
    "beta_cell_mass_mg": MeasureInfo("mg", "Native beta-cell mass", "mechanism"),
    "beta_cell_function": MeasureInfo("1", "Beta-cell function (sigma, relative)", "mechanism"),
    "insulin_sensitivity": MeasureInfo("mL/µU/day", "Insulin sensitivity (SI)", "mechanism"),
    "inflammation_index": MeasureInfo("1", "Inflammation index", "mechanism"),
    "graft_beta_mass_mg": MeasureInfo("mg", "Graft functional beta-cell mass", "mechanism"),
    # model quantities a validation case reads (no assay error: latent or derived model values)
    "cpeptide_auc_180_pmol_min_l": MeasureInfo("pmol/L·min", "MMTT C-peptide AUC (0-180 min)", "mechanism"),
    "cpeptide_peak_pmol_l": MeasureInfo("pmol/L", "MMTT C-peptide peak (0-240 min)", "mechanism"),
    "homa_b_progression_percent": MeasureInfo(
        "%", "HOMA-B of the progression model's fasting glucose and total plasma insulin", "mechanism"
    ),
    "insulin_dose_relative": MeasureInfo("1", "Insulin dose set at the visit / baseline dose", "mechanism"),
    "insulin_need_relative": MeasureInfo(
        "1", "Background insulin needed to hold baseline glucose / baseline background", "mechanism"
    ),
    "insulin_need_126_uuml": MeasureInfo(
        "µU/mL", "Background plasma insulin needed to hold FPG 126 mg/dL (<= 0: insulin independent)", "mechanism"
    ),
}

# ----------------------------------------------------------------------------------------------
# Assay error
# ----------------------------------------------------------------------------------------------


def apply_assay_error(
    true_values: ArrayLike,
    patient_ids: ArrayLike,
    visit_index: ArrayLike,
    measure: str,
    seed: int,
    cv_analytical: float | None = None,
    cv_within_subject: float | None = None,
) -> NDArray[np.float64]:
    """Add log-normal, mean-preserving measurement error to true values.

    Args:
        true_values: model values (unit of ``MEASURES[measure]``), any shape.
        patient_ids: non-negative ints, broadcastable to ``true_values``.
        visit_index: visit number (0 = baseline), broadcastable to ``true_values``.
        measure: a key of :data:`MEASURES`; its name keys the random stream.
        seed: run seed.
        cv_analytical, cv_within_subject: CVs as fractions (0 to 1); ``None`` takes the default
            from :data:`MEASURES`.

    Returns:
        measured values, same shape as the broadcast inputs. Zero stays zero; NaN stays NaN.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure {measure!r} unknown; allowed: {', '.join(sorted(MEASURES))}")
    info = MEASURES[measure]
    cva = info.cv_analytical if cv_analytical is None else cv_analytical
    cvi = info.cv_within_subject if cv_within_subject is None else cv_within_subject
    for name, v in (("cv_analytical", cva), ("cv_within_subject", cvi)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{measure}.{name} = {v} is outside the allowed range [0, 1] (fraction)")
    x = np.asarray(true_values, dtype=np.float64)
    cv = float(np.hypot(cva, cvi))
    if cv == 0.0:
        return x.copy()
    s = np.sqrt(np.log1p(cv * cv))
    z = keyed_normal(seed, patient_ids, "assay:" + measure, visit_index)
    return x * np.exp(s * z - 0.5 * s * s)


# ----------------------------------------------------------------------------------------------
# Dropout and visits
# ----------------------------------------------------------------------------------------------


def monthly_hazard(annual_rate: float) -> float:
    """Constant hazard (1/month) that gives a dropout probability ``annual_rate`` over 12 months."""
    if not 0.0 <= annual_rate < 1.0:
        raise ValueError(f"annual dropout rate = {annual_rate} is outside the allowed range [0, 1)")
    return -np.log1p(-annual_rate) / 12.0


def dropout_months(
    patient_ids: ArrayLike, annual_rate: ArrayLike, seed: int, duration_months: float
) -> NDArray[np.float64]:
    """Time of dropout (months after randomisation) under a constant hazard; NaN if none.

    Exponential (non-informative, missing-completely-at-random) dropout: time ``-log(U) / h`` with
    ``h`` from :func:`monthly_hazard`. Patients whose time exceeds ``duration_months`` complete (NaN).

    Args:
        patient_ids: non-negative ints, shape (n_patients,).
        annual_rate: probability of dropping out within 12 months, scalar or (n_patients,) in [0, 1).
        seed: run seed.
        duration_months: trial duration (months).
    """
    ids = np.asarray(patient_ids)
    rate = np.broadcast_to(np.asarray(annual_rate, dtype=np.float64), ids.shape)
    if np.any((rate < 0) | (rate >= 1)):
        raise ValueError("annual dropout rate must be in the allowed range [0, 1)")
    h = -np.log1p(-rate) / 12.0
    u = keyed_uniform(seed, ids, "dropout")
    with np.errstate(divide="ignore"):
        t = np.where(h > 0, -np.log(u) / np.where(h > 0, h, 1.0), np.inf)
    return np.where(t < duration_months, t, np.nan)


def mask_after_dropout(visit_months: ArrayLike, dropout_month: ArrayLike) -> NDArray[np.bool_]:
    """True where a visit is observed: baseline always, later visits only before dropout.

    Args:
        visit_months: visit times (months), broadcastable against ``dropout_month``.
        dropout_month: per-patient dropout time (months) or NaN for completers.
    """
    v = np.asarray(visit_months, dtype=np.float64)
    d = np.asarray(dropout_month, dtype=np.float64)
    return (v <= 0) | np.isnan(d) | (v < d)


# ----------------------------------------------------------------------------------------------
# The whole measurement process of a protocol
# ----------------------------------------------------------------------------------------------


def observe(true_results: pd.DataFrame, protocol: Any, seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn model values at visits into what the trial observes: dropout, then assay error.

    Args:
        true_results: long table ``arm, patient_id, visit_month, measure, value`` of model values at
            every scheduled visit (as if nobody dropped out); extra columns (e.g. ``run_id``) are kept.
        protocol: a :class:`~t2dsim.trial.protocol.Protocol` (uses ``dropout``, ``assay_error``,
            ``assay``, ``visit_months``, ``duration_months`` and ``randomisation.seed``).
        seed: default: the protocol's randomisation seed.

    Returns:
        ``(observed, flow)``: the observed long table (rows after dropout removed; clinical measures
        with assay error if ``protocol.assay_error``; mechanism measures unchanged) and a per-patient
        frame ``arm, patient_id, completed, dropout_month``.

    Each patient's dropout time and each measurement error is keyed by (seed, patient_id, ...), so the
    result does not depend on row order or on how the cohort was chunked.
    """
    seed = protocol.randomisation.seed if seed is None else int(seed)
    need = ["arm", "patient_id", "visit_month", "measure", "value"]
    missing = [c for c in need if c not in true_results.columns]
    if missing:
        raise ValueError(f"results table lacks column(s) {missing}; required: {need}")
    pts = true_results[["arm", "patient_id"]].drop_duplicates().sort_values("patient_id", kind="stable")
    if pts["patient_id"].duplicated().any():
        raise ValueError("a patient_id appears in more than one arm")
    rate = pts["arm"].map(lambda a: protocol.dropout.per_arm.get(a, protocol.dropout.annual_rate)).to_numpy(float)
    drop = dropout_months(pts["patient_id"].to_numpy(np.int64), rate, seed, float(protocol.duration_months))
    flow = pd.DataFrame(
        {
            "arm": pts["arm"].to_numpy(),
            "patient_id": pts["patient_id"].to_numpy(),
            "completed": np.isnan(drop),
            "dropout_month": drop,
        }
    )
    d_of = pd.Series(drop, index=pts["patient_id"].to_numpy())
    pid = true_results["patient_id"].to_numpy(np.int64)
    keep = mask_after_dropout(true_results["visit_month"].to_numpy(float), d_of.reindex(pid).to_numpy())
    obs = true_results.loc[keep].copy()
    if protocol.assay_error:
        visits = np.asarray(protocol.visit_months, dtype=float)
        vm = obs["visit_month"].to_numpy(float)
        idx = np.searchsorted(visits, vm)
        idx = np.clip(idx, 0, visits.size - 1)
        on_schedule = np.isclose(visits[idx], vm)
        vkey = np.where(on_schedule, idx, 100_000 + np.round(vm * 1000).astype(np.int64))
        values = obs["value"].to_numpy(float).copy()
        meas = obs["measure"].to_numpy()
        opid = obs["patient_id"].to_numpy(np.int64)
        for m in pd.unique(meas):
            info = MEASURES.get(m)
            if info is None or info.kind != "clinical":
                continue
            ov = protocol.assay.get(m)
            sel = meas == m
            values[sel] = apply_assay_error(
                values[sel],
                opid[sel],
                vkey[sel],
                m,
                seed,
                cv_analytical=None if ov is None else ov.cv_analytical,
                cv_within_subject=None if ov is None else ov.cv_within_subject,
            )
        obs["value"] = values
    return obs.reset_index(drop=True), flow
