"""The prior file of the stem-cell calibration: ``t2dsim/data/calibration/priors.toml``, fixed before the refit.

Each prior is a typed :class:`Prior` record with its distribution, source, the reason for its width, and the
evidence rows that informed it. :func:`load_priors` refuses a file that breaks a rule, naming the prior and the
field (unknown keys, missing fields, non-positive widths, a median outside the support, duplicates).
:func:`check_against_evidence` enforces the rule of issue 16: no prior is informed by a scored trial (a fit or
check row of the inclusion table, or a member of a scored meta-analysis), and every bias term named by the
inclusion table has a prior. :func:`log_prior_arrays` gives the (mean, SD) of log θ in a fit's parameter order.

``python -m t2dsim.calibration.priors`` prints the prior table (Markdown).
"""

from __future__ import annotations

import math
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from t2dsim.calibration.evidence import evidence_rows
from t2dsim.calibration.evidence_roles import EvidenceRole, evidence_roles, scored_ids

__all__ = [
    "SETS",
    "DISTRIBUTIONS",
    "Prior",
    "load_priors",
    "priors",
    "priors_of_set",
    "log_prior_arrays",
    "check_against_evidence",
    "prior_table_markdown",
]

SETS = ("THETA", "ISLET_THETA", "NEW")
#: distribution -> its two parameters (centre, width)
DISTRIBUTIONS: dict[str, tuple[str, str]] = {
    "lognormal": ("median", "log_sd"),
    "normal": ("mean", "sd"),
    "logitnormal": ("median", "logit_sd"),
}
_TEXT = ("unit", "tag", "source", "width", "replaces")
_LISTS = ("trials", "references")
_TAG = re.compile(r"^[VSDHCM](/[VSDHCM])*$")
_Z975 = 1.959963984540054  # standard-normal 97.5 % quantile


@dataclass(frozen=True)
class Prior:
    """One prior: ``distribution`` with ``centre`` (median, or mean for normal) and ``spread`` (log-SD, SD or
    logit-SD), unit, verification ``tag``, ``source``, reason for its ``width``, evidence rows (``trials``) and
    other literature (``references``) that informed it, and the prior it ``replaces``."""

    set: str
    name: str
    distribution: str
    centre: float
    spread: float
    unit: str
    tag: str
    source: str
    width: str
    trials: tuple[str, ...]
    references: tuple[str, ...]
    replaces: str

    def _to_z(self, x: np.ndarray) -> np.ndarray:
        if self.distribution == "lognormal":
            return (np.log(x) - math.log(self.centre)) / self.spread
        if self.distribution == "logitnormal":
            c = math.log(self.centre / (1 - self.centre))
            return (np.log(x / (1 - x)) - c) / self.spread
        return (x - self.centre) / self.spread

    def _from_z(self, z: float) -> float:
        if self.distribution == "lognormal":
            return float(self.centre * math.exp(self.spread * z))
        if self.distribution == "logitnormal":
            c = math.log(self.centre / (1 - self.centre)) + self.spread * z
            return float(1.0 / (1.0 + math.exp(-c)))
        return float(self.centre + self.spread * z)

    def interval(self, z: float = _Z975) -> tuple[float, float]:
        """Central interval (default 95 %) on the parameter's own scale."""
        return self._from_z(-z), self._from_z(z)

    def logpdf(self, x: float | np.ndarray) -> np.ndarray:
        """Log density on the parameter's own scale (Jacobian included); -inf outside the support."""
        x = np.asarray(x, dtype=float)
        if self.distribution == "lognormal":
            ok = x > 0
            jac = -np.log(np.where(ok, x, 1.0))
        elif self.distribution == "logitnormal":
            ok = (x > 0) & (x < 1)
            xs = np.where(ok, x, 0.5)
            jac = -np.log(xs * (1 - xs))
        else:
            ok = np.isfinite(x)
            jac = np.zeros_like(x)
        xs = np.where(ok, x, self.centre)
        z = self._to_z(xs)
        lp = -0.5 * z**2 - math.log(self.spread * math.sqrt(2 * math.pi)) + jac
        return np.where(ok, lp, -np.inf)


def _fail(label: str, name: str, field: str, msg: str) -> ValueError:
    return ValueError(f"{label}: prior {name!r}, field {field!r}: {msg}")


