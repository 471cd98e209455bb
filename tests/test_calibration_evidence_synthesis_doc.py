"""docs/evidence_synthesis.md shows the prior and inclusion tables as generated from the data files: a change of
either file without regenerating the doc fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from t2dsim.calibration.evidence_roles import inclusion_table_markdown
from t2dsim.calibration.priors import prior_table_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "evidence_synthesis.md"


@pytest.mark.parametrize(
    ("block", "make", "mod"),
    [("priors", prior_table_markdown, "priors"), ("inclusion", inclusion_table_markdown, "evidence_roles")],
)
def test_doc_tables_match_the_files(block, make, mod):
    m = re.search(rf"<!-- BEGIN {block} -->\n(.*?)\n<!-- END {block} -->", DOC.read_text(encoding="utf-8"), re.S)
    assert m, f"block {block} missing in {DOC.name}"
    assert m.group(1) == make(), f"{DOC.name}: regenerate the {block} table (python -m t2dsim.calibration.{mod})"
