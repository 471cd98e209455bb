"""BM-MNC as a protocol kind (issue 14): dose, route and schedule validated with the field named; the therapy
object carries them."""

from __future__ import annotations

import numpy as np
import pytest

from t2dsim.core.calendar import month_to_day
from t2dsim.therapies.specs import build_therapy, parse_spec
from t2dsim.therapies.stemcells.bmmnc import BMMNCTherapy


def test_spec_builds_the_scheduled_infusions():
    t = build_therapy({"kind": "bmmnc", "cells_per_infusion": 8e8, "n_infusions": 2, "interval_months": 6,
                       "route": "intravenous", "start_month": 1})  # fmt: skip
    assert isinstance(t, BMMNCTherapy)
    np.testing.assert_array_equal(t.infusion_days, [month_to_day(1), month_to_day(7)])
    np.testing.assert_allclose(t.cells, [8e8, 8e8])
    assert t.routes == ["iv", "iv"]
    # an intravenous dose is less potent than the same into the pancreatic artery (a stated model hypothesis)
    pa = build_therapy({"kind": "bmmnc", "cells_per_infusion": 8e8, "n_infusions": 2, "interval_months": 6,
                        "start_month": 1})  # fmt: skip
    days = np.array([month_to_day(4)], float)
    assert t.activity(days)[0] < pa.activity(days)[0]


def test_bad_doses_and_schedules_are_refused_with_the_field_named():
    with pytest.raises(ValueError, match=r"bmmnc.cells_per_infusion.*allowed range \[1e\+07, 5e\+09\]"):
        parse_spec({"kind": "bmmnc", "cells_per_infusion": 1e11})
    with pytest.raises(ValueError, match=r"bmmnc.route"):
        parse_spec({"kind": "bmmnc", "route": "intramuscular"})
    with pytest.raises(ValueError, match=r"bmmnc.stop_month: not supported"):
        build_therapy({"kind": "bmmnc", "stop_month": 6})
