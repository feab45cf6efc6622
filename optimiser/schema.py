"""The plan request / plan exchange format (``shared/spec/plan-format.md``, version 1).

These models are the contract of the optimiser's entry point: the CLI and the
API's plan endpoints both speak them. They are strict on purpose: an unknown
field, a datetime without an offset, a duplicate id or a dangling reference is
a request error naming the field, never silently ignored. Fields beyond the
spec are optional additions; nothing in the spec is renamed or reinterpreted.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Annotated[str, Field(min_length=1)]
SkillLevel = Annotated[int, Field(ge=1, le=5)]
NonNegativeMinutes = Annotated[float, Field(ge=0)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Priority = Annotated[int, Field(ge=1, le=5)]
CostWeight = Annotated[float, Field(ge=0, le=10_000)]
"""An objective weight in travel minutes; the cap keeps every cost inside int64."""
DEFAULT_SLA_COST_PER_MIN: dict[int, float] = {1: 10, 2: 5, 3: 2, 4: 1, 5: 0.5}
"""Travel minutes per minute of SLA lateness, by priority (see ``Options.sla_cost_per_min``):
a late emergency is worth a long detour; minutes late on a visit due in a week are not
(a day late on it still costs 12 hours of driving)."""


class Strict(BaseModel):
    """Base for every exchange-format object: unknown fields are errors, and so are
    infinite or NaN numbers (an infinite duration or time limit is never meant)."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True,
                              allow_inf_nan=False)


def known_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone, else ``ValueError`` (what pydantic reports).

    ``ZoneInfo`` raises ``OSError`` subclasses for some names (``"Europe"`` is a
    directory of the tz database), which pydantic would not turn into a field error.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                         f"'Europe/London')") from exc
    return value


def _require_unique_ids(items: list, what: str) -> None:
    seen: set[str] = set()
    for position, item in enumerate(items):
        if item.id in seen:
            raise ValueError(f"duplicate {what} id {item.id!r} at position {position}")
        seen.add(item.id)


