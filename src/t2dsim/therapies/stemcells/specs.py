"""Build stem-cell therapy objects from the protocol's therapy specs (trial/protocol.py).

For the lead's / standard-care helper's spec → therapy factory: ``from_spec(spec)`` handles the
stem-cell kinds ``uc_msc``, ``islet_graft`` and ``placebo_infusion`` (duck-typed on the spec's fields,
so this module does not import the protocol layer). Months are converted with 365.25/12 days.
"""

from __future__ import annotations

from typing import Any

from t2dsim.core.calendar import month_to_day
from t2dsim.therapies.base import Therapy
from t2dsim.therapies.stemcells.islets import IsletGraft
from t2dsim.therapies.stemcells.msc import MSCTherapy
from t2dsim.therapies.stemcells.placebo import PlaceboTrialEffect

__all__ = ["from_spec", "STEM_CELL_KINDS"]

STEM_CELL_KINDS = ("uc_msc", "islet_graft", "placebo_infusion")
_ROUTES = {"intravenous": "iv", "pancreatic_artery": "pancreatic_artery"}
_SITES = {
    "portal_vein": "portal_vein",
    "anterior_rectus_sheath": "muscle",
    "omentum": "omentum",
    "subcutaneous": "subcutaneous_device",
}
_SOURCES = {  # spec source -> (product, origin)
    "autologous_ipsc": ("sc_islet", "autologous"),
    "allogeneic_esc": ("sc_islet", "allogeneic"),
    "donor_islets": ("donor_islets", "allogeneic"),
}


def _day(months: float) -> int:
    return int(month_to_day(months))


def from_spec(spec: Any, diabetes_type: str = "t2d") -> Therapy:
    """The therapy object for a stem-cell therapy spec (``spec.kind`` in STEM_CELL_KINDS)."""
    kind = getattr(spec, "kind", None)
    start = float(getattr(spec, "start_month", 0.0))
    if kind == "uc_msc":
        days = [_day(start + i * spec.interval_months) for i in range(int(spec.n_infusions))]
        return MSCTherapy(spec.cells_per_kg_per_infusion, days, "UC-MSC", _ROUTES[spec.route])
    if kind == "islet_graft":
        product, origin = _SOURCES[spec.source]
        return IsletGraft(
            product,
            ieq_per_kg=spec.ieq_per_kg,
            infusion_days=[_day(start)],
            origin=origin,
            site=_SITES[spec.site],
            immunosuppression=bool(spec.immunosuppression),
            diabetes_type=diabetes_type,
        )
    if kind == "placebo_infusion":
        return PlaceboTrialEffect(start_day=_day(start))
    raise ValueError(f"not a stem-cell therapy kind: {kind!r}; allowed: {', '.join(STEM_CELL_KINDS)}")
