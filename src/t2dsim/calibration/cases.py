"""The stem-cell calibration cases: one function per published trial that runs its arms on its virtual
population and returns its endpoints (:class:`~t2dsim.calibration.trials.EndpointStat`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from t2dsim.calibration.trials import (
    CASE_TITRATION_RULE,
    EndpointStat,
    _below,
    cpeptide_auc,
    insulin_u_per_day,
    simulate_arm,
)
from t2dsim.core.units import GLUCOSE_MGDL_PER_MMOLL
from t2dsim.engine.cohort import Cohort
from t2dsim.physiology.markers import homa1_b_pct
from t2dsim.therapies.stemcells import BMMNCTherapy, MSCTherapy, PlaceboTrialEffect

__all__ = ["CASE_RUNNERS", "run_case"]


def _pl(P: dict[str, Any]) -> PlaceboTrialEffect:
    return PlaceboTrialEffect(params=P["placebo"])


def _case_bhansali2014_rct(P, pop, soft):
    ctl = simulate_arm(pop, [_pl(P)], [364], "reduce_only")
    trt = simulate_arm(
        pop,
        [_pl(P), BMMNCTherapy([1e9, 1e9], [0, 84], ["pancreatic_artery", "iv"], params=P["bmmnc"])],
        [364],
        "reduce_only",
    )
    out = {}
    u0 = insulin_u_per_day(pop)
    for name, arm, n in (("treated", trt, 11), ("control", ctl, 10)):
        d, a = arm.at("dose_rel", 364), arm.at("hba1c", 364)
        # reported as the change of the arm's median dose: 42.0 → 14.0 IU/day "decreased by 66.7 %" and
        # 40.5 → 27.5 "by 32.1 %" (abstract, V: 14/42 − 1 = −66.7 %), not as a mean of per-patient changes
        out[f"insulin_pct_{name}_w52"] = EndpointStat("pct_of_medians", u0 * d, (n,), y=u0)
        out[f"responder_{name}_w52"] = EndpointStat(
            "mean", _below(d, 0.5, 0.04, soft) * _below(a, 7.0, 0.1, soft), (n,)
        )
        out[f"hba1c_change_{name}_w52"] = EndpointStat("mean", a - arm.at("hba1c", 0), (n,))
    return out


def _case_bhansali2009(P, pop, soft):
    # per protocol: insulin halved without an HbA1c condition (TITRATION_RULE, CASE_TITRATION_RULE)
    trt = simulate_arm(
        pop,
        [_pl(P), BMMNCTherapy(1e9, [0], params=P["bmmnc"])],
        [182, 455],
        "reduce_only",
        goal_rule=CASE_TITRATION_RULE.get("bhansali2009"),
    )
    out = {}
    for wk, d in (("w26", 182), ("w65", 455)):
        rel = trt.at("dose_rel", d)
        out[f"responder_{wk}"] = EndpointStat("mean", _below(rel, 0.5, 0.04, soft), (10,))
        out[f"insulin_free_{wk}"] = EndpointStat("mean", _below(rel, 0.1, 0.04, soft), (10,))
    rel = trt.at("dose_rel", 455)
    out["hba1c_change_responders_w65"] = EndpointStat(
        "cond_mean", trt.at("hba1c", 455) - trt.at("hba1c", 0), (10,), w=_below(rel, 0.5, 0.04, soft)
    )
    return out


def _case_bhansali2017(P, pop, soft):
    trt = simulate_arm(pop, [_pl(P), BMMNCTherapy(1e9, [0], params=P["bmmnc"])], [182], "reduce_only")
    d, a = trt.at("dose_rel", 182), trt.at("hba1c", 182)
    u0 = insulin_u_per_day(pop)
    return {
        "responder_w26": EndpointStat("mean", _below(d, 0.5, 0.04, soft) * _below(a, 7.0, 0.1, soft), (7,)),
        # "reduction in insulin requirement by 51 % as compared to baseline" (abstract): the change of the
        # group's mean daily dose, the group's convention ("reduction in mean insulin requirement by 74 %",
        # Bhansali 2014 IJEM abstract, V); the per-patient data are not in the abstract (D)
        "insulin_pct_w26": EndpointStat("pct_of_means", u0 * d, (7,), y=u0),
    }


def _case_wu2014(P, pop, soft):
    th = [_pl(P), BMMNCTherapy(1e9, [0], params=P["bmmnc"])]
    trt = simulate_arm(pop, th, [364], "fixed")
    auc0 = cpeptide_auc(pop, trt, 0)
    auc1 = cpeptide_auc(pop, trt, 364)
    # "the area under the curve of C-peptide (ng/mL per 180 min) of ... the BM-MNC group [was] significantly
    # improved (... 43.8 % from the baseline)" (abstract, V): the change of the group's mean total AUC 0-180 min
    # (D: the per-patient changes are not in the abstract), not the mean of per-patient % changes, which
    # weights patients with little secretion at baseline heavily
    return {"cpeptide_auc_pct_w52": EndpointStat("pct_of_means", auc1, (20,), y=auc0)}


def _case_skyler2015(P, pop, soft):
    plc = simulate_arm(pop, [_pl(P)], [56, 84], "fixed")
    lo = simulate_arm(pop, [_pl(P), MSCTherapy(0.3e6, [0], "MPC", params=P["msc"])], [56, 84], "fixed")
    hi = simulate_arm(pop, [_pl(P), MSCTherapy(2.0e6, [0], "MPC", params=P["msc"])], [56, 84], "fixed")

    def ch(arm, d):
        return arm.at("hba1c", d) - arm.at("hba1c", 0)

    def reached(arm):
        return 1.0 - (1.0 - _below(arm.at("hba1c", 56), 7.0, 0.1, soft)) * (
            1.0 - _below(arm.at("hba1c", 84), 7.0, 0.1, soft)
        )

    return {
        "hba1c_vs_placebo_2e6_w8": EndpointStat("diff", ch(hi, 56), (15, 16), y=ch(plc, 56)),
        "hba1c_vs_placebo_2e6_w12": EndpointStat("diff", ch(hi, 84), (15, 16), y=ch(plc, 84)),
        "hba1c_vs_placebo_0p3e6_w8": EndpointStat("diff", ch(lo, 56), (15, 16), y=ch(plc, 56)),
        "a1c_below7_2e6_w12": EndpointStat("mean", reached(hi), (15,)),
        "a1c_below7_placebo_w12": EndpointStat("mean", reached(plc), (16,)),
    }


def _case_lian2022(P, pop, soft):
    # Background held fixed; ``dose_halved_w12`` is the share whose background need (to hold their baseline
    # glucose) fell below half. The paper reports that doses were cut in all patients, so a titrated arm
    # ("reduce_only") would be closer to the protocol, but its goal is not reported; titrating to the
    # protocols' HbA1c goal (6.9 %) was examined and is NOT used: it cuts doses in only ~2/3 and halves them in
    # < 10 % of virtual patients, and in the joint fit it lets the early FPG fall (−2.8 mmol/L at day 14) be
    # explained by a fast, large trial effect (onset ~25 d) that then predicts 55 % of Skyler 2015's placebo
    # arm below 7 % HbA1c (observed 0/16). See docs/stem_cells.md §4.
    trt = simulate_arm(pop, [_pl(P), MSCTherapy(1e6, [0, 7, 14], "UC-MSC", params=P["msc"])], [14, 28, 84], "fixed")
    hb0 = homa1_b_pct(trt.at("glucose", 0), trt.at("insulin_total", 0))
    hb28 = homa1_b_pct(trt.at("glucose", 28), trt.at("insulin_total", 28))
    return {
        "hba1c_change_w12": EndpointStat("mean", trt.at("hba1c", 84) - trt.at("hba1c", 0), (16,)),
        "fpg_change_mmol_d14": EndpointStat(
            "mean", (trt.at("glucose", 14) - trt.at("glucose", 0)) / GLUCOSE_MGDL_PER_MMOLL, (16,)
        ),
        "homa_b_pct_d28": EndpointStat("mean", 100 * (hb28 / hb0 - 1), (16,)),
        "dose_halved_w12": EndpointStat("mean", _below(trt.at("need_rel", 84), 0.5, 0.04, soft), (12,)),
    }


def _case_hu2016(P, pop, soft):
    ctl = simulate_arm(pop, [_pl(P)], [728], "reduce_only")
    trt = simulate_arm(pop, [_pl(P), MSCTherapy(1e6, [0, 28], "WJ-MSC", params=P["msc"])], [728], "reduce_only")
    dose0 = 0.6 * pop.ctx.body_weight_kg  # D: 0.6 U/kg/day baseline (not reported)
    return {
        "insulin_iu_vs_control_w104": EndpointStat(
            "diff", dose0 * (trt.at("dose_rel", 728) - 1), (31, 30), y=dose0 * (ctl.at("dose_rel", 728) - 1)
        )
    }


CASE_RUNNERS: dict[str, Callable[[dict[str, Any], Cohort, bool], dict[str, EndpointStat]]] = {
    "bhansali2014_rct": _case_bhansali2014_rct,
    "bhansali2009": _case_bhansali2009,
    "bhansali2017": _case_bhansali2017,
    "wu2014": _case_wu2014,
    "skyler2015": _case_skyler2015,
    "lian2022": _case_lian2022,
    "hu2016": _case_hu2016,
}


def run_case(case: str, P: dict[str, Any], pop: Cohort, soft: bool = False) -> dict[str, EndpointStat]:
    """Endpoint statistics of ``case`` under parameter sets ``P`` (keys msc, bmmnc, placebo)."""
    return CASE_RUNNERS[case](P, pop, soft)
