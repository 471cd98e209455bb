"""The stem-cell calibration cases run through the trial runner: each published trial is a protocol file plus its
endpoint definitions (``data/validation/stem_cells/<case>.toml`` and ``<case>.endpoints.toml``).

A case is planned once (screening and randomisation do not depend on the cell-therapy parameters; the plan is
cached per case, seed offset and arm size) and its chunks re-run for every parameter set the calibration
evaluates (:func:`run_case`: ``run_trial(protocol, plan=..., cell_params=P)``); the endpoints are computed from the
run's true per-patient values (:func:`t2dsim.calibration.endpoints.case_stats`). ``t2dsim trial <case file>`` runs
the same protocol (shipped parameters) and prints the same endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from t2dsim.calibration.endpoints import CaseEndpoints, EndpointStat, case_stats, load_endpoints
from t2dsim.trial.protocol import Protocol, load_protocol
from t2dsim.trial.runner import TrialPlan, TrialRun, plan_trial, run_trial

__all__ = [
    "BETA_CASES",
    "CASES",
    "CHECK_CASES",
    "RUNNABLE_CASES",
    "CasePlan",
    "case_dir",
    "case_plan",
    "case_protocol",
    "endpoints_for",
    "run_case",
    "stats_of_run",
]

#: The T2D cell-therapy cases (protocol files in ``case_dir()``); hu2016 is shown but not scored.
CASES = ("bhansali2014_rct", "bhansali2009", "bhansali2017", "wu2014", "skyler2015", "lian2022", "hu2016")
#: The β-cell replacement cases (type-1 preset; E-islets on insulin-treated T2D).
BETA_CASES = ("zimislecel", "islet_modern", "eislets")
#: Pooled meta-analytic checks (evidence_roles.csv role "check"): a "typical member trial" of each pool, run on the
#: engine with the shipped or a fold's parameters and compared with the pooled estimate; never fit targets
#: (their targets come from :func:`t2dsim.calibration.evidence.pooled_check_targets`, not ``t2d_targets``).
CHECK_CASES = ("pooled_msc_w52", "pooled_bmmnc_w52")
#: Every case :func:`case_protocol`, :func:`case_plan` and :func:`run_case` accept.
RUNNABLE_CASES = CASES + BETA_CASES + CHECK_CASES


def case_dir() -> Path:
    """The folder of the stem-cell case protocols (package data)."""
    return Path(str(resources.files("t2dsim.data").joinpath("validation/stem_cells")))


def endpoints_for(protocol_path: Path | str, protocol: Protocol) -> CaseEndpoints | None:
    """The endpoint file beside a protocol file (``<stem>.endpoints.toml``), or None if it has none."""
    p = Path(protocol_path)
    side = p.with_name(p.stem + ".endpoints.toml")
    return load_endpoints(side, protocol) if side.is_file() else None


def case_protocol(case: str, seed_offset: int = 0, n_per_arm: int | None = None) -> Protocol:
    """The protocol of ``case``, with its seed shifted by ``seed_offset`` (another virtual trial of the same design,
    for Monte Carlo checks) and every arm's size set to ``n_per_arm`` when given."""
    if case not in RUNNABLE_CASES:
        raise ValueError(f"unknown stem-cell case {case!r}; allowed: {', '.join(RUNNABLE_CASES)}")
    p = load_protocol(case_dir() / f"{case}.toml")
    if seed_offset == 0 and n_per_arm is None:
        return p
    data = p.model_dump(mode="python")
    data["randomisation"]["seed"] = int(p.randomisation.seed) + int(seed_offset)
    if n_per_arm is not None:
        for a in data["arms"]:
            a["n"] = int(n_per_arm)
    return Protocol.model_validate(data)


@dataclass
class CasePlan:
    """A case ready to run: its protocol, its endpoint definitions and its trial plan (screened, randomised)."""

    case: str
    protocol: Protocol
    endpoints: CaseEndpoints
    plan: TrialPlan


@lru_cache(maxsize=64)
def case_plan(case: str, seed_offset: int = 0, n_per_arm: int | None = None) -> CasePlan:
    """The cached plan of ``case`` (see :func:`case_protocol` for the arguments)."""
    protocol = case_protocol(case, seed_offset, n_per_arm)
    spec = endpoints_for(case_dir() / f"{case}.toml", protocol)
    if spec is None or spec.case != case:
        raise ValueError(f"case {case!r}: no endpoint file {case}.endpoints.toml for it in {case_dir()}")
    return CasePlan(case, protocol, spec, plan_trial(protocol))


def stats_of_run(run: TrialRun, spec: CaseEndpoints, soft: bool = False) -> dict[str, EndpointStat]:
    """The case's endpoint statistics from a finished run (its true per-patient values)."""
    return case_stats(run.true_results, spec, soft)


def run_case(
    case: str, P: dict[str, Any] | None, plan: CasePlan | None = None, soft: bool = False
) -> dict[str, EndpointStat]:
    """Endpoint statistics of ``case`` under cell-therapy parameter sets ``P`` (groups msc, bmmnc, placebo, islet;
    None: the shipped calibration), from its cached ``plan`` (default: the case file as it is)."""
    cp = plan if plan is not None else case_plan(case)
    if cp.case != case:
        raise ValueError(f"run_case({case!r}): the plan given is of case {cp.case!r}")
    run = run_trial(cp.protocol, plan=cp.plan, cell_params=P)
    return stats_of_run(run, cp.endpoints, soft)
