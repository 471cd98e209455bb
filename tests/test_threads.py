"""t2dsim's default OpenMP wait policy (core/threads.py): set when the kernels' package (physiology) is imported, unless
the user chose one."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = "import os, t2dsim.physiology.progression; print(os.environ.get('OMP_WAIT_POLICY'))"


def _policy_after_import(**extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | extra
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_import_sets_the_passive_wait_policy_unless_the_user_chose_one():
    """PASSIVE: the parallel kernels' OpenMP threads sleep between calls instead of spinning, so two t2dsim processes
    on the 2 cores do not slow each other 3x (benchmarks/results/concurrent_processes.json: 2.40-2.54 s per
    evaluation with spinning threads, 0.83-0.84 s passive, 0.77 s alone). A user's own setting is kept."""
    assert _policy_after_import() == "PASSIVE"
    assert _policy_after_import(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