def _parse(entry: dict[str, Any], label: str, index: int) -> Prior:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(label, f"#{index + 1}", "name", "missing or not a string")
    dist = entry.get("distribution")
    if dist not in DISTRIBUTIONS:
        raise _fail(label, name, "distribution", f"{dist!r} is not one of {sorted(DISTRIBUTIONS)}")
    centre_key, spread_key = DISTRIBUTIONS[dist]
    allowed = {"set", "name", "distribution", centre_key, spread_key, *_TEXT, *_LISTS}
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _fail(label, name, unknown[0], f"unknown key for a {dist} prior (allowed: {sorted(allowed)})")
    pset = entry.get("set")
    if pset not in SETS:
        raise _fail(label, name, "set", f"{pset!r} is not one of {SETS}")
    vals: dict[str, float] = {}
    for key in (centre_key, spread_key):
        v = entry.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _fail(label, name, key, f"missing or not a finite number ({v!r})")
        vals[key] = float(v)
    if vals[spread_key] <= 0:
        raise _fail(label, name, spread_key, f"must be > 0, got {vals[spread_key]}")
    if dist == "lognormal" and vals[centre_key] <= 0:
        raise _fail(label, name, centre_key, f"a log-normal median must be > 0, got {vals[centre_key]}")
    if dist == "logitnormal" and not 0 < vals[centre_key] < 1:
        raise _fail(label, name, centre_key, f"a logit-normal median must lie in (0, 1), got {vals[centre_key]}")
    text: dict[str, str] = {}
    for key in _TEXT:
        v = entry.get(key)
        if not isinstance(v, str) or not v.strip():
            raise _fail(label, name, key, "missing or empty text")
        text[key] = v.strip()
    if not _TAG.match(text["tag"]):
        raise _fail(label, name, "tag", f"{text['tag']!r} is not V, S, D, H, C, M or a '/'-list of them")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LISTS:
        v = entry.get(key)
        if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
            raise _fail(label, name, key, "must be a list of non-empty strings (may be empty)")
        lists[key] = tuple(v)
    return Prior(
        set=pset,
        name=name,
        distribution=dist,
        centre=vals[centre_key],
        spread=vals[spread_key],
        unit=text["unit"],
        tag=text["tag"],
        source=text["source"],
        width=text["width"],
        trials=lists["trials"],
        references=lists["references"],
        replaces=text["replaces"],
    )


def load_priors(path: str | Path | None = None) -> tuple[Prior, ...]:
    """Read and validate a prior file (default: the bundled ``priors.toml``). Every ``trials`` id must be a row
    of the evidence table; each (set, name) appears once."""
    if path is None:
        text = resources.files("t2dsim.data").joinpath("calibration/priors.toml").read_text(encoding="utf-8")
        label = "data/calibration/priors.toml"
    else:
        text, label = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{label}: not valid TOML ({exc})") from exc
    entries = doc.get("prior")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{label}: no [[prior]] tables")
    evidence = evidence_rows()
    out: list[Prior] = []
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(entries):
        p = _parse(e, label, i)
        if (p.set, p.name) in seen:
            raise _fail(label, p.name, "name", f"declared twice in set {p.set}")
        seen.add((p.set, p.name))
        for t in p.trials:
            if t not in evidence:
                raise _fail(label, p.name, "trials", f"{t!r} is not a row of data/evidence/stem-cell-trials.csv")
        out.append(p)
    return tuple(out)


@lru_cache(maxsize=1)
def priors() -> tuple[Prior, ...]:
    """The bundled priors (validated once per process)."""
    return load_priors()


def priors_of_set(pset: str, table: Sequence[Prior] | None = None) -> dict[str, Prior]:
    """``{name: Prior}`` of one set (THETA, ISLET_THETA or NEW)."""
    if pset not in SETS:
        raise ValueError(f"prior set {pset!r} is not one of {SETS}")
    return {p.name: p for p in (priors() if table is None else table) if p.set == pset}


def log_prior_arrays(
    pset: str, names: Sequence[str], table: Sequence[Prior] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Means and SDs of log θ for ``names`` (a fit's parameter order) from the log-normal priors of ``pset``;
    an error names a parameter without a prior or with another distribution."""
    by = priors_of_set(pset, table)
    mu, sd = [], []
    for n in names:
        if n not in by:
            raise KeyError(f"no prior for {pset} parameter {n!r} in data/calibration/priors.toml")
        p = by[n]
        if p.distribution != "lognormal":
            raise ValueError(f"prior {n!r}: the fit works in log θ and needs a lognormal prior, not {p.distribution}")
        mu.append(math.log(p.centre))
        sd.append(p.spread)
    return np.asarray(mu), np.asarray(sd)


def check_against_evidence(table: Sequence[Prior] | None = None, roles: dict[str, EvidenceRole] | None = None) -> None:
    """Refuse a prior informed by a scored trial (issue 16) and a bias term of the inclusion table without a
    prior; the error names the prior (or row) and the offending trial (or bias name)."""
    table = priors() if table is None else table
    roles = evidence_roles() if roles is None else roles
    banned = scored_ids(roles)
    for p in table:
        bad = [t for t in p.trials if t in banned]
        if bad:
            raise ValueError(
                f"prior {p.set}:{p.name!r}, field 'trials': {bad} are scored (fit/check rows or members of a "
                "scored meta-analysis in data/calibration/evidence_roles.csv); replace the source or widen the prior"
            )
    new = priors_of_set("NEW", table)
    for r in roles.values():
        for b in r.bias_names:
            if b not in new:
                raise ValueError(f"evidence row {r.id!r}, field 'bias_term': {b!r} has no prior of set NEW")


def prior_table_markdown(table: Sequence[Prior] | None = None) -> str:
    """The prior table as Markdown: parameter, distribution with its 95 % range, tag, evidence rows, replaced
    prior (sources and width reasons stay in the file)."""

    def g(x: float) -> str:
        return f"{x:.3g}"

    lines = [
        "| set | parameter | prior | 95 % range | tag | evidence rows | replaces |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in priors() if table is None else table:
        a, b = p.interval()
        c, s = DISTRIBUTIONS[p.distribution]
        lines.append(
            f"| {p.set} | `{p.name}` | {p.distribution}({c} {g(p.centre)}, {s} {g(p.spread)}) | {g(a)} to {g(b)} "
            f"| {p.tag} | {', '.join(p.trials) or '–'} | {p.replaces} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a printing command
    check_against_evidence()
    sys.stdout.write(prior_table_markdown() + "\n")
