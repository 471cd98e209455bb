"""Command-line interface (Typer). Every user error is reported as one clear line, never a traceback."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from t2dsim import DISCLAIMER, __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=f"t2dsim {__version__}: in-silico type 2 diabetes and stem-cell therapy simulator. {DISCLAIMER}",
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

BUILTIN_PATIENTS = {"t2d-mean": "t2d", "normal-mean": "normal"}


class UserError(Exception):
    """An error caused by the user's input; printed without traceback."""


def user_errors(fn):
    """User input errors (ValueError and its kin: protocol, file, CSV, SQL errors) become one clear line
    and exit code 2; anything else is a bug: a one-line 'internal error' and exit code 3 (set
    T2DSIM_DEBUG=1 to see the traceback). No traceback reaches a user by default."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import duckdb

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except (UserError, ValueError, OSError, duckdb.Error) as exc:
            if isinstance(exc, OSError) and exc.strerror:  # e.g. "No such file or directory: /proc/x"
                msg = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
            else:
                msg = exc.args[0] if exc.args else str(exc)
            err.print(f"[bold red]error:[/] {escape(str(msg))}", highlight=False)
            raise typer.Exit(code=2) from None
        except Exception as exc:
            if os.environ.get("T2DSIM_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error[/] ({type(exc).__name__}): {escape(str(exc))}. This is a bug in t2dsim; "
                "rerun with T2DSIM_DEBUG=1 for details.",
                highlight=False,
            )
            raise typer.Exit(code=3) from None

    return wrapper


@app.command()
@user_errors
def day(
    inputs: Annotated[Path, typer.Option(help="CSV with columns minute,cho_g_per_min,insulin_u_per_min")],
    out_path: Annotated[Path, typer.Option("--out", help="output CSV (per-minute results)")],
    patient: Annotated[str, typer.Option(help="value of the params file's Name column, or t2d-mean/normal-mean")],
    params: Annotated[
        Path | None, typer.Option(help="UVA/Padova parameter CSV (simglucose vpatient_params.csv layout)")
    ] = None,
    cgm_noise: Annotated[bool, typer.Option(help="add CGM sensor noise (Breton & Kovatchev 2008)")] = False,
    seed: Annotated[int, typer.Option(help="seed of the sensor noise")] = 0,
) -> None:
    """Replay a logged day (per-minute carbohydrate and insulin) for one patient."""
    from t2dsim.io import read_day_inputs, write_table
    from t2dsim.physiology.meal import dallaman_2007, from_uvapadova, read_uvapadova_table
    from t2dsim.physiology.sensor import CGMSensor
    from t2dsim.simulate import simulate

    if params is None:
        if patient not in BUILTIN_PATIENTS:
            raise UserError(
                f"--patient {patient!r} needs --params; built-in patients without --params: "
                f"{', '.join(BUILTIN_PATIENTS)}"
            )
        p = dallaman_2007(BUILTIN_PATIENTS[patient])
    else:
        p = from_uvapadova(read_uvapadova_table(params), [patient])
    cho, insulin = read_day_inputs(inputs)
    if out_path.suffix.lower() != ".csv":
        raise UserError(f"--out must be a .csv file, got {out_path.name!r}")
    res = simulate(p, cho, insulin, sensor=CGMSensor() if cgm_noise else None, seed=seed)
    df = res.frame(0)
    write_table(df, out_path)
    g = df["plasma_glucose_mgdl"]
    out.print(
        f"{patient}: {len(cho)} min simulated; plasma glucose mean {g.mean():.1f} mg/dL "
        f"(min {g.min():.1f}, max {g.max():.1f}); wrote {out_path}"
    )


@app.command("run-default")
@user_errors
def run_default(
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out"),
) -> None:
    """One three-meal day of the Dalla Man 2007 mean T2D patient (CSV + plot); the main job is `t2dsim trial`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from t2dsim.io import atomic_write, write_table
    from t2dsim.physiology.meal import dallaman_2007
    from t2dsim.simulate import three_meal_day

    res = three_meal_day(dallaman_2007("t2d"))
    df = res.frame(0)
    csv_path = write_table(df, out_dir / "default_day.csv")
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    hours = df["minute"] / 60
    axes[0].plot(hours, df["plasma_glucose_mgdl"], label="plasma")
    axes[0].plot(hours, df["cgm_glucose_mgdl"], label="interstitial (CGM)", alpha=0.7)
    axes[0].set_ylabel("glucose (mg/dL)")
    axes[0].legend()
    axes[1].plot(hours, df["plasma_insulin_pmol_l"])
    axes[1].set_ylabel("insulin (pmol/L)")
    axes[2].plot(hours, df["cpeptide_pmol_l"])
    axes[2].set_ylabel("C-peptide (pmol/L)")
    axes[2].set_xlabel("hour of day")
    fig.suptitle("t2dsim: Dalla Man 2007 mean T2D subject, three-meal day\n" + DISCLAIMER, fontsize=8)
    png_path = atomic_write(out_dir / "default_day.png", lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)
    out.print(f"wrote {csv_path} and {png_path}")


