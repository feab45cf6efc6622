"""Bodies of the technician and shift endpoints, with their business rules.

Breaks reuse the exchange format's ``Break`` (one definition of a flexible
break); everything is checked before anything is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.technicians.models import ShiftStatus, SupportTier
from api.validation import Email, Flag, Instant, Latitude, Level, Longitude, Version, text
from optimiser.schema import Break

MAX_SHIFT = timedelta(hours=24)

SkillName = Annotated[str, StringConstraints(
    min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+/ -]*$")]
Territory = Annotated[str, StringConstraints(
    min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+/ -]*$")]
Skills = Annotated[dict[SkillName, Level],
                   Field(max_length=100, description="Skill name -> level 1 (basic) .. 5 (expert)",
                         examples=[{"hvac": 3, "electrical": 1}])]
Territories = Annotated[list[Territory], Field(max_length=50, examples=[["north", "central"]])]
OvertimeMinutes = Annotated[float, Field(strict=True, ge=0, le=720, allow_inf_nan=False)]
Capacity = Annotated[float, Field(strict=True, ge=0, le=1e9, allow_inf_nan=False)]
Breaks = Annotated[list[Break], Field(max_length=10)]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        duplicate = next(v for v in values if values.count(v) > 1)
        raise ValueError(f"{duplicate!r} is listed twice")
    return values


_TECHNICIAN_EXAMPLE: dict[str, Any] = {
    "name": "Ana Ruiz", "email": "ana.ruiz@fieldplan.example", "phone": "+44 7700 900123",
    "support_tier": "field", "skills": {"hvac": 3, "electrical": 1},
    "home_lat": 51.5007, "home_lon": -0.1246, "territories": ["central"],
    "max_overtime_min": 60, "capacity": None, "active": True,
}


class TechnicianCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_TECHNICIAN_EXAMPLE]})

    name: text(200)
    email: Email | None = None
    phone: text(50) | None = None
    support_tier: SupportTier = SupportTier.field
    skills: Skills = Field(default_factory=dict)
    home_lat: Latitude
    home_lon: Longitude
    territories: Territories = Field(default_factory=list)
    max_overtime_min: OvertimeMinutes = 0
    capacity: Capacity | None = None
    active: Flag = True

    _territories_unique = field_validator("territories")(_unique)


class TechnicianUpdate(BaseModel):
    """Partial update; ``skills`` and ``territories`` replace the whole value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": 2, "skills": {"hvac": 4, "electrical": 2}, "territories": ["central", "east"]}]})

    version: Version
    name: text(200) | None = None
    email: Email | None = None
    phone: text(50) | None = None
    support_tier: SupportTier | None = None
    skills: Skills | None = None
    home_lat: Latitude | None = None
    home_lon: Longitude | None = None
    territories: Territories | None = None
    max_overtime_min: OvertimeMinutes | None = None
    capacity: Capacity | None = None
    active: Flag | None = None

    @field_validator("territories")
    @classmethod
    def _territories_unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique(value)


class TechnicianRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 4, **_TECHNICIAN_EXAMPLE, "version": 1, "created_at": "2026-11-22T09:00:00Z",
        "updated_at": "2026-11-22T09:00:00Z"}]})

    id: int
    name: str
    email: str | None
    phone: str | None
    support_tier: SupportTier
    skills: dict[str, int]
    home_lat: float
    home_lon: float
    territories: list[str]
    max_overtime_min: float
    capacity: float | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------------- shifts

_BREAK_EXAMPLE = {"earliest_start": "2026-11-23T12:00:00+00:00",
                  "latest_end": "2026-11-23T14:00:00+00:00", "duration_min": 30}


def check_shift_times(start: datetime, end: datetime, breaks: list[Break]
                      ) -> tuple[str, str] | None:
    """(field, why) for the first broken rule of a shift, or None when it is sound."""
    if end <= start:
        return "end", "end must be after start"
    if end - start > MAX_SHIFT:
        return "end", "a shift lasts at most 24 hours; enter several shifts for several days"
    for position, item in enumerate(breaks):
        if item.earliest_start < start or item.latest_end > end:
            return f"breaks.{position}", "a break must lie inside its shift"
    return None


class ShiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "start": "2026-11-23T08:00:00+00:00", "end": "2026-11-23T17:00:00+00:00",
        "breaks": [_BREAK_EXAMPLE], "note": None}]})

    start: Instant
    end: Instant
    breaks: Breaks = Field(default_factory=list)
    note: text(500) | None = None

    @field_validator("breaks")
    @classmethod
    def _inside_shift(cls, breaks: list[Break], info: ValidationInfo) -> list[Break]:
        start, end = info.data.get("start"), info.data.get("end")
        if start is None or end is None:
            return breaks
        problem = check_shift_times(start, end, breaks)
        if problem is not None:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        return breaks


class ShiftUpdate(BaseModel):
    """Partial update of times, breaks (replaced whole) or note; status has its own endpoint."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": 1, "end": "2026-11-23T18:00:00+00:00"}]})

    version: Version
    start: Instant | None = None
    end: Instant | None = None
    breaks: Breaks | None = None
    note: text(500) | None = None


class ShiftStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": 1, "status": "off_sick", "note": "called in sick at 07:10"}]})

    version: Version
    status: Literal["planned", "off_sick", "cancelled"]
    note: text(500) | None = None


class BreakRead(BaseModel):
    earliest_start: datetime
    latest_end: datetime
    duration_min: float


class ShiftRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 12, "technician_id": 4, "start": "2026-11-23T08:00:00Z",
        "end": "2026-11-23T17:00:00Z", "breaks": [_BREAK_EXAMPLE], "status": "planned",
        "note": None, "version": 1, "created_at": "2026-11-22T09:00:00Z",
        "updated_at": "2026-11-22T09:00:00Z"}]})

    id: int
    technician_id: int
    start: datetime
    end: datetime
    breaks: list[BreakRead]
    status: ShiftStatus
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
