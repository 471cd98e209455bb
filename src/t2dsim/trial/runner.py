"""Run an in-silico randomised trial from a protocol: screen, randomise, treat, measure, analyse.

Steps
-----
1. **Screening.** Candidates come from the population preset (:mod:`t2dsim.population.presets`), each
   patient's physiology placed on its disease course so that its baseline is consistent. Protocol
   distributions may override demographic covariates (age, sex) with keyed per-patient draws. The
   inclusion criteria are applied to baseline values; the first eligible candidates (by id) are enrolled.
2. **Randomisation** (stratified permuted blocks, seeded; :mod:`t2dsim.trial.randomisation`).
3. **Treatment.** Each arm's therapies (:func:`t2dsim.therapies.specs.build_arm`) act on the progression model
   through the engine, chunk by chunk of patients; visits at the protocol's months.
4. **Measurement.** At each visit: HbA1c, FPG and the mechanism states from the progression model; a
   mixed-meal tolerance test on the minute-scale model (fasting insulin and C-peptide, C-peptide AUC
   0–120 min) when a C-peptide or insulin measure is requested; 14 days of CGM (three meals a day,
   sensor noise) when a CGM measure is requested. Assay error and dropout are keyed per patient.

Every random number is keyed by (seed, patient_id, stream), so results do not depend on chunk size.
The work is a :class:`TrialPlan` (screening, randomisation, chunks keyed by draw, arm and chunk) and one
pure task per chunk, :func:`run_chunk`; a protocol's posterior draws are more chunks of the same patients
(:mod:`t2dsim.trial.draws`); :func:`run_trial` runs the tasks here, :mod:`t2dsim.trial.backend`
on a Dask cluster with the chunks streamed to the run store; both assemble the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from t2dsim.core.calendar import DAYS_PER_MONTH, visit_days
from t2dsim.core.registry import BuildContext
from t2dsim.core.units import PMOLL_PER_UUML_INSULIN
from t2dsim.engine import advance
from t2dsim.engine.background import start_arm
from t2dsim.engine.cohort import Cohort
from t2dsim.engine.glycation_days import MealGlycation, advance_with_meal_glycation
from t2dsim.engine.visits import MECHANISM_MEASURES, at_randomisation, measure_visit
from t2dsim.physiology import markers
from t2dsim.population.screening import MapBlocks, background_of, background_therapies, screen
from t2dsim.therapies.specs import build_arm
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect
from t2dsim.trial.draws import DrawSets, draw_sets, needed_measures, stacked_therapies
from t2dsim.trial.measurement import observe
from t2dsim.trial.randomisation import randomise_for_protocol


@dataclass
class TrialRun:
    """Outcome of :func:`run_trial`: observed long results table (dropout, assay error), per-patient table,
    the model's true values at every scheduled visit, and run metadata."""

    results: pd.DataFrame
    patients: pd.DataFrame
    true_results: pd.DataFrame
    screening: dict
    risks: dict[str, list]  # therapy kind → Risk objects (shown beside every benefit in the report)
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    #: observed results of the posterior draws (column ``draw`` 1..K; the measures the endpoints need), empty
    #: without draws (:mod:`t2dsim.trial.draws`)
    draw_results: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class ChunkKey:
    """Which task a chunk is: posterior draw (0: the central run; else the first of ``n_draws`` draws run together
    on the chunk's patients), arm (protocol order) and chunk of that arm's patients (in enrolment order).
    ``name`` is its file-safe, sortable label."""

    arm: int
    chunk: int
    draw: int = 0
    n_draws: int = 1

    @property
    def name(self) -> str:
        tail = f"-k{self.n_draws:04d}" if self.n_draws != 1 else ""
        return f"d{self.draw:04d}-a{self.arm:02d}-c{self.chunk:06d}{tail}"