@app.command()
@user_errors
def progress(
    preset: Annotated[str, typer.Option(help="cohort preset: newly-diagnosed or insulin-requiring")],
    out_path: Annotated[Path, typer.Option("--out", help="output .parquet or .csv (one row per patient per month)")],
    n: Annotated[int, typer.Option("--n", min=1, max=10_000_000, help="number of patients")] = 100,
    years: Annotated[float, typer.Option(min=0.1, max=60, help="years to simulate")] = 6.0,
    seed: Annotated[int, typer.Option(min=0, help="random seed")] = 0,
) -> None:
    """Natural history of a cohort on its baseline therapy (progression model, monthly rows)."""
    from t2dsim.io import write_table
    from t2dsim.population.natural_history import run_natural_history
    from t2dsim.population.presets import PRESETS

    if preset not in PRESETS:
        raise UserError(f"--preset {preset!r} is unknown; allowed: {', '.join(PRESETS)}")
    if out_path.suffix.lower() not in (".csv", ".parquet"):
        raise UserError(f"--out must end in .csv or .parquet, got {out_path.name!r}")
    df = run_natural_history(preset, n, years, seed)
    write_table(df, out_path)
    last = df[df["month"] == df["month"].max()]
    first = df[df["month"] == 0]
    out.print(
        f"{preset}: {n} patients × {years:g} years; mean HbA1c {first['hba1c_pct'].mean():.2f} → "
        f"{last['hba1c_pct'].mean():.2f} %, HOMA-%B {first['homa_b_pct'].mean():.0f} → "
        f"{last['homa_b_pct'].mean():.0f} %; wrote {out_path}"
    )


@app.command()
@user_errors
def calibrate(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for stemcells.json")] = Path("out/calibration"),
    seed: Annotated[int, typer.Option(min=0, help="random seed of the virtual trial populations")] = 0,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="worker processes for the folds (default: CPUs, at most 2)")
    ] = None,
) -> None:
    """Fit the stem-cell therapy parameters to the bundled trials from the priors: full fit and one cold
    leave-one-trial-out fold per fitted trial, two starting points each (about 11 minutes on 2 cores)."""
    from t2dsim.calibration import calibrate as fit

    path = fit(out_dir, seed, workers)
    out.print(f"wrote {path} (use: t2dsim validate --results {path})")


@app.command()
@user_errors
def validate(
    results: Annotated[Path | None, typer.Option(help="calibration results (default: shipped with t2dsim)")] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="also write the table as .md, .csv or .parquet")
    ] = None,
    draws: Annotated[
        int,
        typer.Option(
            "--draws", min=2, max=500, help="posterior draws per case for the prediction intervals (2-500; fewer is "
            "faster, with noisier interval ends)"
        ),
    ] = 30,
) -> None:
    """Every stem-cell case and endpoint predicted out of sample and scored (model, no-effect and class-constant
    comparators), with coverage, log-score differences and the committed LOTO rule's verdict."""
    from t2dsim.calibration import ResultsMismatch, acceptance_summary, claim_line, summary_text, validation_markdown
    from t2dsim.calibration import validate as run_validation
    from t2dsim.io import atomic_write, write_table

    if out_path is not None and out_path.suffix.lower() not in (".md", ".csv", ".parquet"):
        raise UserError(f"--out must end in .md, .csv or .parquet, got {out_path.name!r}")
    if out_path is not None and not out_path.parent.is_dir():
        raise UserError(f"--out {out_path}: folder {str(out_path.parent)!r} does not exist or is not a folder")
    if results is not None and not results.is_file():
        raise UserError(f"--results {results}: file not found")
    try:
        table = run_validation(results, n_draws=draws)
    except ResultsMismatch as exc:
        raise UserError(str(exc)) from exc
    out.print(validation_markdown(table))
    out.print(summary_text(acceptance_summary(table)))
    out.print(f"In one line: {claim_line(table)}.")
    if out_path is not None:
        try:
            if out_path.suffix.lower() == ".md":
                atomic_write(out_path, lambda p: p.write_text(validation_markdown(table)))
            else:
                write_table(table, out_path)
        except OSError as exc:
            raise UserError(f"--out {out_path}: cannot write ({exc.strerror or exc})") from exc
        out.print(f"wrote {out_path}")


