"""Protocol loading and validation: a good protocol parses, every broken file gives a clear error.

Each file in tests/data/bad_protocols/ states what is broken and, on a line ``# expect: <path>``,
the field path the error message must name.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from t2dsim.core.registry import register_therapy, unregister_therapy
from t2dsim.trial.protocol import (
    Protocol,
    ProtocolError,
    TherapySpecBase,
    load_protocol,
    parse_protocol,
    therapy_kinds,
)

DATA = Path(__file__).parent / "data"
BAD = sorted((DATA / "bad_protocols").glob("*.toml"))

# Extra substrings (bad value, allowed range) required for some files, beyond the field path.
EXTRA = {
    "arm_n_negative": ["-5", "[1, 1000000]"],
    "metformin_dose_too_high": ["5000", "[250, 3000]"],
    "msc_dose_too_high": ["1e+08", "10000000000"],
    "sglt2_dose_for_drug": ["25", "[5, 10]", "dapagliflozin"],
    "unknown_therapy_kind": ["unicorn_cells", "uc_msc", "metformin"],
    "visit_after_end": ["18", "[0, 12]"],
    "inclusion_age_implausible": ["5", "[18, 100]"],
    "dropout_rate_above_one": ["1.5", "[0, 1)"],
    "alpha_too_large": ["0.5", "(0, 0.2]"],
    "insulin_use_invalid": ["sometimes", "'required'"],
    "responder_rule_invalid": ["'below'", "percent_reduction_at_least"],
    "endpoint_unknown_measure": ["'hba1c'", "hba1c_percent"],
    "endpoint_visit_not_scheduled": ["10", "3, 6, 9, 12"],
    "duration_missing": ["durations_months", "required"],
    "therapy_unknown_option": ["ieq_per_kilo", "ieq_per_kg"],
    "toml_syntax": ["TOML syntax error", "line"],
    "seed_negative": ["-1"],
    "duplicate_arm_name": ["'placebo'"],
}


def test_good_protocol_loads() -> None:
    path = DATA / "good_protocol.toml"
    p = load_protocol(path)
    assert isinstance(p, Protocol)
    assert [a.name for a in p.arms] == ["placebo", "uc_msc", "islets"]
    assert p.arms[1].treatment[1].kind == "uc_msc"
    assert p.arms[1].treatment[1].n_infusions == 3
    assert p.reference_arm == "placebo"
    assert p.endpoints.primary.measure == "hba1c_percent"
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert p.source_text == path.read_text()


def test_bad_protocol_set_is_large() -> None:
    assert len(BAD) >= 30


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_protocol_gives_clear_error(path: Path) -> None:
    text = path.read_text()
    m = re.search(r"^# expect: (\S+)$", text, flags=re.M)
    assert m, f"{path.name} lacks an '# expect:' line"
    expected_path = m.group(1)
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    msg = str(info.value)
    assert msg.startswith(str(path)), msg  # names the file
    if expected_path != "(toml)":
        # the field path appears as "  - <path>: ..."
        assert f"  - {expected_path}: " in msg, msg
    for s in EXTRA.get(path.stem, []):
        assert s in msg, f"{s!r} not in {msg!r}"
    assert "Traceback" not in msg and "pydantic" not in msg.lower()
    # no chained exception: a CLI printing str(err) shows everything
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_missing_file() -> None:
    with pytest.raises(ProtocolError, match="not found"):
        load_protocol(DATA / "does_not_exist.toml")


def test_several_problems_are_all_listed() -> None:
    text = (DATA / "good_protocol.toml").read_text()
    text = text.replace("n = 200", "n = 0", 1).replace("seed = 42", "seed = -3")
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="x.toml")
    msg = str(info.value)
    assert "2 problems" in msg
    assert "arms[0].n" in msg and "randomisation.seed" in msg


def test_registered_therapy_spec_is_validated() -> None:
    class ToyCellsSpec(TherapySpecBase):
        kind: Literal["toy_cells"]
        dose_million_cells: float = Field(ge=1, le=500)

    text = (
        (DATA / "good_protocol.toml")
        .read_text()
        .replace('{ kind = "islet_graft", ieq_per_kg = 10000 }', '{ kind = "toy_cells", dose_million_cells = 100 }')
    )
    with pytest.raises(ProtocolError, match="unknown or missing therapy kind"):
        parse_protocol(text)
    register_therapy(ToyCellsSpec, lambda spec, ctx: [])
    try:
        assert "toy_cells" in therapy_kinds()
        p = parse_protocol(text)
        assert isinstance(p.arms[2].treatment[1], ToyCellsSpec)
        with pytest.raises(ValueError, match="already registered"):

            class Other(TherapySpecBase):
                kind: Literal["toy_cells"]

            register_therapy(Other, lambda spec, ctx: [])
        with pytest.raises(ProtocolError) as info:
            parse_protocol(text.replace("dose_million_cells = 100", "dose_million_cells = 900"))
        assert "arms[2].treatment[1].dose_million_cells" in str(info.value)
        assert "[1, 500]" in str(info.value)
    finally:
        unregister_therapy("toy_cells")
    with pytest.raises(ProtocolError):
        parse_protocol(text)


def test_endpoint_label_rounds_a_day_based_visit_month():
    """Case protocols place visits on trial days (364 days = 11.9589 months): the label reads 'month 11.96', not a
    float's full digits, and whole months stay whole."""
    from t2dsim.trial.protocol import EndpointSpec

    assert EndpointSpec(measure="hba1c_percent", visit_month=364 / (365.25 / 12)).label.endswith("month 11.96")
    assert EndpointSpec(measure="hba1c_percent", visit_month=12).label.endswith("month 12")
