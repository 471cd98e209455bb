"""Health-state utilities (EQ-5D, 0 = dead, 1 = full health) for UKPDS OM2 complications.

Two published sets are provided; pick one by name in :func:`utility_set`.

* ``"ukpds62"`` (default): baseline utility of type 2 diabetes without complications and
  complication decrements from UKPDS 62 (Clarke P, Gray A, Holman R. Estimating utility values
  for health states of type 2 diabetic patients using the EQ-5D. Med Decis Making
  2002;22:340-349). Tag S: the numbers are those carried by the awinn1/microsim_tutorial OM2
  implementation and are recalled as the UKPDS 62 set; the primary table was not reachable.
  UKPDS 62 has no renal-failure or ulcer decrement; the values used for these (-0.204, -0.170)
  are the ones carried by the same implementation (origin U).
* ``"advance_hayes2016"``: decrements from Hayes A, Arima H, Woodward M, et al. Changes in
  quality of life associated with complications of diabetes: results from the ADVANCE study.
  Value Health 2016;19:36-41 (EQ-5D-3L, two-way fixed effects). Tag V: amputation 0.122,
  stroke 0.099, blindness 0.083, renal failure 0.049, heart failure 0.045, myocardial infarction
  0.026, ischaemic heart disease not significant (0), read in the abstract. The paper reports no
  baseline and no ulcer value; baseline 0.785 and ulcer -0.170 are taken from the UKPDS 62 set.

Decrements apply from the year of the event onwards (event year = later years) and are added
(``combine="additive"``, consistent with the additive fixed-effects regressions above) or only
the largest one is applied (``combine="worst"``, the minimum rule of some OM2 ports). Utility is
floored at 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

#: Condition keys used by the simulator (history of the first event of each type).
CONDITIONS: tuple[str, ...] = ("mi", "ihd", "stroke", "chf", "amputation", "blindness", "renal", "ulcer")


@dataclass(frozen=True)
class UtilitySet:
    """Baseline utility (no complication) and per-condition decrements (negative numbers)."""

    name: str
    baseline: float
    decrements: Mapping[str, float]
    source: str
    combine: str = "additive"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(CONDITIONS) - set(self.decrements)
        if missing:
            raise ValueError(f"utility set {self.name!r}: decrements missing for {sorted(missing)}")
        if not 0.0 < self.baseline <= 1.0:
            raise ValueError(f"utility set {self.name!r}: baseline must be in (0, 1], got {self.baseline}")
        if self.combine not in ("additive", "worst"):
            raise ValueError(f"combine must be 'additive' or 'worst', got {self.combine!r}")

    def annual_utility(self, conditions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Utility for one year given boolean arrays ``(n,)`` of conditions present that year."""
        first = next(iter(conditions.values()))
        if self.combine == "additive":
            dec = np.zeros(first.shape, dtype=np.float64)
            for key in CONDITIONS:
                dec += self.decrements[key] * conditions[key]
        else:
            dec = np.zeros(first.shape, dtype=np.float64)
            for key in CONDITIONS:
                dec = np.minimum(dec, self.decrements[key] * conditions[key])
        return np.maximum(self.baseline + dec, 0.0)


_UKPDS62 = MappingProxyType(
    {
        "mi": -0.055,
        "ihd": -0.090,
        "stroke": -0.164,
        "chf": -0.108,
        "amputation": -0.280,
        "blindness": -0.074,
        "renal": -0.204,
        "ulcer": -0.170,
    }
)
_ADVANCE = MappingProxyType(
    {
        "mi": -0.026,
        "ihd": 0.0,
        "stroke": -0.099,
        "chf": -0.045,
        "amputation": -0.122,
        "blindness": -0.083,
        "renal": -0.049,
        "ulcer": -0.170,
    }
)


def utility_set(name: str = "ukpds62", combine: str = "additive") -> UtilitySet:
    """Return a published utility set by name (``"ukpds62"`` or ``"advance_hayes2016"``)."""
    if name == "ukpds62":
        return UtilitySet(
            name=name,
            baseline=0.785,
            decrements=_UKPDS62,
            source="Clarke, Gray & Holman 2002 Med Decis Making 22:340 (UKPDS 62); renal/ulcer from "
            "microsim_tutorial OM2 port",
            combine=combine,
            tags=MappingProxyType({"baseline": "S", "renal": "S(origin U)", "ulcer": "S(origin U)"}),
        )
    if name == "advance_hayes2016":
        return UtilitySet(
            name=name,
            baseline=0.785,
            decrements=_ADVANCE,
            source="Hayes et al. 2016 Value Health 19:36 (ADVANCE EQ-5D-3L); baseline, ulcer: UKPDS 62",
            combine=combine,
            tags=MappingProxyType({"decrements": "V (abstract)", "baseline": "S", "ulcer": "S"}),
        )
    raise ValueError(f"unknown utility set {name!r}; allowed: 'ukpds62', 'advance_hayes2016'")
