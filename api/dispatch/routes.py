"""HTTP endpoints of dispatch (HTTP only: rules live in ``service``).

Who may do what (the README's "Roles and access" table lists every route):
- slots and booking: agent, dispatcher, admin (agents book for tickets only, as
  they create appointments from tickets only);
- a technician's day route: that technician (others' are 404), dispatcher, admin;
- field status updates: that technician on its own visits (others' are 404),
  dispatcher, admin.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from api.appointments.idempotency import Outcome, run_idempotent
from api.appointments.routes import GeocodingDep, IdempotencyKeyHeader
from api.appointments.schemas import AppointmentRead
from api.auth.dependencies import Principal, Role, require_roles
from api.concurrency import set_etag
from api.database import SessionDep
from api.dispatch import service
from api.dispatch.schemas import (
    BookingRead,
    DayRoute,
    SlotBooking,
    SlotOfferRead,
    SlotQuery,
    StatusResult,
    StatusUpdate,
)
from api.errors import Forbidden, error_responses

router = APIRouter(tags=["dispatch"], responses=error_responses(401, 403, 422))

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Booker = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher))]
FieldWorker = Annotated[Principal, Depends(require_roles(Role.technician, Role.dispatcher))]


def _planning_timezone(request: Request) -> str:
    return request.app.state.settings.planning_timezone


@router.post("/slots", response_model=SlotOfferRead,
             summary="Graded arrival windows for a new visit, best first, each with a "
                     "technician")
def offer_slots(data: SlotQuery, request: Request, db: SessionDep, principal: Booker,
                geocoding: GeocodingDep) -> SlotOfferRead:
    """Nothing is written. Windows are cut in the contract's time zone (else the
    planning time zone) and fitted into the technicians' committed routes."""
    return service.offer_slots(db=db, data=data, actor=principal, geocoding=geocoding,
                               planning_timezone=_planning_timezone(request))


@router.post("/slots/book", status_code=status.HTTP_201_CREATED, response_model=BookingRead,
             responses=error_responses(409),
             summary="Book an offered window: re-checked now, then a scheduled appointment")
def book_slot(data: SlotBooking, request: Request, db: SessionDep, principal: Booker,
              geocoding: GeocodingDep, idempotency_key: IdempotencyKeyHeader = None
              ) -> JSONResponse:
    """The appointment gets the window as its booking window, the technician (preferred,
    or pinned with ``pin_technician``) and the planned start. 409 ``slot_unavailable``
    when the window can no longer be kept. Agents book for tickets (``ticket_id``), as
    they create appointments. ``Idempotency-Key`` makes a retry replay the booking."""
    if principal.role == Role.agent and data.ticket_id is None:
        raise Forbidden("Agents book slots for tickets: send ticket_id")

    def action() -> Outcome:
        appointment, slot = service.book_slot(db=db, data=data, actor=principal,
                                              geocoding=geocoding,
                                              planning_timezone=_planning_timezone(request))
        body = BookingRead(appointment=AppointmentRead.model_validate(appointment), slot=slot)
        return Outcome(status_code=status.HTTP_201_CREATED, body=body.model_dump(mode="json"),
                       headers={"ETag": f'"{appointment.version}"',
                                "Location": f"/api/v1/appointments/{appointment.id}"})

    return run_idempotent(db, principal=principal, key=idempotency_key,
                          operation="POST /slots/book",
                          payload=data.model_dump(mode="json", exclude_unset=True),
                          action=action)


@router.get("/technicians/{technician_id}/route", response_model=DayRoute,
            responses=error_responses(404),
            summary="A technician's stops of one day, in order, with breaks and totals")
def technician_route(
    technician_id: Id, request: Request, db: SessionDep, principal: FieldWorker,
    day: Annotated[date | None, Query(alias="date", description=(
        "Local day in the planning time zone, YYYY-MM-DD (default: today)"))] = None,
    tolerance_min: Annotated[float, Query(ge=0, le=240, description=(
        "ETA window half-width for visits without a booking window"))] = 30,
) -> DayRoute:
    timezone = _planning_timezone(request)
    if day is None:
        day = datetime.now(ZoneInfo(timezone)).date()
    return service.day_route(db=db, technician_id=technician_id, day=day, principal=principal,
                             timezone=timezone, tolerance_min=tolerance_min)


@router.post("/appointments/{appointment_id}/status", response_model=StatusResult,
             responses=error_responses(404, 409),
             summary="Field status update (en route, on site, completed, cannot complete); "
                     "later stops re-timed")
def update_status(appointment_id: Id, data: StatusUpdate, request: Request,
                  response: Response, db: SessionDep, principal: FieldWorker) -> StatusResult:
    appointment, later = service.update_status(
        db=db, appointment_id=appointment_id, data=data, principal=principal,
        timezone=_planning_timezone(request))
    set_etag(response, appointment)
    return StatusResult(appointment=AppointmentRead.model_validate(appointment),
                        later_stops=later)
