"""The worked example of docs/architecture.md ("Adding a therapy") works as written: its one file registers a
new kind, a protocol can name it, a bad dose is refused with the field and range, and the trial runs it."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from t2dsim.core.registry import therapy_kinds, unregister_therapy
from t2dsim.trial.protocol import ProtocolError, parse_protocol
from t2dsim.trial.runner import run_trial

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

PROTOCOL = """
name = "dpp4-example"
duration_months = 3
visit_months = [0, 3]
measurements = ["hba1c_percent", "fpg_mgdl"]
[population]
preset = "newly-diagnosed"
[[arms]]
name = "control"
n = 12
treatment = [{ kind = "lifestyle", target_weight_loss_percent = 0 }]
[[arms]]
name = "dpp4"
n = 12
treatment = [{ kind = "dpp4i", dose_mg_per_day = DOSE }]
[randomisation]
seed = 3
[endpoints.primary]
measure = "hba1c_percent"
visit_month = 3
"""


@pytest.fixture
def dpp4_module():
    text = DOC.read_text()
    section = text[text.index("## Adding a therapy") :]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    module = types.ModuleType("t2dsim_docs_dpp4")
    exec(compile(code, str(DOC), "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - the documented example
    yield module
    unregister_therapy("dpp4i")


def test_documented_therapy_registers_validates_and_runs(dpp4_module):
    assert therapy_kinds()["dpp4i"] is dpp4_module.DPP4Spec
    with pytest.raises(ProtocolError, match=r"arms\[1\]\.treatment\[0\]\.dose_mg_per_day.*\[25, 100\]"):
        parse_protocol(PROTOCOL.replace("DOSE", "400"))
    run = run_trial(parse_protocol(PROTOCOL.replace("DOSE", "100")))
    r = run.true_results.query("measure == 'fpg_mgdl' and visit_month == 3").groupby("arm")["value"].mean()
    assert r["dpp4"] < r["control"]  # more glucose-dependent secretion lowers fasting glucose
