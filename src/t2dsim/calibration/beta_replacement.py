"""β-cell replacement cases on T1D virtual patients: zimislecel (VX-880) and donor-islet transplantation.

T1D virtual patients (population preset ``type-1``): the t2dsim progression model with β-cell mass 0.5 mg
(C-peptide undetectable), normal-range insulin sensitivity (median 0.6 in Ha units vs 0.8 for the Ha healthy
adult; log-SD 0.3; H: T1D adults are moderately insulin resistant), BMI 25 kg/m², exogenous insulin titrated to a
baseline HbA1c. Grafts are :class:`~t2dsim.therapies.stemcells.IsletGraft`; insulin is reduced monthly as the
graft matures (conduct ``insulin_sparing_a1c_goal``; the cases are protocol files run by the trial runner,
calibration/cases.py). Insulin independence: fasting glucose
≤ 126 mg/dL without exogenous insulin. Graft function ("C-peptide positive"): functional graft mass ≥
20 mg (2 % of the healthy 1000 mg; D, stands for stimulated C-peptide ≥ 0.1 nmol/L).

Targets are split into ``fit`` (used to set the islet parameters) and ``held out`` (validation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from t2dsim.calibration.cases import CasePlan, run_case
from t2dsim.calibration.map_fit import MAX_NFEV, map_fit
from t2dsim.calibration.priors import log_prior_arrays
from t2dsim.core.intervals import wilson_ci
from t2dsim.therapies.stemcells.params import IsletParams

__all__ = [
    "BetaTarget",
    "beta_targets",
    "run_beta_case",
    "fit_islet",
    "ISLET_THETA",
    "islet_params_from_theta",
    "islet_prior_log",
    "GRAFT_POSITIVE_MG",
]

GRAFT_POSITIVE_MG = 20.0


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


def run_beta_case(case: str, P: IsletParams, plan: CasePlan, soft: bool = False) -> dict[str, np.ndarray]:
    """Per-patient endpoint values (arrays (n,)) of a β-cell replacement case run through the trial runner (its case
    files ``data/validation/stem_cells/<case>.toml`` and ``.endpoints.toml``) with islet parameters ``P``; the
    case's statistic is the mean over patients. The Edmonton-era targets are read from the ``islet_modern`` run."""
    key = "islet_modern" if case.startswith("islet") else case
    stats = run_case(key, {"islet": P}, plan, soft=soft)
    return {name: st.x for name, st in stats.items()}


#: Fitted islet parameters (paths in IsletParams). Their priors are read from ``data/calibration/priors.toml``
#: (set ISLET_THETA), the one source of the fit's priors.
ISLET_THETA: tuple[str, ...] = (
    "engraftment.portal_vein",
    "attrition_per_year",
    "failure_per_year.allogeneic_immunosuppressed",
    "sc_beta_fraction",
    "maturation_days.sc_islet",
    "maturation_shape",
)


#: Islet parameters that are fractions (at most 1): the fit's box stops at log 1 (map_fit ``upper``).
_FRACTIONS = ("engraftment.portal_vein", "sc_beta_fraction")


def islet_upper_log() -> np.ndarray:
    """Physical upper limits of log θ of the islet parameters (0 for a fraction, ``inf`` otherwise)."""
    return np.array([0.0 if n in _FRACTIONS else np.inf for n in ISLET_THETA])


def islet_prior_log() -> tuple[np.ndarray, np.ndarray]:
    """Prior means and SDs of log θ of the islet parameters (priors.toml, set ISLET_THETA)."""
    return log_prior_arrays("ISLET_THETA", ISLET_THETA)


def islet_params_from_theta(log_theta: np.ndarray, base: IsletParams | None = None) -> IsletParams:
    p = base or IsletParams()
    for path, v in zip(ISLET_THETA, log_theta, strict=True):
        val = float(np.exp(v))
        if "." in path:
            attr, key = path.split(".")
            d = dict(getattr(p, attr))
            d[key] = min(val, 1.0) if attr == "engraftment" else val
            p = replace(p, **{attr: d})
        else:
            p = replace(p, **{path: min(val, 1.0) if path == "sc_beta_fraction" else val})
    return p


#: Islet parameters a case's run does not depend on (donor islets have no SC-islet maturation or β-like share),
#: so a finite-difference step in them does not re-run that case.
_IRRELEVANT = {"islet_modern": {"sc_beta_fraction", "maturation_days.sc_islet"}}


def fit_islet(
    plans: dict[str, CasePlan],
    exclude_cases: tuple[str, ...] = (),
    label: str = "islet fit",
    max_nfev: int = MAX_NFEV,
    two_starts: bool = True,
    report_disagreement: bool = False,
) -> dict[str, Any]:
    """MAP + Laplace fit of ISLET_THETA to the ``fit`` targets of the cases not in ``exclude_cases`` (a cold
    leave-one-trial-out fold drops its case), on the cases' cached trial ``plans``, from the prior (two starts)."""
    targets = [t for t in beta_targets() if t.role == "fit" and _run_key(t.case) not in exclude_cases]
    mu, sd = islet_prior_log()
    cache: dict[tuple, dict[str, np.ndarray]] = {}

    def run(key: str, x: np.ndarray) -> dict[str, np.ndarray]:
        skip = _IRRELEVANT.get(key, set())
        k = (key, tuple(float(v) for n, v in zip(ISLET_THETA, x, strict=True) if n not in skip))
        if k not in cache:
            cache[k] = run_beta_case(key, islet_params_from_theta(x), plans[key], soft=True)
        return cache[k]

    def resid(x: np.ndarray) -> np.ndarray:
        r = []
        for t in targets:
            v = float(np.mean(run(_run_key(t.case), x)[t.endpoint]))
            if not np.isfinite(v):
                raise ValueError(f"islet fit: case {t.case!r}, endpoint {t.endpoint!r} gave {v} at {np.exp(x)}")
            r.append((v - t.observed) / t.se)
        return np.asarray(r, dtype=float)

    res = map_fit(resid, mu, sd, label, max_nfev=max_nfev, two_starts=two_starts, upper=islet_upper_log(),
                  report_disagreement=report_disagreement)  # fmt: skip
    return {
        "log_theta": res["x"],
        "cov": res["cov"],
        "cost": res["cost"],
        "nfev": res["nfev"],
        "njev": res["njev"],
        "starts": res["starts"],
        "agreement": res["agreement"],
        "identified": res["identified"],
        "failure": res["failure"],
        "names": list(ISLET_THETA),
        "bounds": res["bounds"],
        "cases": sorted({_run_key(t.case) for t in targets}),
    }


def _run_key(case: str) -> str:
    """The case run that gives a target's value (the Edmonton-era targets are read from the islet_modern run)."""
    return "islet_modern" if case.startswith("islet") else case
