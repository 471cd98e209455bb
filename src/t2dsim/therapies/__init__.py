"""Therapies: standard care (lifestyle, drugs, insulin, usual care, treatment plans) and stem-cell
therapies. Each module owns its model and its protocol spec and registers its kinds in
:mod:`t2dsim.core.registry` when imported; importing this package registers every built-in kind."""

from t2dsim.therapies import drugs, insulin, lifestyle, plan, stemcells, usual_care

__all__ = ["drugs", "insulin", "lifestyle", "plan", "stemcells", "usual_care"]
