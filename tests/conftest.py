import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="session")
def simglucose_params_file() -> Path:
    """simglucose's UVA/Padova parameter file (test-only dependency, pinned in the dev extra). Imported, not
    importorskip'ed: without it the tests that need it fail instead of skipping (issue 17: 0 skipped)."""
    import simglucose
    return Path(simglucose.__file__).parent / "params" / "vpatient_params.csv"