@app.command()
@user_errors
def responders(
    n: Annotated[
        int, typer.Option("--n", min=20, max=2000, help="virtual patients per finding's run (split over dose arms)")
    ] = 120,
    only: Annotated[list[str] | None, typer.Option("--only", help="run only these findings (repeatable)")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="also write the table as .md or .csv")] = None,
) -> None:
    """For which patient: the model's per-patient stem-cell effects vs baseline stimulated C-peptide, diabetes
    duration and cell dose (shipped parameters), beside the published predictor findings (r with Fisher-z CIs)."""
    from t2dsim.calibration.responders import responder_markdown, responder_table

    if out_path is not None and (out_path.suffix.lower() not in (".md", ".csv") or not out_path.parent.is_dir()):
        raise UserError(f"--out {out_path}: must be a .md or .csv file in an existing folder")
    table = responder_table(n, keys=only or None)
    md = responder_markdown(table)
    out.print(md, markup=False)
    if out_path is not None:
        if out_path.suffix.lower() == ".md":
            out_path.write_text(md + "\n", encoding="utf-8")
        else:
            table.to_csv(out_path, index=False)
        out.print(f"wrote {out_path}")


@app.command("validate-standard-care")
@user_errors
def validate_standard_care(
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write the table as .md (and a .csv beside it)")
    ] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="run only these protocols (repeatable)")] = None,
) -> None:
    """Predicted vs observed end levels and changes of every standard-care trial (protocols in
    t2dsim/data/validation/standard_care, run by the trial runner)."""
    from t2dsim.calibration.standard_care import standard_care_markdown
    from t2dsim.calibration.standard_care import validate_standard_care as run_sc

    if out_path is not None and (out_path.suffix.lower() != ".md" or not out_path.parent.is_dir()):
        raise UserError(f"--out {out_path}: must be a .md file in an existing folder")
    try:
        table = run_sc(only or None)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    md = standard_care_markdown(table)
    out.print(md)
    if out_path is not None:
        out_path.write_text(md, encoding="utf-8")
        table.to_csv(out_path.with_suffix(".csv"), index=False)
        out.print(f"wrote {out_path} and {out_path.with_suffix('.csv')}")


def _progress_bar():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


@app.command()
@user_errors
def trial(
    protocol: Annotated[Path, typer.Argument(help="protocol TOML file")],
    out_dir: Annotated[Path, typer.Option("--out", help="output folder (report, run store)")] = Path("out"),
    chunk_size: Annotated[int, typer.Option(min=1, max=100000, help="patients per chunk (one task each)")] = 512,
    complications: Annotated[bool, typer.Option(help="add the UKPDS OM2 complications section")] = True,
    workers: Annotated[
        int | None, typer.Option(min=1, max=512, help="run chunks on a local Dask cluster of N single-threaded workers")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="run chunks on an existing Dask cluster, e.g. tcp://host:8786")
    ] = None,
    resume: Annotated[
        str | None, typer.Option(help="finish the partial run RUN_ID of this protocol (its finished chunks are kept)")
    ] = None,
    max_memory: Annotated[
        str | None, typer.Option(help="refuse a plan whose estimated peak memory exceeds this, e.g. 4GiB")
    ] = None,
) -> None:
    """Run an in-silico randomised trial and write its HTML report (chunks saved as they finish: resumable)."""
    import hashlib

    from t2dsim.pipeline import run_protocol_file
    from t2dsim.store.parts import partial_runs
    from t2dsim.trial.backend import Backend, parse_size

    backend = Backend(workers=workers, scheduler=scheduler)
    limit = parse_size(max_memory) if max_memory is not None else None
    if not protocol.is_file():
        raise UserError(f"protocol file {protocol} not found")
    if resume is None:
        from t2dsim.trial.protocol import load_protocol

        sha = hashlib.sha256(protocol.read_text().encode("utf-8")).hexdigest()
        earlier = partial_runs(out_dir / "runs", sha, int(load_protocol(protocol).randomisation.seed))
        if earlier:
            err.print(f"note: partial run(s) of this protocol and seed: {', '.join(earlier)}; this starts a new run "
                      f"(finish one instead with --resume {earlier[-1]})")  # fmt: skip
    with _progress_bar() as bar:
        task = bar.add_task("simulating chunks", total=None)

        def progress(done: int, total: int, patients: int) -> None:
            bar.update(task, completed=done, total=total, description=f"chunks ({patients} patients)")

        res = run_protocol_file(
            protocol,
            out_dir,
            chunk_size=chunk_size,
            complications=complications,
            progress=progress,
            backend=backend,
            resume=resume,
            max_memory=limit,
            # the CLI prints from the analysis; only a validation case (an endpoints file beside it) needs the
            # assembled true values
            keep_run=protocol.with_name(protocol.stem + ".endpoints.toml").is_file(),
        )
    out.print(
        f"[bold]{protocol.name}[/]: run {res.run_id}, {len(res.patients)} patients, "
        f"{res.timings.get('pipeline_s', 0):.1f} s"
    )
    for line in res.analysis.endpoint_lines():
        out.print(line, markup=False)
    for line in _case_endpoint_lines(protocol, res.run):
        out.print(line, markup=False)
    out.print(f"report: {res.report_path.resolve()}")
    out.print(DISCLAIMER)


