"""File input/output helpers: validated CSV inputs and atomic writes (nothing half-written is left)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

INPUT_COLUMNS = ("minute", "cho_g_per_min", "insulin_u_per_min")


def read_csv_with_columns(path: str | Path, required: tuple[str, ...], what: str) -> pd.DataFrame:
    """Read a user CSV and check it has the ``required`` columns; every problem is a ValueError naming
    the file (``what`` describes it, e.g. "inputs file") and the missing columns."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} not found: {path}")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {what} {path} as CSV: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what} {path} lacks column(s) {', '.join(missing)}; expected columns: {','.join(required)}")
    return df


def read_day_inputs(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a logged day: CSV with columns ``minute,cho_g_per_min,insulin_u_per_min``.

    Minutes must be the integers 0, 1, …, T−1 in order; rates must be finite and ≥ 0
    (carbohydrate ≤ 200 g/min, insulin ≤ 50 U/min, far beyond any real meal or bolus).
    Returns (cho g/min, insulin U/min), each of shape (T,).
    """
    path = Path(path)
    df = read_csv_with_columns(path, INPUT_COLUMNS, "inputs file")
    if len(df) == 0:
        raise ValueError(f"inputs file {path} has no rows")
    limits = {"cho_g_per_min": 200.0, "insulin_u_per_min": 50.0}
    for col in INPUT_COLUMNS:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.nonzero(bad.to_numpy())[0][0])
            raise ValueError(
                f"inputs file {path}, column {col!r}, row {row + 2}: {df[col].iloc[row]!r} is not a number"
            )
        df[col] = values
    minutes = df["minute"].to_numpy(dtype=float)
    if not np.array_equal(minutes, np.arange(len(df))):
        raise ValueError(f"inputs file {path}, column 'minute' must be 0, 1, 2, … in order without gaps")
    for col, hi in limits.items():
        v = df[col].to_numpy(dtype=float)
        out = np.nonzero((v < 0) | (v > hi))[0]
        if out.size:
            raise ValueError(
                f"inputs file {path}, column {col!r}, minute {int(minutes[out[0]])}: {v[out[0]]} outside 0–{hi:g}"
            )
    return df["cho_g_per_min"].to_numpy(dtype=float), df["insulin_u_per_min"].to_numpy(dtype=float)


def atomic_write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Write via a temporary file in the same folder, then rename; on failure nothing is left."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV or Parquet (by extension), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"output file must end in .csv or .parquet, got {path.name!r}")
    if suffix == ".csv":
        return atomic_write(path, lambda p: df.to_csv(p, index=False))
    return atomic_write(path, lambda p: df.to_parquet(p, index=False))
