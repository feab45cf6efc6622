"""Request and response bodies of the dispatch API (slots, booking, routes, status).

A slot query is an appointment draft (the same fields and rules as
``POST /appointments``, so a chosen slot books with exactly what was asked)
plus how to cut the offer. Bodies are strict: unknown fields are errors.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from api.appointments.lifecycle import AppointmentStatus
from api.appointments.schemas import (
    AppointmentCreate,
    AppointmentRead,
    GeoLocation,
    Notes,
    Window,
)
from api.validation import DbId, Flag, Instant, Version

SlaFit = Literal["met", "at_risk", "missed", "none"]


class SlotQuery(AppointmentCreate):
    """``POST /slots``: the visit to place, and the offer wanted.

    Location: ``location``, else ``address`` (geocoded), else the ticket
    customer's site. Contract, priority and on-site SLA come from ``ticket_id``
    when given; a standalone draft may name ``entitlement_id`` (its on-site
    target for the priority then sets the SLA when ``sla_due`` is not sent).
    """

    days: int = Field(default=5, strict=True, ge=1, le=31,
                      description="Local days offered, from the day of `not_before`")
    slot_min: int = Field(default=120, strict=True, ge=15, le=720,
                          description="Length of an arrival window")
    not_before: Instant | None = Field(
        default=None, description="No window starts earlier (default: now)")
    per_window: int = Field(default=1, strict=True, ge=1, le=10,
                            description="Technicians offered per window, best first")
    limit: int | None = Field(default=50, strict=True, ge=1, le=1000,
                              description="At most this many slots")


class SlotBooking(SlotQuery):
    """``POST /slots/book``: the draft again plus the window (and technician) chosen."""

    window: Window
    technician_id: DbId | None = Field(
        default=None,
        description="The offered technician; omitted: any technician who can still make it")
    pin_technician: Flag = Field(
        default=False,
        description="Pin the visit to the technician (re-planning may not move it); by "
                    "default the technician is only preferred")


class SlotRead(BaseModel):
    start: datetime
    end: datetime
    technician_id: int
    technician_name: str
    planned_start: datetime = Field(description="When the visit would start inside the window")
    insert_after: int | None = Field(description="Appointment visited just before (None: "
                                                 "first of the day)")
    insert_before: int | None = Field(description="Appointment visited just after")
    travel_added_min: float
    distance_added_km: float
    sla: SlaFit
    lateness_min: float
    preferred: bool
    load: float = Field(description="The technician's day load after the visit (busy / "
                                    "available minutes)")
    cost: float = Field(description="Lower is better (minutes of travel equivalent)")
    grade: int = Field(description="0-100 over this offer, 100 = best")


class Blocked(BaseModel):
    reason: str
    detail: str


class SlotOfferRead(BaseModel):
    items: list[SlotRead]
    blocked: Blocked | None = Field(description="Why nobody can ever take the visit, if so")
    sla_due: datetime | None
    not_before: datetime
    until: datetime
    technicians_considered: int


class BookingRead(BaseModel):
    appointment: AppointmentRead
    slot: SlotRead


# ------------------------------------------------------------------------ route


class RouteCustomer(BaseModel):
    id: int
    name: str
    phone: str | None


class RouteTicket(BaseModel):
    id: int
    summary: str
    priority: int


class EtaWindow(BaseModel):
    start: datetime
    end: datetime
    source: Literal["booking_window", "tolerance"]


class RouteStop(BaseModel):
    sequence: int
    appointment_id: int
    version: int
    status: AppointmentStatus
    customer: RouteCustomer | None
    address: str | None
    location: GeoLocation
    map_url: str
    eta: datetime = Field(description="Planned start (kept current by status updates)")
    eta_window: EtaWindow
    scheduled_end: datetime
    duration_min: float
    required_skills: dict[str, int]
    sla_due: datetime | None
    ticket: RouteTicket | None
    travel_min: float = Field(description="From the previous stop (or home)")
    distance_km: float
    notes: str | None


class RouteBreak(BaseModel):
    earliest_start: datetime
    latest_end: datetime
    duration_min: float


class RouteShift(BaseModel):
    id: int
    start: datetime
    end: datetime
    breaks: list[RouteBreak]


class RouteTotals(BaseModel):
    visits: int
    service_min: float
    travel_min: float = Field(description="Home, every stop, and back home")
    travel_km: float
    working_min: float = Field(description="Service plus travel")
    break_min: float


class DayRoute(BaseModel):
    technician_id: int
    technician_name: str
    date: date
    timezone: str
    shifts: list[RouteShift]
    stops: list[RouteStop]
    breaks: list[RouteBreak]
    totals: RouteTotals


# ----------------------------------------------------------------------- status


class StatusUpdate(BaseModel):
    """``POST /appointments/{id}/status`` from the field app (or a dispatcher)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["en_route", "on_site", "completed", "cannot_complete"]
    version: Version
    notes: Notes | None = Field(default=None, description="Completion notes")
    reason: Notes | None = Field(default=None, description="Why the work cannot be completed")

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


class EtaRead(BaseModel):
    appointment_id: int
    previous_eta: datetime | None
    eta: datetime
    scheduled_end: datetime
    late: bool = Field(description="The new start misses every booking window")
    version: int


class StatusResult(BaseModel):
    appointment: AppointmentRead
    later_stops: list[EtaRead] = Field(
        description="The technician's later stops that day with their recomputed ETAs")
