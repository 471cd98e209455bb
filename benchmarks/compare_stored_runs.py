"""Bit-identity check for speed work (issue 18): run one protocol through the CLI with two source trees
(``--before``: a checkout of the code before the change; ``--after``: this tree, by default) and compare
every stored table of the two runs exactly: the observed results, the patients table and each table of the
stored analysis (endpoints, responders, trajectories, flow, baseline, baseline targets) plus its settings.
Exits non-zero on any difference. The run id columns differ by construction and are dropped.

Run: .venv/bin/python benchmarks/compare_stored_runs.py --before /tmp/wt_before
     [--protocol examples/stem-cells-vs-standard-care.toml]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def run(tree: Path, protocol: str, out: Path) -> Path:
    """The run folder of one CLI trial of ``protocol`` with ``tree``'s sources."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    subprocess.run([sys.executable, "-m", "t2dsim.cli", "trial", str(ROOT / protocol), "--out", str(out)],
                   env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    (folder,) = (out / "runs" / "runs").iterdir()
    return folder


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    found = {"results": folder / "results.parquet", "patients": folder / "patients.parquet"}
    found |= {f"analysis/{p.stem}": p for p in sorted((folder / "analysis").glob("*.parquet"))}
    return {k: pd.read_parquet(p).drop(columns="run_id", errors="ignore") for k, p in found.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=ROOT)
    ap.add_argument("--protocol", default="examples/stem-cells-vs-standard-care.toml")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = run(args.before, args.protocol, Path(tmp) / "a"), run(args.after, args.protocol, Path(tmp) / "b")
        ta, tb = tables(a), tables(b)
        bad = sorted(set(ta) ^ set(tb))
        for name in sorted(set(ta) & set(tb)):
            try:
                pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True)
                print(f"{name}: identical ({len(ta[name])} rows)")
            except AssertionError as exc:
                bad.append(name)
                print(f"{name}: DIFFERS\n{exc}")
        sa, sb = (json.loads((f / "analysis" / "analysis.json").read_text()) for f in (a, b))
        print("analysis.json:", "identical" if sa == sb else "DIFFERS")
        if bad or sa != sb:
            raise SystemExit(f"differences: {bad or ['analysis.json']}")
    print(f"all stored tables of {args.protocol} identical (before {args.before}, after {args.after})")


if __name__ == "__main__":
    main()
