"""The evidence inclusion table: the role of every row of the bundled stem-cell evidence table.

``t2dsim/data/calibration/evidence_roles.csv`` gives each row of ``data/evidence/stem-cell-trials.csv`` one role:

* ``fit``: a target of the stem-cell fit (and, in cold leave-one-trial-out, a held-out check of the folds that
  leave its ``case`` out);
* ``check``: scored, never fitted (held-out endpoints; pooled meta-analyses, scored on their own and never
  combined with their member trials, listed in ``members``);
* ``excluded``: not scored, with the reason (no usable endpoint, from memory, safety only, overlapping pool, or
  used as a prior source: a prior must not come from a scored trial).

Uncontrolled rows (single-arm, case report, registry, non-randomised) that are scored carry ``bias_term``: the
names of the bias parameters (priors of set NEW in ``priors.toml``) added to their pre-post change, or a stated
reason why none is needed. The loader refuses a table that breaks any of these rules, naming row and field.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from t2dsim.calibration.evidence import evidence_rows

__all__ = [
    "ROLES",
    "UNCONTROLLED_DESIGNS",
    "EvidenceRole",
    "load_evidence_roles",
    "evidence_roles",
    "scored_ids",
    "Fold",
    "cold_loto_folds",
    "inclusion_table_markdown",
]

ROLES = ("fit", "check", "excluded")
#: record_type values of the evidence table whose effect estimate is a pre-post change (no concurrent control)
UNCONTROLLED_DESIGNS = frozenset(
    {"single_arm", "case_report", "registry_retrospective", "controlled_nonrandomized", "regulatory_summary"}
)
_COLUMNS = ["id", "role", "case", "bias_term", "members", "reason"]


@dataclass(frozen=True)
class EvidenceRole:
    """Role of one evidence row (see the module docstring for the meaning of each field)."""

    id: str
    role: str  # fit | check | excluded
    case: str  # calibration case (LOTO unit) the row's endpoints belong to; "" when excluded
    bias_term: str  # ";"-separated bias parameter names, or "none: …" / "not needed…" with the reason
    members: tuple[str, ...]  # meta-analysis member rows (known or probable); empty otherwise
    reason: str

    @property
    def scored(self) -> bool:
        return self.role in ("fit", "check")

    @property
    def bias_names(self) -> tuple[str, ...]:
        """Bias parameters applied to this row's pre-post changes (empty if none)."""
        if not self.bias_term.startswith("bias."):
            return ()
        return tuple(b.strip() for b in self.bias_term.split(";") if b.strip())


def _err(path: Path | str, row_id: str, field: str, msg: str) -> ValueError:
    return ValueError(f"{path}: row {row_id!r}, field {field!r}: {msg}")


def load_evidence_roles(path: str | Path | None = None) -> tuple[EvidenceRole, ...]:
    """Read and validate the inclusion table (default: the bundled one). Raises ``ValueError`` naming the row
    and field of the first broken rule; every row of the evidence table must have exactly one role."""
    if path is None:
        src = resources.files("t2dsim.data").joinpath("calibration/evidence_roles.csv")
        label = "data/calibration/evidence_roles.csv"
        text = src.read_text(encoding="utf-8")
    else:
        label = str(path)
        text = Path(path).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != _COLUMNS:
        raise ValueError(f"{label}: header must be {_COLUMNS}, got {reader.fieldnames}")
    evidence = evidence_rows()
    out: list[EvidenceRole] = []
    seen: set[str] = set()
    for raw in reader:
        rid = (raw["id"] or "").strip()
        if rid not in evidence:
            raise _err(label, rid, "id", "not a row of data/evidence/stem-cell-trials.csv")
        if rid in seen:
            raise _err(label, rid, "id", "appears twice; each evidence row has exactly one role")
        seen.add(rid)
        role = raw["role"].strip()
        if role not in ROLES:
            raise _err(label, rid, "role", f"{role!r} is not one of {ROLES}")
        reason = raw["reason"].strip()
        if not reason:
            raise _err(label, rid, "reason", "empty; every role (exclusions above all) states its reason")
        case, bias = raw["case"].strip(), raw["bias_term"].strip()
        members = tuple(m.strip() for m in raw["members"].split(";") if m.strip())
        design = evidence[rid]["record_type"]
        if role == "excluded" and (case or bias):
            raise _err(label, rid, "case" if case else "bias_term", "must be empty for an excluded row")
        if role != "excluded":
            if not case:
                raise _err(label, rid, "case", "a scored row names the calibration case it belongs to")
            if not bias:
                raise _err(label, rid, "bias_term", "a scored row names its bias terms or says why none is needed")
            if design in UNCONTROLLED_DESIGNS and bias.startswith("none"):
                raise _err(
                    label, rid, "bias_term", f"an uncontrolled design ({design}) needs bias terms or 'not needed: why'"
                )
        if design == "meta_analysis" and role == "fit":
            raise _err(label, rid, "role", "a pooled meta-analysis is a separate check, never a fit target")
        if members and design != "meta_analysis":
            raise _err(label, rid, "members", "only meta-analysis rows list member trials")
        for m in members:
            if m not in evidence:
                raise _err(label, rid, "members", f"{m!r} is not a row of the evidence table")
        out.append(EvidenceRole(rid, role, case, bias, members, reason))
    missing = [k for k in evidence if k not in seen]
    if missing:
        raise ValueError(f"{label}: evidence rows without a role: {missing}; add one line per row")
    return tuple(out)


