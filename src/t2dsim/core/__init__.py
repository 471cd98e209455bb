"""Foundations every other layer may use: the keyed random generator, the calendar, units, the
therapy-spec base classes and the one therapy registry. core imports nothing else from t2dsim."""
