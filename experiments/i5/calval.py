# ruff: noqa: E501
"""Full calibrate() + validate() under a variant (switches set before anything runs).
Usage: PYTHONPATH=src python experiments/i5/calval.py VARIANT OUTDIR"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from loto import apply_variant  # noqa: E402

apply_variant(sys.argv[1])
from t2dsim.calibration import acceptance_summary, calibrate, validate, validation_markdown  # noqa: E402

p = calibrate(sys.argv[2])
t = validate(p)
print(validation_markdown(t))
print(acceptance_summary(t).to_string(index=False))
