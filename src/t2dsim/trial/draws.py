"""Posterior draws of a trial: the same virtual patients under K draws of the stem-cell parameters.

A protocol's ``[posterior] draws = K`` runs, beside the central run (draw 0: the calibrated central values), each
of the first K members of the posterior ensemble (:func:`~t2dsim.therapies.stemcells.params.posterior_draws`) on
the same patients with common random numbers: the screening, randomisation, dropout, assay-error, titration and
per-patient response keys are those of the central run (they are keyed by seed and patient id, never by draw), so
only the cell-therapy and trial-effect parameters differ between draws.

What is per draw: each arm's simulation from randomisation on (every therapy that reads a cell-parameter group
whose values differ between the draws is built once per draw; the others once for all rows) and the measures the
endpoints and responders need, at the visits they need them (the minute-scale MMTT runs only there). What is
shared: the plan (screening, baseline, randomisation, chunks), dropout, and everything the report draws from the
central run alone (trajectories, mechanism view, flow, baseline tables, UKPDS OM2 complications).

The draws of a chunk of patients run as one task, stacked along the patient axis (:mod:`t2dsim.engine.row_blocks`),
keyed like every chunk by :class:`~t2dsim.trial.runner.ChunkKey` (its ``draw`` = the first draw of the task), so
the in-process and Dask backends, the run store's parts and ``--resume`` handle them as any other chunk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from t2dsim.core.registry import BuildContext
from t2dsim.engine.row_blocks import RowBlocks
from t2dsim.therapies.base import Therapy, check_no_overlap
from t2dsim.therapies.specs import build_arm
from t2dsim.therapies.stemcells.params import GROUPS, posterior_draws
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect

__all__ = ["DrawSets", "draw_sets", "needed_measures", "stacked_therapies"]

#: Measures that a derived endpoint needs measured (HOMA from FPG and fasting insulin).
_HOMA_FROM = ("fpg_mgdl", "fasting_insulin_pmol_l")
_DERIVED_FROM = {"homa_ir": _HOMA_FROM, "homa_b_percent": _HOMA_FROM}


class DrawSets(list):
    """The parameter sets of draws 1..K (list index d-1) with ``varied``: the groups the ensemble varies."""

    varied: tuple[str, ...] = ()

    def fixed(self) -> tuple[str, ...]:
        """Groups held at their central values in every draw."""
        return tuple(g for g in GROUPS if g not in self.varied)

    def sha256(self) -> str:
        """Hash of the parameter values (a resumed run refuses an ensemble changed since it started)."""
        text = json.dumps([{g: asdict(p[g]) for g in GROUPS} for p in self], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def draw_sets(protocol: Any) -> DrawSets:
    """The protocol's posterior draws (``posterior.draws`` members of the ensemble; empty for 0)."""
    sets, varied = posterior_draws(int(protocol.posterior.draws))
    out = DrawSets(sets)
    out.varied = varied
    return out


def needed_measures(protocol: Any) -> dict[float, set[str]]:
    """Visit month → measures a draw records there: each endpoint's and responder's measure at baseline and at its
    visit (every visit up to it under LOCF); HOMA endpoints bring the FPG and fasting insulin they are made of."""
    out: dict[float, set[str]] = {float(v): set() for v in protocol.visit_months}
    items = [protocol.endpoints.primary, *protocol.endpoints.secondary, *protocol.responders]
    locf = protocol.analysis.missing == "locf"
    for e in items:
        names = {e.measure, *_DERIVED_FROM.get(e.measure, ())}
        for v in out:
            if v == 0 or v == float(e.visit_month) or (locf and v <= float(e.visit_month)):
                out[v] |= names
    return out


class _Reads(dict):
    """A cell-parameter mapping that records which groups a builder read."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def _one_or_blocks(built: list[list[Therapy]], reads: set[str], sets: Sequence[Mapping], n: int) -> list[Therapy]:
    varies = any(p.get(g) != sets[0].get(g) for g in reads for p in sets)
    if not varies:
        return built[0]  # reads no parameter that differs between the draws: one object for every row
    return [RowBlocks([b[i] for b in built], [n] * len(built)) for i in range(len(built[0]))]


def stacked_therapies(
    treatment: Sequence[Any], bctx: BuildContext, sets: Sequence[Mapping], n: int, arm_name: str, trial_effect: bool
) -> list[Therapy]:
    """An arm's therapies for its ``n`` patients repeated once per parameter set of ``sets`` (row block j = set j):
    a therapy whose builder reads a cell-parameter group that differs between the sets becomes a
    :class:`~t2dsim.engine.row_blocks.RowBlocks` of one object per set, every other therapy is built once."""
    out: list[Therapy] = []
    for spec in treatment:
        built, reads = [], set()
        for p in sets:
            rec = _Reads(p)
            built.append(build_arm([spec], replace(bctx, cell_params=rec), arm_name))
            reads |= rec.read
        out += _one_or_blocks(built, reads, sets, n)
    if trial_effect:
        out += _one_or_blocks([[PlaceboTrialEffect(params=p["placebo"])] for p in sets], {"placebo"}, sets, n)
    check_no_overlap(out)
    return out
