"""The evidence inclusion table (issue 16): every evidence row has exactly one role, exclusions have reasons,
uncontrolled scored studies carry bias terms, pooled meta-analyses are separate checks; malformed tables are
refused naming row and field."""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import pytest

from t2dsim.calibration.evidence import evidence_rows
from t2dsim.calibration.evidence_roles import UNCONTROLLED_DESIGNS, evidence_roles, load_evidence_roles


def test_every_evidence_row_has_exactly_one_role():
    roles = load_evidence_roles()
    assert [r.id for r in roles] == list(evidence_rows())
    assert {r.role for r in roles} == {"fit", "check", "excluded"}


def test_rules_of_the_synthesis_hold():
    ev = evidence_rows()
    for r in evidence_roles().values():
        design = ev[r.id]["record_type"]
        if design == "meta_analysis":
            assert r.role != "fit", r.id
        if r.scored and design in UNCONTROLLED_DESIGNS:
            assert r.bias_names or r.bias_term.startswith("not needed"), r.id
    ka = evidence_roles()["kashbour2025_ma"]
    assert ka.role == "check" and "hu2016_wj" in ka.members
    assert evidence_roles()["hu2016_wj"].role == "fit"  # issue 16: Hu 2016 is scored


def _table() -> list[dict[str, str]]:
    text = resources.files("t2dsim.data").joinpath("calibration/evidence_roles.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "roles.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _edit(rows: list[dict[str, str]], rid: str, **kw: str) -> list[dict[str, str]]:
    return [{**r, **kw} if r["id"] == rid else r for r in rows]


@pytest.mark.parametrize(
    ("rid", "edit", "field"),
    [
        ("sood2017", {"role": "maybe"}, "role"),
        ("sood2017", {"reason": ""}, "reason"),
        ("sood2017", {"case": "x"}, "case"),
        ("lian2022", {"bias_term": "none: trust it"}, "bias_term"),
        ("lian2022", {"case": ""}, "case"),
        ("kashbour2025_ma", {"role": "fit"}, "role"),
        ("kashbour2025_ma", {"members": "no_such_trial"}, "members"),
        ("lian2022", {"members": "hu2016_wj"}, "members"),
        ("sood2017", {"id": "no_such_trial"}, "id"),
    ],
)
def test_malformed_table_is_refused_naming_row_and_field(tmp_path: Path, rid, edit, field):
    load_evidence_roles(_write(tmp_path, _table()))  # the unedited copy loads
    with pytest.raises(ValueError, match=f"field '{field}'"):
        load_evidence_roles(_write(tmp_path, _edit(_table(), rid, **edit)))


def test_missing_or_duplicated_row_is_refused(tmp_path: Path):
    rows = _table()
    with pytest.raises(ValueError, match="without a role.*sood2017"):
        load_evidence_roles(_write(tmp_path, [r for r in rows if r["id"] != "sood2017"]))
    with pytest.raises(ValueError, match="appears twice"):
        load_evidence_roles(_write(tmp_path, rows + rows[:1]))


def test_cold_loto_folds_hold_out_their_trial_and_pooled_members():
    from t2dsim.calibration.evidence_roles import cold_loto_folds

    folds = cold_loto_folds()
    fit_cases = {r.case for r in evidence_roles().values() if r.role == "fit"}
    assert fit_cases <= set(folds)
    for case, f in folds.items():
        assert case not in f.fit_cases
    pooled = folds["pooled_msc_w52"]  # Kashbour 2025: its MSC RCT members are not fitted in its fold
    assert {"skyler2015", "hu2016"}.isdisjoint(pooled.fit_cases)
    assert {"kashbour2025_ma", "hu2016_wj"} <= set(pooled.held_out_ids)
    assert "skyler2015" in folds["hu2016"].fit_cases
