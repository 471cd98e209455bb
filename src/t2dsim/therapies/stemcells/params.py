"""Parameters of the stem-cell therapy models, each with its unit, prior and source.

Central values here are the *priors* (literature or derived); calibrated values and their ensembles
are shipped in ``t2dsim/therapies/stemcells/calibrated/stemcells.json`` (written by ``t2dsim calibrate``)
and loaded with :func:`calibrated`.
Tags: V verified, S secondary, D derived, H hypothesis (no human evidence), C calibrated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "MSCParams",
    "BMMNCParams",
    "PlaceboParams",
    "IsletParams",
    "PARAM_SOURCES",
    "calibrated",
    "calibrated_ensemble",
    "ensemble_size",
    "posterior_draws",
]


@dataclass(frozen=True)
class MSCParams:
    """Mesenchymal stromal cells (UC/WJ, BM, placenta, adipose; MPC): a decaying immunomodulatory state.

    Activity of one infusion of d cells/kg: s(d) = d/(d + ed50) times a Bateman-shaped kernel
    (onset time constant ``onset_days``, decay half-life ``half_life_days``; peak normalised to 1).
    Infusions add on the log-survival scale, A = 1 − exp(−Σ s·kernel), so repeated dosing saturates.
    Effects at activity A for a patient with response multiplier r: si_mult = 1 + emax_si·r·A,
    inflammation_mult = 1 − infl_reduction·A, beta_protect = beta_protect_max·A.
    """

    emax_si: float = 0.25  # fractional rise of insulin sensitivity at full activity (C; prior 0.05-1.0)
    ed50_cells_per_kg: float = 1.0e6  # cells/kg for half the maximal activity (C; prior 0.3e6-3e6)
    half_life_days: float = 42.0  # decay half-life of activity, days (C; prior 28-56, Skyler wk 8 → 12)
    onset_days: float = 7.0  # build-up time constant, days (D: FPG lower by day 14, Lian 2022)
    infl_reduction: float = 0.3  # fraction removed from the inflammation target at A = 1 (H)
    beta_protect_max: float = 0.0  # glucotoxic β-loss prevented at A = 1 (H; largest RCT: no β effect)
    response_sd: float = 0.5  # between-patient SD of log response (H)


@dataclass(frozen=True)
class BMMNCParams:
    """Autologous bone-marrow mononuclear cells into the pancreatic artery: a slowly fading rise of
    β-cell secretory function (Bhansali 2009/2014, Wu 2014: C-peptide up, clamp SI unchanged)."""

    emax_sec: float = 0.6  # fractional rise of secretion at full activity (C; prior 0.2-1.5)
    onset_days: float = 30.0  # build-up time constant (D: mean 48 d to response, Bhansali 2009)
    half_life_days: float = 900.0  # decay half-life (C; prior 1-5 y: responders 7/10 → 6/10, 6 → 15 mo)
    ed50_cells: float = 3.0e8  # total cells for half-maximal activity (H; trials used 0.5-1.2e9)
    iv_relative_potency: float = 0.5  # IV vs arterial potency (H; Sood 2017 outcome not retrieved)
    response_sd: float = 0.8  # between-patient SD of log response (C; 0/10 vs 9/11 responders)


@dataclass(frozen=True)
class PlaceboParams:
    """Placebo / trial effect of control arms: closer follow-up, adherence and titration, modelled as a
    rise of insulin sensitivity that builds over ``onset_days`` and fades to ``floor`` of its peak with
    time constant ``fade_days`` (evidence note §2.3 and §10: control arms improve early, then fade)."""

    si_max: float = 0.15  # fractional rise of insulin sensitivity at the peak (C; prior 0.03-0.5)
    onset_days: float = 30.0  # D
    fade_days: float = 180.0  # D (evidence note §10: fading by 48 wk)
    floor: float = 0.5  # D


@dataclass(frozen=True)
class IsletParams:
    """β-cell replacement: graft functional β-cell mass (mg) from dose, engraftment, maturation, loss.

    M(t) = D · e · mat(t) · exp(−attrition·t) · 1[t < T_fail], with D the β-cell mass infused (mg),
    e the engrafted fraction (log-normal between patients), mat(t) = 1 − exp(−(t/τ)^k) a Weibull
    maturation, and T_fail an exponential time to graft failure with the hazard of the immune setting.
    """

    beta_ug_per_ieq: float = 1.08  # µg β cells per IEQ (D: Pisania 2010, β = 61.2 % of a 150-µm sphere)
    beta_ng_per_cell: float = 0.95  # ng per β cell (D: Pisania 2010, 1140 β cells/IEQ → 1.08 µg/1140)
    sc_beta_fraction: float = 0.5  # β-like share of SC-islet product cells (C on zimislecel C-peptide)
    engraftment: dict[str, float] = field(
        default_factory=lambda: {
            "portal_vein": 0.40,  # C (prior 0.2-0.7; peri-transplant loss 50-70 % is M)
            "muscle": 0.30,  # H (rectus sheath / intramuscular; CiPSC case)
            "omentum": 0.30,  # H
            "subcutaneous_device": 0.10,  # H (ViaCyte: C-peptide in 35 % of VC-02, 3/10 PEC-Direct)
        }
    )
    engraftment_sd: float = 0.5  # between-patient SD of log engraftment (C)
    maturation_days: dict[str, float] = field(
        default_factory=lambda: {"islet": 21.0, "sc_islet": 140.0, "progenitor": 300.0}
    )  # Weibull scale τ (days): donor islets revascularise within weeks (H); SC-islets C; progenitors D (≥6 mo)
    maturation_shape: float = 2.0  # Weibull k (C on zimislecel C-peptide d90/d180/d365)
    attrition_per_year: float = 0.15  # gradual functional loss (C on islet-transplant courses)
    failure_per_year: dict[str, float] = field(
        default_factory=lambda: {
            "allogeneic_immunosuppressed": 0.10,  # C (Marfil-Garza 2022 median graft survival 5.9 y)
            "allogeneic_none": 26.0,  # H: rejection within weeks without immunosuppression
            "autologous_t2d": 0.0,  # H: no alloimmunity, no autoimmunity targeting β cells in T2D
            "autologous_t1d_none": 6.0,  # H: recurrent autoimmunity (months) without immunosuppression
            "autologous_immunosuppressed": 0.05,  # H
            "encapsulated": 0.05,  # H (device shields from immune attack; foreign-body response instead)
        }
    )
    cni_secretion_mult: float = 1.0  # calcineurin-inhibitor effect on secretion (V: Rickels 2010; range 0.85-1)


PARAM_SOURCES: dict[str, str] = {
    "msc": "Skyler 2015 (single-dose fade), Lian 2022 (onset), evidence note §4 and §7",
    "bmmnc": "Bhansali 2009/2014, Bhansali 2014 RCT, Bhansali 2017, Wu 2014",
    "placebo": "Bhansali 2014 sham arm; evidence note §2.3, §10",
    "islet": "Pisania 2010; Reichman 2025 (zimislecel); Marfil-Garza 2022; CITR (Barton 2012); Lantidra label",
}


@lru_cache(maxsize=1)
def _results() -> dict[str, Any] | None:
    """The shipped calibration results (read once per process; None if absent)."""
    path = resources.files("t2dsim.therapies.stemcells").joinpath("calibrated/stemcells.json")
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def _apply(obj: Any, values: dict[str, Any]) -> Any:
    names = {f.name for f in fields(obj)}
    return replace(obj, **{k: v for k, v in values.items() if k in names})


def calibrated() -> dict[str, Any]:
    """Calibrated central parameter sets ``{"msc", "bmmnc", "placebo", "islet"}`` (priors if no results)."""
    out: dict[str, Any] = {
        "msc": MSCParams(),
        "bmmnc": BMMNCParams(),
        "placebo": PlaceboParams(),
        "islet": IsletParams(),
    }
    res = _results()
    if res is None:
        raise FileNotFoundError(
            "the shipped stem-cell calibration (t2dsim/therapies/stemcells/calibrated/stemcells.json) is missing; "
            "reinstall t2dsim or rerun `t2dsim calibrate` (it writes that file); pass explicit parameters "
            "(e.g. MSCParams()) to use the priors"
        )
    for key in out:
        out[key] = _apply(out[key], res.get("central", {}).get(key, {}))
    return out


def calibrated_ensemble() -> list[dict[str, Any]]:
    """Posterior-ensemble members (list of parameter-set dicts as in :func:`calibrated`)."""
    res = _results()
    base = calibrated()  # refuses a missing results file
    members = []
    for m in res.get("ensemble", []):
        members.append({k: _apply(base[k], m.get(k, {})) for k in base})
    return members or [base]


#: The parameter groups of a cell-therapy parameter set (:func:`calibrated`).
GROUPS = ("msc", "bmmnc", "placebo", "islet")


def ensemble_size() -> int:
    """Members of the shipped posterior ensemble (0 if the results file has none)."""
    res = _results()
    return 0 if res is None else len(res.get("ensemble", []))


def posterior_draws(k: int) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The first ``k`` posterior-ensemble members as full parameter sets, and the groups they vary.

    A group (msc, bmmnc, placebo, islet) that no member carries is held at its calibrated central value in every
    draw (the shipped ensemble has no islet members: the islet-graft parameters were fitted separately and have
    no draws), and is left out of the returned groups so callers can say so; a group carried by some members but
    not all is refused (an ensemble written that way is broken, not partial). ``k`` must lie in
    0..:func:`ensemble_size`.
    """
    n = ensemble_size()
    if not 0 <= k <= n:
        raise ValueError(
            f"posterior.draws = {k}: allowed range 0 to {n} (the members of the posterior ensemble in "
            "t2dsim/therapies/stemcells/calibrated/stemcells.json)"
        )
    if k == 0:
        return [], ()
    res = _results()
    members = res["ensemble"][:k]
    base = calibrated()
    varied = []
    for g in GROUPS:
        have = sum(g in m for m in members)
        if 0 < have < len(members):
            raise ValueError(
                f"posterior ensemble: group {g!r} is in {have} of the first {len(members)} members; every member "
                "must carry the same groups (rerun `t2dsim calibrate`)"
            )
        if have:
            varied.append(g)
    return [{g: _apply(base[g], m.get(g, {})) for g in GROUPS} for m in members], tuple(varied)