class Location(Strict):
    """A WGS84 point, a row of the travel matrix, or both."""

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    index: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _has_a_position(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        if self.lat is None and self.index is None:
            raise ValueError("a location needs lat/lon or a matrix index")
        return self


class TimeWindow(Strict):
    """A closed interval for the START of a visit."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class Break(Strict):
    earliest_start: AwareDatetime
    latest_end: AwareDatetime
    duration_min: NonNegativeMinutes

    @model_validator(mode="after")
    def _fits(self) -> Break:
        span = (self.latest_end - self.earliest_start).total_seconds() / 60
        if span < self.duration_min:
            raise ValueError(
                f"duration_min {self.duration_min:g} does not fit between earliest_start "
                f"and latest_end ({span:g} min)"
            )
        return self


class Shift(Strict):
    start: AwareDatetime
    end: AwareDatetime
    breaks: list[Break] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Technician(Strict):
    id: Id
    name: str | None = None
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    start_location: Location
    end_location: Location | None = None
    shifts: list[Shift] = Field(min_length=1)
    territories: list[str] = Field(default_factory=list)
    max_overtime_min: NonNegativeMinutes = 0
    capacity: float | None = Field(default=None, ge=0)

    @property
    def home_end(self) -> Location:
        return self.end_location or self.start_location


class CoveragePeriod(Strict):
    """Weekly recurring period, local wall-clock time; ``to`` may be ``24:00``."""

    days: list[Weekday] = Field(min_length=1)
    from_: str = Field(alias="from", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    to: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Entitlement(Strict):
    id: Id
    onsite: bool = True
    coverage: list[CoveragePeriod] | None = None
    timezone: str = "UTC"
    valid_until: AwareDatetime | None = None
    min_skill_level: SkillLevel | None = None
    # Additions: a contract not yet in force (visits must START at or after
    # ``valid_from``), and one suspended for a stated reason (inactive, usage cap
    # used up): no visit may be scheduled under it, the reason says why.
    valid_from: AwareDatetime | None = None
    suspended: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)


class Appointment(Strict):
    id: Id
    ticket_id: str | None = None
    entitlement_id: str | None = None
    location: Location
    duration_min: NonNegativeMinutes
    required_skills: dict[str, SkillLevel] = Field(default_factory=dict)
    windows: list[TimeWindow] = Field(default_factory=list)
    sla_due: AwareDatetime | None = None
    priority: int = Field(default=3, ge=1, le=5)
    territory: str | None = None
    demand: float = Field(default=0, ge=0)
    pinned_technician: str | None = None
    preferred_technicians: list[str] = Field(default_factory=list)
    excluded_technicians: list[str] = Field(default_factory=list)
    # Additions for in-day re-planning (plan stability): where the published plan
    # put this visit. Moving it to another technician, or its start by more than
    # ``options.shift_tolerance_min``, costs (see ``Options``).
    planned_technician: str | None = None
    planned_start: AwareDatetime | None = None


class Travel(Strict):
    model: Literal["haversine", "matrix"] = "haversine"
    speed_kmh: float = Field(default=40, gt=0)
    road_factor: float = Field(default=1.3, gt=0)
    durations_min: list[list[float]] | None = None
    distances_km: list[list[float]] | None = None

    @model_validator(mode="after")
    def _matrix_complete(self) -> Travel:
        if self.model != "matrix":
            return self
        for name in ("durations_min", "distances_km"):
            matrix = getattr(self, name)
            if matrix is None:
                raise ValueError(f"{name} is required when model is 'matrix'")
            size = len(matrix)
            for row_number, row in enumerate(matrix):
                if len(row) != size:
                    raise ValueError(f"{name} must be square: row {row_number} has {len(row)} "
                                     f"entries, expected {size}")
                for value in row:
                    if not math.isfinite(value) or value < 0:
                        raise ValueError(f"{name} row {row_number} has a negative or "
                                         f"non-finite entry")
        if len(self.durations_min or []) != len(self.distances_km or []):
            raise ValueError("durations_min and distances_km must have the same size")
        return self


class Options(Strict):
    time_limit_s: float = Field(default=30, gt=0)
    # Additions to the spec (optional):
    seed: int = Field(default=0, ge=0, description="Random seed; same input and seed, same plan.")
    solution_limit: int | None = Field(
        default=None, ge=1,
        description="Stop after this many improving solutions (makes runs reproducible "
                    "independently of machine speed).")
    move_cost_min: float = Field(
        default=120, ge=0,
        description="Re-planning: cost of giving a visit with planned_technician to another "
                    "technician, in equivalent travel minutes.")
    shift_tolerance_min: float = Field(
        default=60, ge=0,
        description="Re-planning: a visit may move this far from planned_start for free; "
                    "beyond it each minute costs drift_cost_per_min travel minutes.")
    # Objective weights, all in equivalent travel minutes (resolution 0.1). Travel
    # itself costs 1 per minute; dropping a visit always costs more than any of these.
    sla_cost_per_min: dict[Priority, CostWeight] = Field(
        default_factory=dict,
        description="Cost of each minute a visit starts after its sla_due, by priority "
                    "('1'..'5'), in travel minutes; priorities left out keep the default "
                    f"{DEFAULT_SLA_COST_PER_MIN}.")
    overtime_cost_per_min: CostWeight = Field(
        default=2,
        description="Cost of each minute a technician works past the shift end, in travel "
                    "minutes.")
    preferred_bonus_min: CostWeight = Field(
        default=10,
        description="Cost of giving a visit with preferred_technicians to someone else, in "
                    "travel minutes: how far a preferred technician may drive out of the way "
                    "(a tie-breaker by default, not worth long detours).")
    drift_cost_per_min: CostWeight = Field(
        default=1,
        description="Re-planning: cost of each minute a visit moves beyond "
                    "shift_tolerance_min of its planned_start, in travel minutes.")

    def sla_costs(self) -> dict[int, float]:
        """SLA lateness cost per minute for every priority (the defaults filled in)."""
        return {**DEFAULT_SLA_COST_PER_MIN, **self.sla_cost_per_min}


class PlanRequest(Strict):
    technicians: list[Technician]
    entitlements: list[Entitlement] = Field(default_factory=list)
    appointments: list[Appointment]
    travel: Travel = Field(default_factory=Travel)
    options: Options = Field(default_factory=Options)

    @model_validator(mode="after")
    def _references_resolve(self) -> PlanRequest:
        _require_unique_ids(self.technicians, "technician")
        _require_unique_ids(self.entitlements, "entitlement")
        _require_unique_ids(self.appointments, "appointment")
        entitlement_ids = {e.id for e in self.entitlements}
        technician_ids = {t.id for t in self.technicians}
        for position, appointment in enumerate(self.appointments):
            where = f"appointments[{position}] ({appointment.id})"
            if appointment.entitlement_id is not None and \
                    appointment.entitlement_id not in entitlement_ids:
                raise ValueError(f"{where}.entitlement_id: unknown entitlement "
                                 f"{appointment.entitlement_id!r}")
            if appointment.pinned_technician is not None and \
                    appointment.pinned_technician not in technician_ids:
                raise ValueError(f"{where}.pinned_technician: unknown technician "
                                 f"{appointment.pinned_technician!r}")
        if self.travel.model == "matrix":
            size = len(self.travel.durations_min or [])
            for location, where in self._all_locations():
                if location.index is None:
                    raise ValueError(f"{where}.index is required with the matrix travel model")
                if location.index >= size:
                    raise ValueError(f"{where}.index {location.index} is outside the "
                                     f"{size}x{size} matrix")
        else:
            for location, where in self._all_locations():
                if location.lat is None:
                    raise ValueError(f"{where} needs lat and lon with the haversine model")
        return self

    def _all_locations(self) -> list[tuple[Location, str]]:
        found: list[tuple[Location, str]] = []
        for i, tech in enumerate(self.technicians):
            found.append((tech.start_location, f"technicians[{i}].start_location"))
            if tech.end_location is not None:
                found.append((tech.end_location, f"technicians[{i}].end_location"))
        for i, appointment in enumerate(self.appointments):
            found.append((appointment.location, f"appointments[{i}].location"))
        return found


# --------------------------------------------------------------------------- plan


UnassignedReason = Literal[
    "no_skilled_technician", "not_entitled", "territory", "excluded",
    "window_unreachable", "pinned_infeasible", "capacity",
]


class Stop(Strict):
    appointment_id: str
    arrival: datetime
    start: datetime
    end: datetime
    travel_min: float
    distance_km: float
    sla_met: bool | None = None
    # Additions: lateness against sla_due, in minutes (0 when met or no SLA).
    lateness_min: float = 0


class BreakTaken(Strict):
    start: datetime
    end: datetime


class Route(Strict):
    technician_id: str
    shift_index: int
    departure: datetime
    return_: datetime = Field(alias="return")
    stops: list[Stop]
    breaks: list[BreakTaken] = Field(default_factory=list)
    travel_min: float
    distance_km: float
    # Addition: minutes worked past the shift end (0 when none).
    overtime_min: float = 0


class Unassigned(Strict):
    appointment_id: str
    reason: UnassignedReason
    detail: str


class Kpis(Strict):
    appointments: int
    assigned: int
    unassigned: int
    distance_km: float
    travel_min: float
    sla_met: int
    sla_missed: int
    lateness_min: float
    overtime_min: float
    utilisation: float
    # Additions.
    assigned_by_priority: dict[str, int] = Field(default_factory=dict)
    unassigned_by_priority: dict[str, int] = Field(default_factory=dict)
    routes_used: int = 0


class Plan(Strict):
    status: Literal["feasible", "infeasible_request"]
    routes: list[Route] = Field(default_factory=list)
    unassigned: list[Unassigned] = Field(default_factory=list)
    kpis: Kpis | None = None
    solve_time_s: float = 0
    # Additions.
    error: str | None = None
    objective: int | None = None

    def to_json_dict(self) -> dict:
        """The plan as the spec writes it (``return`` not ``return_``)."""
        return self.model_dump(mode="json", by_alias=True)