@lru_cache(maxsize=1)
def evidence_roles() -> dict[str, EvidenceRole]:
    """The bundled inclusion table as ``{id: EvidenceRole}`` (validated once per process)."""
    return {r.id: r for r in load_evidence_roles()}


def scored_ids(roles: dict[str, EvidenceRole] | None = None) -> frozenset[str]:
    """Rows a prior must not use: every fit or check row, and every listed member of a scored meta-analysis
    (a pooled check is scored, so its members' data are scored data too)."""
    roles = evidence_roles() if roles is None else roles
    out = {r.id for r in roles.values() if r.scored}
    for r in roles.values():
        if r.scored:
            out.update(r.members)
    return frozenset(out)


@dataclass(frozen=True)
class Fold:
    """One cold leave-one-trial-out fold: the scored ``case`` it predicts, the evidence rows it holds out, and the
    cases the fold may fit (refit from the priors, which cite no scored row, see ``priors.check_against_evidence``)."""

    case: str
    held_out_ids: tuple[str, ...]
    fit_cases: tuple[str, ...]


def cold_loto_folds(roles: dict[str, EvidenceRole] | None = None) -> dict[str, Fold]:
    """One fold per scored case. A fit case is removed from its own fold; a pooled check also removes the cases of
    its member trials, so the pool is predicted by a model that saw none of its members. Check-only cases (never
    fitted) are predicted by the fit to all fit cases."""
    roles = evidence_roles() if roles is None else roles
    fit_cases = sorted({r.case for r in roles.values() if r.role == "fit"})
    case_of_row = {r.id: r.case for r in roles.values() if r.scored}
    folds: dict[str, Fold] = {}
    for case in sorted({r.case for r in roles.values() if r.scored}):
        rows = [r for r in roles.values() if r.scored and r.case == case]
        drop = {case} | {case_of_row[m] for r in rows for m in r.members if m in case_of_row}
        held = {r.id for r in rows} | {m for r in rows for m in r.members}
        folds[case] = Fold(case, tuple(sorted(held)), tuple(c for c in fit_cases if c not in drop))
    return folds


def inclusion_table_markdown(roles: dict[str, EvidenceRole] | None = None) -> str:
    """The inclusion table as Markdown (one line per evidence row)."""
    roles = evidence_roles() if roles is None else roles
    ev = evidence_rows()
    lines = ["| id | design | role | case | bias term | members | reason |", "|---|---|---|---|---|---|---|"]
    for r in roles.values():
        bias = r.bias_term.replace(";", ", ") or "–"
        lines.append(
            f"| {r.id} | {ev[r.id]['record_type']} | {r.role} | {r.case or '–'} | {bias} "
            f"| {', '.join(r.members) or '–'} | {r.reason} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a printing command
    sys.stdout.write(inclusion_table_markdown() + "\n")
