"""Base classes of every protocol specification (Pydantic v2) and the error a cross-field check raises.

A therapy module declares its protocol spec as a :class:`TherapySpecBase` subclass with
``kind: Literal["<kind>"]`` and registers it, with its builder, in :mod:`t2dsim.core.registry`.
Times in specs are months after randomisation; :mod:`t2dsim.core.calendar` turns them into days.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["StrictModel", "TherapySpecBase", "spec_error"]


def spec_error(path: str, message: str) -> PydanticCustomError:
    """An error for a cross-field check; ``path`` is reported as the field path (``"dose: 9 is ..."``)."""
    return PydanticCustomError("protocol_consistency", "{path}: {detail}", {"path": path, "detail": message})


class StrictModel(BaseModel):
    """A specification that refuses unknown fields and validates its defaults."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class TherapySpecBase(StrictModel):
    """Common fields of every therapy in an arm's treatment plan.

    Subclasses set ``kind: Literal["..."]`` and may list known risks in the class variable
    ``risks`` (shown in the report; not exhaustive, not a safety assessment).
    """

    kind: str
    start_month: float = Field(default=0.0, ge=0, le=600, description="months after randomisation")
    stop_month: float | None = Field(default=None, gt=0, le=600, description="months after randomisation")
    risks: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _window(self) -> TherapySpecBase:
        if self.stop_month is not None and self.stop_month <= self.start_month:
            raise spec_error("stop_month", f"{self.stop_month:g} must be > start_month ({self.start_month:g})")
        return self
