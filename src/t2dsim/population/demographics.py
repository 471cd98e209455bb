"""Demographic covariates of virtual patients: sex and height (for body weight from BMI).

Keyed draws (:mod:`t2dsim.core.rng`, streams ``cov:sex`` and ``cov:height``), so a patient's sex and height
do not depend on cohort size or chunking; a protocol may change the share of women (the same uniform
is compared with the new share).
"""

from __future__ import annotations

import numpy as np

from t2dsim.core.rng import keyed_normal, keyed_uniform

__all__ = ["FEMALE_SHARE_DEFAULT", "HEIGHT_CM", "sex_and_height"]

#: Adult height (cm) by sex, for body weight from BMI: CDC anthropometric reference data for US adults
#: 2015–2018 (NHANES; Vital Health Stat 3(46), 2021), mean ≈ 175 cm (men) and 161 cm (women), SD ≈ 7 cm
#: (tag U: values recalled, not re-read).
HEIGHT_CM = {"male": (175.0, 7.5), "female": (161.0, 7.0)}
#: Default share of women when a protocol gives no sex distribution: UKPDS 33 enrolled 39 % women
#: (Lancet 352:837, 1998; tag U: recalled); the stem-cell trials report 30–50 %.
FEMALE_SHARE_DEFAULT = 0.39


def sex_and_height(seed: int, patient_ids: np.ndarray, female_share: float = FEMALE_SHARE_DEFAULT):
    """``(female (n,) bool, height_cm (n,))`` keyed per patient."""
    if not 0.0 <= female_share <= 1.0:
        raise ValueError(f"female share must lie in [0, 1], got {female_share}")
    female = keyed_uniform(seed, patient_ids, "cov:sex") < female_share
    z_h = keyed_normal(seed, patient_ids, "cov:height")
    height = np.where(
        female, HEIGHT_CM["female"][0] + HEIGHT_CM["female"][1] * z_h, HEIGHT_CM["male"][0] + HEIGHT_CM["male"][1] * z_h
    )
    return female, height
