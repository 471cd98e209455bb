"""End-to-end default trial: examples/stem-cells-vs-standard-care.toml with 200 patients per arm,
screening, simulation, analysis, OM2 complications, store and HTML report, timed as one command.
Target (issue 6): ≤ 20 s on 2 cores. Also checks the report renders in headless Chromium (when
installed) and writes benchmarks/results/trial_e2e.json.

Run: .venv/bin/python benchmarks/trial_e2e.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from t2dsim.pipeline import run_protocol_file
    from t2dsim.report.browser import check_report_renders, find_chromium

    protocol = ROOT / "examples" / "stem-cells-vs-standard-care.toml"
    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up (Numba kernels load from cache or compile once per machine), not timed.
        t0 = time.perf_counter()
        run_protocol_file(protocol, Path(tmp) / "warm")
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = run_protocol_file(protocol, Path(tmp) / "timed")
        seconds = time.perf_counter() - t0
        render = None
        if find_chromium():
            chk = check_report_renders(out.report_path)
            render = {"ok": bool(chk.ok), "detail": str(chk)}
        n = len(out.patients)
        write_result(
            "trial_e2e",
            {
                "seconds": seconds,
                "first_run_seconds": warm,
                "patients": n,
                "per_arm": n // 3,
                "phases": out.timings,
                "target_seconds": 20.0,
                "report_renders": render,
            },
        )


if __name__ == "__main__":
    main()
