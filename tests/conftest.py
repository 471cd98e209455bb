import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="session")
def simglucose_params_file() -> Path:
    """simglucose's UVA/Padova parameter file (test-only dependency)."""
    simglucose = pytest.importorskip("simglucose")
    return Path(simglucose.__file__).parent / "params" / "vpatient_params.csv"
