"""HTTP endpoints for technicians and shifts (HTTP only; rules live in ``service``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.auth.dependencies import Principal, Role, require_roles
from api.concurrency import set_etag
from api.database import SessionDep
from api.errors import DomainValidationError, error_responses
from api.pagination import Page, PageDep, paginate
from api.technicians import service
from api.technicians.models import ShiftStatus, SupportTier
from api.technicians.schemas import (
    ShiftCreate,
    ShiftRead,
    ShiftStatusChange,
    ShiftUpdate,
    SkillName,
    TechnicianCreate,
    TechnicianRead,
    TechnicianUpdate,
    Territory,
)
from api.validation import Instant, TimeZoneName

router = APIRouter(tags=["technicians and shifts"])

Admin = Annotated[Principal, Depends(require_roles())]
Reader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher))]
# Technicians pass this check; the service then shows them only their own rows.
SelfOrReader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher,
                                                          Role.technician))]
ShiftManager = Annotated[Principal, Depends(require_roles(Role.dispatcher))]
TechnicianId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ShiftId = Annotated[int, Path(ge=1, le=2**31 - 1)]

LIST = error_responses(401, 403, 422)
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 422)


# ----------------------------------------------------------------- technicians


@router.get("/technicians", response_model=Page[TechnicianRead], responses=LIST,
            summary="List technicians")
def list_technicians(
    db: SessionDep, _who: Reader, page: PageDep,
    active: bool | None = None,
    support_tier: SupportTier | None = None,
    territory: Annotated[Territory | None,
                         Query(description="Works in this territory (or anywhere)")] = None,
    skill: Annotated[SkillName | None, Query(description="Has this skill ...")] = None,
    min_level: Annotated[int, Query(ge=1, le=5, description="... at this level or higher")] = 1,
    q: Annotated[str | None, Query(max_length=200, description="Name contains")] = None,
) -> Page[Any]:
    statement = service.technicians_query(
        dialect=db.get_bind().dialect.name, active=active,
        support_tier=support_tier.value if support_tier else None, territory=territory,
        skill=skill, min_level=min_level, q=q)
    return paginate(db, statement, page, TechnicianRead)


@router.post("/technicians", response_model=TechnicianRead,
             status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 409, 422),
             summary="Create a technician (admin)")
def create_technician(db: SessionDep, admin: Admin, body: TechnicianCreate,
                      response: Response) -> Any:
    technician = service.create_technician(db=db, data=body, actor=admin.actor)
    set_etag(response, technician)
    return technician


@router.get("/technicians/{technician_id}", response_model=TechnicianRead, responses=READ,
            summary="Read a technician (technicians: only their own)")
def read_technician(db: SessionDep, who: SelfOrReader, technician_id: TechnicianId,
                    response: Response) -> Any:
    technician = service.visible_technician(db=db, technician_id=technician_id, principal=who)
    set_etag(response, technician)
    return technician


@router.patch("/technicians/{technician_id}", response_model=TechnicianRead, responses=WRITE,
              summary="Update a technician (admin); body carries the version you read")
def update_technician(db: SessionDep, admin: Admin, technician_id: TechnicianId,
                      body: TechnicianUpdate, response: Response) -> Any:
    technician = service.update_technician(db=db, technician_id=technician_id, data=body,
                                           actor=admin.actor)
    set_etag(response, technician)
    return technician


@router.delete("/technicians/{technician_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=WRITE,
               summary="Delete a technician nothing refers to (admin); else set active=false")
def delete_technician(db: SessionDep, admin: Admin, technician_id: TechnicianId) -> Response:
    service.delete_technician(db=db, technician_id=technician_id, actor=admin.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------- shifts


def _window(day: date | None, tz: str, start: Instant | None,
            end: Instant | None) -> tuple[Any, Any]:
    if day is not None:
        if start is not None or end is not None:
            raise DomainValidationError("query.date", "give either date or from/to, not both")
        return service.local_day_bounds(day, tz)
    if start is not None and end is not None and end <= start:
        raise DomainValidationError("query.to", "to must be after from")
    return start, end


ShiftFilters = dict[str, Any]


def shift_filters(
    status_: Annotated[ShiftStatus | None, Query(alias="status")] = None,
    day: Annotated[date | None, Query(alias="date",
                                      description="Shifts overlapping this local day")] = None,
    tz: Annotated[TimeZoneName, Query(description="Time zone of `date`")] = "UTC",
    start: Annotated[Instant | None, Query(alias="from",
                                                 description="Overlapping from (ISO 8601)")
                     ] = None,
    end: Annotated[Instant | None, Query(alias="to", description="... to (exclusive)")
                   ] = None,
) -> ShiftFilters:
    overlaps_from, overlaps_to = _window(day, tz, start, end)
    return {"status": status_.value if status_ else None, "overlaps_from": overlaps_from,
            "overlaps_to": overlaps_to}


Filters = Annotated[ShiftFilters, Depends(shift_filters)]


@router.get("/technicians/{technician_id}/shifts", response_model=Page[ShiftRead],
            responses=READ, summary="A technician's shifts (technicians: only their own)")
def list_technician_shifts(db: SessionDep, who: SelfOrReader, technician_id: TechnicianId,
                           page: PageDep, filters: Filters) -> Page[Any]:
    service.visible_technician(db=db, technician_id=technician_id, principal=who)
    statement = service.shifts_query(technician_id=technician_id, **filters)
    return paginate(db, statement, page, ShiftRead)


@router.post("/technicians/{technician_id}/shifts", response_model=ShiftRead,
             status_code=status.HTTP_201_CREATED, responses=WRITE,
             summary="Add a shift with its breaks (admin, dispatcher)")
def create_shift(db: SessionDep, who: ShiftManager, technician_id: TechnicianId,
                 body: ShiftCreate, response: Response) -> Any:
    shift = service.create_shift(db=db, technician_id=technician_id, data=body, actor=who.actor)
    set_etag(response, shift)
    return shift


@router.get("/shifts", response_model=Page[ShiftRead], responses=LIST,
            summary="Shifts of all technicians, by date or period")
def list_shifts(db: SessionDep, _who: Reader, page: PageDep, filters: Filters,
                technician_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
                ) -> Page[Any]:
    statement = service.shifts_query(technician_id=technician_id, **filters)
    return paginate(db, statement, page, ShiftRead)


@router.get("/shifts/{shift_id}", response_model=ShiftRead, responses=READ,
            summary="Read a shift (technicians: only their own)")
def read_shift(db: SessionDep, who: SelfOrReader, shift_id: ShiftId, response: Response) -> Any:
    shift = service.visible_shift(db=db, shift_id=shift_id, principal=who)
    set_etag(response, shift)
    return shift


@router.patch("/shifts/{shift_id}", response_model=ShiftRead, responses=WRITE,
              summary="Change a shift's times, breaks or note (admin, dispatcher)")
def update_shift(db: SessionDep, who: ShiftManager, shift_id: ShiftId, body: ShiftUpdate,
                 response: Response) -> Any:
    shift = service.update_shift(db=db, shift_id=shift_id, data=body, actor=who.actor)
    set_etag(response, shift)
    return shift


@router.post("/shifts/{shift_id}/status", response_model=ShiftRead, responses=WRITE,
             summary="Mark a shift off sick or cancelled, or planned again (admin, dispatcher)")
def change_shift_status(db: SessionDep, who: ShiftManager, shift_id: ShiftId,
                        body: ShiftStatusChange, response: Response) -> Any:
    shift = service.change_shift_status(db=db, shift_id=shift_id, data=body, actor=who.actor)
    set_etag(response, shift)
    return shift


@router.delete("/shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE,
               summary="Delete a shift (admin, dispatcher); prefer status cancelled")
def delete_shift(db: SessionDep, who: ShiftManager, shift_id: ShiftId) -> Response:
    service.delete_shift(db=db, shift_id=shift_id, actor=who.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
