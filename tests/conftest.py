import os
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)


def pytest_configure(config):
    """Each xdist worker runs Numba's parallel kernels on one thread: `make test` runs two workers on the 2-core
    machine, and two processes with Numba's default of one thread per core oversubscribe it (its OpenMP threads spin
    while they wait; measured 2026-12-06: an evaluation of the seven calibration cases took 3.9-4.2 s in each of two
    concurrent processes against 1.0 s with one thread each). Results do not depend on the thread count
    (tests/test_engine.py checks one against two threads)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import numba

        numba.set_num_threads(1)


@pytest.fixture(scope="session")
def simglucose_params_file() -> Path:
    """simglucose's UVA/Padova parameter file (test-only dependency, pinned in the dev extra). Imported, not
    importorskip'ed: without it the tests that need it fail instead of skipping (issue 17: 0 skipped)."""
    import simglucose
    return Path(simglucose.__file__).parent / "params" / "vpatient_params.csv"