def _case_endpoint_lines(protocol_path: Path, run) -> list[str]:  # noqa: ANN001 (TrialRun)
    """A validation case's endpoints (a ``<stem>.endpoints.toml`` beside the protocol file, e.g. the stem-cell cases
    of ``t2dsim/data/validation/stem_cells``) from the run's true values: the numbers ``t2dsim validate`` computes
    for the same parameters and seed. None for an ordinary protocol."""
    from t2dsim.calibration.cases import endpoints_for, stats_of_run
    from t2dsim.trial.protocol import load_protocol

    spec = endpoints_for(protocol_path, load_protocol(protocol_path))
    if spec is None:
        return []
    stats = stats_of_run(run, spec)
    return [f"validation endpoints of case {spec.case} (model, true values):"] + [
        f"  {name} = {st.value():.4g}" for name, st in stats.items()
    ]


@app.command()
@user_errors
def runs(
    store_dir: Annotated[Path, typer.Option("--store", help="run store folder")] = Path("out/runs"),
    sql: Annotated[
        str | None,
        typer.Option(help="read-only SQL over views runs, results, patients (no file access: sandboxed)"),
    ] = None,
) -> None:
    """List stored runs, or query them with SQL."""
    from t2dsim import store

    if not store_dir.exists():
        raise UserError(f"no run store at {store_dir} (run 't2dsim trial' first or pass --store)")
    df = store.query(store_dir, sql) if sql else store.list_runs(store_dir)
    out.print(df.to_string(index=False) if len(df) else "no runs")


@app.command()
@user_errors
def power(
    protocol: Annotated[Path, typer.Argument(help="protocol TOML file")],
    n: Annotated[str, typer.Option("--n", help="comma-separated patients per arm, e.g. 10,20,40,80")] = "10,20,40,80",
    reps: Annotated[int, typer.Option(min=10, max=10000, help="simulated trials per n")] = 200,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out"),
    pool_factor: Annotated[int, typer.Option(min=1, max=50, help="virtual pool = factor × largest n per arm")] = 4,
) -> None:
    """Power curve of the primary endpoint (table and HTML plot)."""
    from t2dsim.io import atomic_write, write_table
    from t2dsim.pipeline import pooled_simulator
    from t2dsim.trial.power import power_curve_for_protocol
    from t2dsim.trial.protocol import load_protocol

    try:
        n_values = sorted({int(x) for x in n.split(",") if x.strip()})
    except ValueError:
        raise UserError(f"--n must be comma-separated integers, got {n!r}") from None
    if not n_values or n_values[0] < 2 or n_values[-1] > 5000:
        raise UserError(f"--n values must lie in 2–5000 patients per arm, got {n!r}")
    proto = load_protocol(protocol)
    sim = pooled_simulator(proto, pool_per_arm=max(pool_factor * n_values[-1], 100))
    res = power_curve_for_protocol(proto, sim, n_values, reps)
    write_table(res.table, out_dir / f"power-{proto.name}.csv")
    html = res.figure.to_html(include_plotlyjs=True, full_html=True)
    atomic_write(out_dir / f"power-{proto.name}.html", lambda p: p.write_text(html))
    out.print(res.table.to_string(index=False))
    out.print(f"wrote {out_dir / f'power-{proto.name}.csv'} and {out_dir / f'power-{proto.name}.html'}")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