@dataclass
class Chunk:
    """One unit of work: its key, its arm's name and the enrolled patients' positions in the cohort."""

    key: ChunkKey
    arm: str
    positions: np.ndarray

    @property
    def draws(self) -> range:
        """The posterior draws this chunk runs (range(0, 1): the central run)."""
        return range(self.key.draw, self.key.draw + self.key.n_draws)


@dataclass
class ChunkResult:
    """What one chunk produces: the model's true values at every scheduled visit, the observed values
    (dropout, assay error) and the per-patient flow (completed, dropout month); HOMA rows included."""

    true_results: pd.DataFrame
    results: pd.DataFrame
    flow: pd.DataFrame


@dataclass
class TrialPlan:
    """A trial after screening and randomisation, cut into chunks: everything a chunk task needs."""

    protocol: Any
    seed: int
    chunk_size: int
    cohort: Cohort
    base: pd.DataFrame  # baseline table with the randomised arm
    screening: dict
    risks: dict[str, list]
    chunks: list[Chunk]
    timings: dict[str, float] = field(default_factory=dict)
    #: parameter sets of the posterior draws 1..K (:func:`t2dsim.trial.draws.draw_sets`; empty without draws)
    draw_sets: DrawSets = field(default_factory=DrawSets)

    @property
    def n_patients(self) -> int:
        return int(len(self.base))

    def task_args(self, chunk: Chunk) -> dict[str, Any]:
        """Keyword arguments of :func:`run_chunk` for ``chunk`` beyond the protocol, seed, arm and cohort."""
        if chunk.key.draw == 0:
            return {}
        return {"draws": [(d, self.draw_sets[d - 1]) for d in chunk.draws]}

    def cohort_of(self, chunk: Chunk) -> Cohort:
        """The chunk's patients (their keys, hence their random numbers, kept)."""
        return self.cohort.select(chunk.positions)


def diabetes_type(protocol) -> str:
    """ "t1d" for the type-1 preset, else "t2d" (what the therapy builders need to know of the cohort)."""
    return "t1d" if protocol.population.preset == "type-1" else "t2d"


def plan_trial(
    protocol, *, chunk_size: int = 512, map_blocks: MapBlocks | None = None, draws_per_chunk: int | None = None
) -> TrialPlan:
    """Screen and randomise ``protocol``'s patients and cut each arm into chunks of ``chunk_size``
    (``map_blocks``: where the screening's candidate blocks run, e.g. Dask tasks; see :func:`screen`). With
    posterior draws, each chunk of patients also has tasks running ``draws_per_chunk`` draws each (default all K
    in one task, stacked along the patient axis), after every central chunk."""
    t0 = time.perf_counter()
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    seed = int(protocol.randomisation.seed)
    n_total = sum(a.n for a in protocol.arms)
    cohort, base, screening = screen(protocol, n_total, seed, map_blocks)
    t_screen = time.perf_counter()
    base["arm"] = randomise_for_protocol(base, protocol).to_numpy()
    sets = draw_sets(protocol)
    per = max(len(sets), 1) if draws_per_chunk is None else int(draws_per_chunk)
    if sets and not 1 <= per <= len(sets):
        raise ValueError(f"draws_per_chunk = {per}: allowed range 1 to {len(sets)} (the protocol's posterior.draws)")
    chunks, later = [], []
    for i, arm_spec in enumerate(protocol.arms):
        idx = np.nonzero(base["arm"].to_numpy() == arm_spec.name)[0]
        for j, a in enumerate(range(0, idx.size, chunk_size)):
            chunks.append(Chunk(ChunkKey(i, j), arm_spec.name, idx[a : a + chunk_size]))
            for d in range(1, len(sets) + 1, per):
                key = ChunkKey(i, j, d, min(per, len(sets) + 1 - d))
                later.append(Chunk(key, arm_spec.name, idx[a : a + chunk_size]))
    timings = {"screening_s": t_screen - t0, "randomisation_s": time.perf_counter() - t_screen}
    return TrialPlan(
        protocol, seed, chunk_size, cohort, base, screening, arm_risks(protocol), chunks + later, timings, sets
    )


