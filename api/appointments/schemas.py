"""Request and response bodies of the appointments API.

Bodies are strict (unknown fields are errors) and validate everything that
needs no database: coordinates, windows (aware, end after start), skill levels,
technician lists that contradict each other. Checks that need the database
(does the ticket exist, is the address geocodable) live in the service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.appointments.lifecycle import AppointmentStatus
from api.validation import Instant

SkillName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
SkillLevel = Annotated[int, Field(ge=1, le=5)]
Priority = Annotated[int, Field(ge=1, le=5, description="1 (critical) to 5 (lowest)")]
DurationMin = Annotated[float, Field(gt=0, le=24 * 60, description="Visit length in minutes")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Notes = Annotated[str, StringConstraints(max_length=4000)]
RowId = Annotated[int, Field(ge=1)]
MAX_WINDOWS = 50
MAX_TECHNICIAN_LIST = 200


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeoLocation(StrictBody):
    """WGS84 degrees."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Window(StrictBody):
    """An allowed interval for the START of the visit (exchange format ``windows``)."""

    start: Instant
    end: Instant

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError("end must be after start")
        return value


def check_technician_lists(pinned: int | None, preferred: list[int] | None,
                           excluded: list[int] | None) -> None:
    """A technician cannot be pinned (or preferred) and excluded at once."""
    excluded_set = set(excluded or [])
    if pinned is not None and pinned in excluded_set:
        raise ValueError(f"pinned_technician_id {pinned} is also in excluded_technician_ids")
    clash = sorted(excluded_set & set(preferred or []))
    if clash:
        raise ValueError(f"technicians {clash} are both preferred and excluded")


class AppointmentFields(StrictBody):
    """What a caller may say about a visit; the ticket route takes exactly this."""

    location: GeoLocation | None = Field(
        default=None, description="Coordinates; when absent, `address` is geocoded")
    address: Address | None = Field(
        default=None, description="Geocoded when `location` is absent; without both, the "
                                  "ticket customer's site is used")
    duration_min: DurationMin
    required_skills: dict[SkillName, SkillLevel] = Field(default_factory=dict)
    windows: list[Window] = Field(default_factory=list, max_length=MAX_WINDOWS)
    priority: Priority | None = Field(
        default=None, description="Defaults to the ticket's priority (or 3 without a ticket)")
    territory: ShortText | None = None
    demand: float = Field(default=0, ge=0)
    pinned_technician_id: RowId | None = None
    preferred_technician_ids: list[RowId] = Field(default_factory=list,
                                                  max_length=MAX_TECHNICIAN_LIST)
    excluded_technician_ids: list[RowId] = Field(default_factory=list,
                                                 max_length=MAX_TECHNICIAN_LIST)
    external_ref: ShortText | None = None
    notes: Notes | None = None

    # Cross-field rules are field validators (not model validators) so the error
    # names the field (``body.excluded_technician_ids``, not ``body``). Pydantic validates fields
    # in declaration order, so ``info.data`` holds the earlier ones.

    @field_validator("excluded_technician_ids")
    @classmethod
    def _no_contradiction(cls, value: list[int], info: ValidationInfo) -> list[int]:
        check_technician_lists(info.data.get("pinned_technician_id"),
                               info.data.get("preferred_technician_ids"), value)
        return value


class AppointmentCreate(AppointmentFields):
    """``POST /appointments``: from a ticket (``ticket_id``) or standalone (integrations).

    Customer, entitlement and SLA come from the ticket when there is one; a
    standalone appointment may name them itself.
    """

    ticket_id: RowId | None = None
    customer_id: RowId | None = None
    entitlement_id: RowId | None = None
    sla_due: Instant | None = Field(
        default=None,
        description="Only without a ticket; otherwise derived from the ticket's contract")

    @field_validator("customer_id", "entitlement_id", "sla_due")
    @classmethod
    def _not_with_ticket(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("ticket_id") is not None:
            raise ValueError("comes from the ticket; do not send it together with ticket_id")
        return value


class AppointmentUpdate(StrictBody):
    """``PATCH``: only the fields sent change; ``version`` is the one you read."""

    version: int = Field(ge=1)
    location: GeoLocation | None = None
    address: Address | None = None
    duration_min: DurationMin | None = None
    required_skills: dict[SkillName, SkillLevel] | None = None
    windows: list[Window] | None = Field(default=None, max_length=MAX_WINDOWS)
    sla_due: Instant | None = None
    priority: Priority | None = None
    territory: ShortText | None = None
    demand: float | None = Field(default=None, ge=0)
    pinned_technician_id: RowId | None = None
    preferred_technician_ids: list[RowId] | None = Field(default=None,
                                                         max_length=MAX_TECHNICIAN_LIST)
    excluded_technician_ids: list[RowId] | None = Field(default=None,
                                                        max_length=MAX_TECHNICIAN_LIST)
    external_ref: ShortText | None = None
    notes: Notes | None = None
    status: AppointmentStatus | None = None
    technician_id: RowId | None = None
    scheduled_start: Instant | None = None
    scheduled_end: Instant | None = None
    plan_id: RowId | None = None
    completion_notes: Notes | None = None
    cannot_complete_reason: Notes | None = None

    @field_validator("duration_min", "required_skills", "windows", "demand",
                     "preferred_technician_ids", "excluded_technician_ids", "status",
                     "location")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields that were sent: these have no meaningful "cleared" value.
        if value is None:
            raise ValueError("cannot be null")
        return value


class AppointmentCancel(StrictBody):
    version: int = Field(ge=1)
    reason: Notes | None = None


class AppointmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int | None
    customer_id: int | None
    entitlement_id: int | None
    location: GeoLocation
    address: str | None
    geocoded_address: str | None = Field(
        description="What the geocoder matched, when the location came from `address`")
    duration_min: float
    required_skills: dict[str, int]
    windows: list[Window]
    sla_due: datetime | None
    priority: int
    territory: str | None
    demand: float
    pinned_technician_id: int | None
    preferred_technician_ids: list[int]
    excluded_technician_ids: list[int]
    external_ref: str | None
    status: AppointmentStatus
    technician_id: int | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    plan_id: int | None
    notes: str | None
    completion_notes: str | None
    cannot_complete_reason: str | None
    cancel_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class RowError(BaseModel):
    """One problem in an imported file: spreadsheet row number (header = row 1) and column."""

    row: int
    field: str
    message: str


class ImportResult(BaseModel):
    created: int
    items: list[AppointmentRead]

