"""Physiology models: minute-scale meal model, C-peptide kinetics, sensors, years-scale progression.

The parallel Numba kernels of this package (progression, meal model) run on OpenMP threads; importing it sets the
OpenMP wait policy to passive unless the user chose one (:func:`t2dsim.core.threads.set_default_wait_policy`), so
two t2dsim processes sharing the cores do not slow each other threefold with spinning threads."""

from t2dsim.core.threads import set_default_wait_policy

set_default_wait_policy()