def arm_risks(protocol) -> dict[str, list]:
    """Risks shown beside every benefit: each protocol kind's listed risks plus the simulated therapy
    objects' own (sourced) risks, without duplicates (therapy kind → Risk objects)."""
    bctx = BuildContext(
        duration_days=int(round(protocol.duration_months * DAYS_PER_MONTH)), diabetes_type=diabetes_type(protocol)
    )
    risks: dict[str, list] = {}
    bg_specs, _ = background_of(protocol)
    for arm_spec in protocol.arms:
        for spec in [*bg_specs, *arm_spec.treatment]:
            lst = risks.setdefault(spec.kind, [])
            lst.extend(r for r in getattr(type(spec), "risks", ()) if r not in lst)
        for t in build_arm(arm_spec.treatment, bctx, arm_spec.name):
            lst = risks.setdefault(t.spec_kind, [])
            lst.extend(r for r in getattr(t, "risks", ()) if r not in lst)
    return risks


def simulate_chunk(
    protocol,
    seed: int,
    arm_name: str,
    cohort: Cohort,
    cell_params: Mapping[str, Any] | None = None,
    *,
    draws: Sequence[tuple[int, Mapping[str, Any]]] = (),
) -> pd.DataFrame:
    """The model's true values at every scheduled visit for one arm's patients ``cohort`` (long rows).

    The one engine loop of a trial: in-process runs and distributed tasks both call it (through
    :func:`run_chunk`). Pure: its result depends only on its arguments (every random number keyed by
    seed and patient id), so chunks can run in any order, size or process. ``cell_params``: the cell-therapy
    parameter set (groups msc, bmmnc, placebo, islet; ``BuildContext.cell_params``), None for the shipped
    calibration; the trial-participation effect takes its ``placebo`` group.

    ``draws``: (draw, parameter set) pairs of posterior draws (:mod:`t2dsim.trial.draws`): the patients run once per
    set, stacked along the patient axis, recording only what the endpoints need; the rows get a ``draw`` column.
    """
    arm_spec = protocol.arm(arm_name)
    duration_days = int(round(protocol.duration_months * DAYS_PER_MONTH))
    bctx = BuildContext(duration_days=duration_days, diabetes_type=diabetes_type(protocol), cell_params=cell_params)
    bg_specs, run_in_days = background_of(protocol)
    visits = list(protocol.visit_months)
    all_measures = set(protocol.measurements) | set(MECHANISM_MEASURES)
    wanted = {float(v): all_measures for v in visits}
    extra: dict[str, np.ndarray] = {}
    if draws:
        sets = [p for _, p in draws]
        therapies = stacked_therapies(arm_spec.treatment, bctx, sets, cohort.n, arm_spec.name, protocol.trial_effect)
        extra["draw"] = np.repeat(np.array([d for d, _ in draws], dtype=np.int64), cohort.n)
        cohort = Cohort.concat([cohort] * len(sets))
        wanted = needed_measures(protocol)
    else:
        therapies = build_arm(arm_spec.treatment, bctx, arm_spec.name)
        if protocol.trial_effect:
            therapies.append(PlaceboTrialEffect(params=bctx.cell_param("placebo")))
    arm = start_arm(cohort, therapies, background_therapies(bg_specs, run_in_days, duration_days), run_in_days)
    ids = cohort.ctx.patient_ids
    rows: list[pd.DataFrame] = []
    glyc = None
    for k, (vm, vd) in enumerate(zip(visits, visit_days(visits), strict=True)):
        if protocol.glycation == "meal_days" and glyc is None and vd >= 0:
            if arm.day < 0:
                advance(arm, -arm.day)  # the run-in to randomisation, where meal-day glycation starts
            glyc = MealGlycation(arm)
        if vd > arm.day:
            if glyc is None:
                advance(arm, vd - arm.day)
            else:
                advance_with_meal_glycation(arm, vd - arm.day, glyc)
        measures = wanted[float(vm)]
        # the visit at randomisation is the baseline, measured before the first dose of the arm's new treatments
        vals = measure_visit(at_randomisation(arm) if arm.day == 0 else arm, measures, seed, k)
        if glyc is not None:
            vals["hba1c_percent"] = glyc.hba1c_pct.copy()
        for name, v in vals.items():
            if name not in measures:
                continue
            rows.append(
                pd.DataFrame(
                    {
                        **extra,
                        "arm": arm_spec.name,
                        "patient_id": ids,
                        "visit_month": vm,
                        "measure": name,
                        "value": np.asarray(v, float),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def run_chunk(
    protocol,
    seed: int,
    arm_name: str,
    cohort: Cohort,
    cell_params: Mapping[str, Any] | None = None,
    *,
    draws: Sequence[tuple[int, Mapping[str, Any]]] = (),
) -> ChunkResult:
    """Simulate one chunk and observe it (dropout, assay error, HOMA): the task of every backend
    (``cell_params``, ``draws``: see :func:`simulate_chunk`; the flow is per patient, the same in every draw)."""
    true_results = simulate_chunk(protocol, seed, arm_name, cohort, cell_params, draws=draws)
    results, flow = observe(true_results, protocol, seed)
    wanted = set(protocol.measurements)
    # HOMA from the measured FPG and insulin (assay error included) in the observed table
    return ChunkResult(_derive_homa(true_results, wanted), _derive_homa(results, wanted), flow)


def assemble(plan: TrialPlan, parts: Sequence[ChunkResult], timings: dict[str, float] | None = None) -> TrialRun:
    """The run from its chunks' results, in plan order (whatever order they were computed in)."""
    if len(parts) != len(plan.chunks):
        raise ValueError(f"{len(parts)} chunk results for a plan of {len(plan.chunks)} chunks")
    central = [p for p, c in zip(parts, plan.chunks, strict=True) if c.key.draw == 0]
    drawn = [p.results for p, c in zip(parts, plan.chunks, strict=True) if c.key.draw != 0]
    cat = pd.concat
    return assemble_tables(
        plan,
        cat([p.true_results for p in central], ignore_index=True),
        cat([p.results for p in central], ignore_index=True),
        cat([p.flow for p in central], ignore_index=True),
        timings,
        draw_results=cat(drawn, ignore_index=True) if drawn else None,
    )


def sort_draw_results(draw_results: pd.DataFrame | None) -> pd.DataFrame | None:
    """The posterior draws' observed results in their one order (draw, arm, patient, visit, measure)."""
    if draw_results is None or not len(draw_results):
        return draw_results
    keys = ["draw", "arm", "patient_id", "visit_month", "measure"]
    return draw_results.sort_values(keys, kind="stable").reset_index(drop=True)


def assemble_tables(
    plan: TrialPlan,
    true_results: pd.DataFrame,
    results: pd.DataFrame,
    flow: pd.DataFrame,
    timings: dict[str, float] | None = None,
    draw_results: pd.DataFrame | None = None,
) -> TrialRun:
    """The run from its central chunks' tables concatenated in plan order (e.g. read back from the run store) and
    the observed results of its posterior-draw chunks (sorted by draw, arm and patient)."""
    patients = _patients_table(plan.base, flow)
    draw_results = sort_draw_results(draw_results)
    return TrialRun(
        results,
        patients,
        true_results,
        plan.screening,
        plan.risks,
        {**plan.timings, **(timings or {})},
        {"seed": plan.seed, "chunk_size": plan.chunk_size, "backend": "numba", "draws": len(plan.draw_sets)},
        pd.DataFrame() if draw_results is None else draw_results,
    )


def run_trial(
    protocol,
    *,
    chunk_size: int = 512,
    progress: Callable[[str, int, int], None] | None = None,
    cell_params: Mapping[str, Any] | None = None,
    plan: TrialPlan | None = None,
) -> TrialRun:
    """Run ``protocol`` (a validated :class:`~t2dsim.trial.protocol.Protocol`) in this process, chunk
    after chunk (``progress(arm, patients done, patients in all)`` after each). ``cell_params``: the cell-therapy
    parameter set (see :func:`simulate_chunk`); ``plan``: a plan of this protocol made before (screening and
    randomisation do not depend on the cell parameters, so a calibration plans once and re-runs the chunks)."""
    t0 = time.perf_counter()
    if plan is None:
        plan = plan_trial(protocol, chunk_size=chunk_size)
    elif plan.protocol is not protocol:
        raise ValueError("run_trial(plan=...): the plan was made for another protocol object")
    t_plan = time.perf_counter()
    if cell_params is not None and plan.draw_sets:
        raise ValueError("run_trial(cell_params=...) runs one parameter set: give a protocol with posterior.draws = 0")
    parts, done = [], 0
    for chunk in plan.chunks:
        args = plan.task_args(chunk)
        parts.append(run_chunk(protocol, plan.seed, chunk.arm, plan.cohort_of(chunk), cell_params, **args))
        done += chunk.positions.size * (chunk.key.draw == 0)
        if progress is not None:
            progress(chunk.arm, done, plan.n_patients)
    t_sim = time.perf_counter()
    run = assemble(plan, parts)
    t_end = time.perf_counter()
    run.timings = {
        "screening_s": t_plan - t0,
        "simulation_s": t_sim - t_plan,
        "analysis_s": t_end - t_sim,
        "total_s": t_end - t0,
    }
    return run


def _derive_homa(results: pd.DataFrame, wanted: set[str]) -> pd.DataFrame:
    """Add HOMA1-IR and HOMA1-%B rows (Matthews 1985) computed from the table's FPG and fasting insulin,
    for the HOMA measures the protocol asks for."""
    names = [m for m in ("homa_ir", "homa_b_percent") if m in wanted]
    if not names:
        return results
    index = [c for c in ("draw", "arm", "patient_id", "visit_month") if c in results.columns]
    wide = results.pivot_table(index=index, columns="measure", values="value")
    if "fasting_insulin_pmol_l" not in wide or "fpg_mgdl" not in wide:
        return results
    both = wide[["fpg_mgdl", "fasting_insulin_pmol_l"]].dropna()
    fpg = both["fpg_mgdl"].to_numpy()
    fpi_uuml = both["fasting_insulin_pmol_l"].to_numpy() / PMOLL_PER_UUML_INSULIN
    fns = {"homa_ir": markers.homa1_ir, "homa_b_percent": markers.homa1_b_pct}
    extra = []
    for name in names:
        # HOMA1-%B is undefined at FPG ≤ 3.5 mmol/L (63 mg/dL): those rows are left out.
        ok = fpg > 63.1 if name == "homa_b_percent" else np.ones(fpg.shape, bool)
        df = both.index[ok].to_frame(index=False)
        df["measure"] = name
        df["value"] = fns[name](fpg[ok], fpi_uuml[ok])
        extra.append(df)
    return pd.concat([results] + extra, ignore_index=True)


def _patients_table(base: pd.DataFrame, flow: pd.DataFrame) -> pd.DataFrame:
    engine_only = [c for c in ("exog_insulin", "ctx_weight_kg", "ctx_insulin_u_per_day") if c in base]
    p = base.drop(columns=engine_only).merge(flow.drop(columns=["arm"]), on="patient_id", how="left")
    p["randomised"] = True
    cols = ["arm", "patient_id"] + [c for c in p.columns if c not in ("arm", "patient_id")]
    return p[cols]
