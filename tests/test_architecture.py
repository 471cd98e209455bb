"""The package's layout rules (docs/architecture.md; issue 13 acceptance 1 and 3): one definition each of
the keyed generator, the calendar's days per month, the cohort type and the therapy registry; no dynamic
imports that could dodge the import-linter layers contract (checked by `lint-imports` in `make test`);
no module much over 500 lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "t2dsim"
FILES = sorted(SRC.rglob("*.py"))


def _hits(pattern: str) -> list[str]:
    rx = re.compile(pattern, re.M)
    return [f"{p.relative_to(SRC)}:{m.group(0)}" for p in FILES for m in rx.finditer(p.read_text())]


@pytest.mark.parametrize(
    ("what", "pattern", "count", "home"),
    [
        ("keyed uniform generator", r"^def keyed_uniform\b", 1, "core/rng.py"),
        ("keyed normal generator", r"^def keyed_normal\b", 1, "core/rng.py"),
        ("SplitMix64 constants", r"0x9E3779B97F4A7C15|0xBF58476D1CE4E5B9", 2, "core/rng.py"),
        ("per-patient NumPy generators", r"default_rng\(\[int\(seed\), int\(pid\)", 1, "core/rng.py"),
        ("days per month", r"^\s*DAYS_PER_MONTH\s*[:=]", 1, "core/calendar.py"),
        ("cohort type", r"^class \w*Cohort\b", 1, "engine/cohort.py"),
        ("therapy registry", r"^def register_therapy\w*\b", 1, "core/registry.py"),
        ("therapy builder registry", r"^def (register_builder|builders)\b", 0, ""),
    ],
)
def test_exactly_one_definition(what, pattern, count, home):
    hits = _hits(pattern)
    assert len(hits) == count, f"{what}: {hits}"
    assert all(h.replace("\\", "/").startswith(home + ":") for h in hits), f"{what} must live in {home}: {hits}"


def test_no_dynamic_imports():
    assert _hits(r"importlib\.import_module|__import__\(") == []


def test_no_module_much_over_500_lines():
    long = {str(p.relative_to(SRC)): n for p in FILES if (n := len(p.read_text().splitlines())) > 550}
    assert not long, long


def test_import_contract_holds():
    """The layers contract in pyproject.toml (core < physiology < ... < cli) is kept."""
    lint = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(lint)], capture_output=True, text=True, cwd=SRC.parents[1], timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]


def test_lower_layers_do_not_load_upper_packages_at_run_time():
    """Reading the shipped stem-cell calibration (a therapies-layer file) must not import calibration/: a
    resource lookup by package name imports that package, which the import contract cannot see."""
    code = (
        "import sys; from t2dsim.therapies.stemcells import params; assert params._results() is not None; "
        "params.calibrated(); print(sorted(m for m in sys.modules if m.startswith(('t2dsim.calibration', "
        "'t2dsim.trial', 't2dsim.outcomes', 't2dsim.report', 't2dsim.cli'))))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]", res.stdout
    assert _hits(r"resources\.files\(\"t2dsim\.(calibration|trial|outcomes|report)") == [] or all(
        h.startswith(("calibration/", "trial/", "outcomes/", "report/", "cli.py", "pipeline.py"))
        for h in _hits(r"resources\.files\(\"t2dsim\.(calibration|trial|outcomes|report)")
    )
