"""Every protocol in examples/ parses and runs end to end (arms shrunk to 8 patients so the suite stays fast);
each arm yields its primary endpoint at the primary visit."""

import re
from pathlib import Path

import pytest

from t2dsim.trial.protocol import parse_protocol
from t2dsim.trial.runner import run_trial

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.toml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_protocol_runs(path):
    text = re.sub(r"(?m)^n = \d+", "n = 8", path.read_text())
    protocol = parse_protocol(text)
    run = run_trial(protocol, chunk_size=64)
    r = run.results
    primary = protocol.endpoints.primary
    at = r[(r["measure"] == primary.measure) & (r["visit_month"] == primary.visit_month)]
    assert set(at["arm"]) == {a.name for a in protocol.arms}
    assert at["value"].notna().any()
