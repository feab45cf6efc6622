"""Technicians and their shifts: CRUD, shift status, and the optimiser's view.

Keyword-only functions; none commits. A technician user sees only their own
technician and shifts; ``visible_technician`` turns anyone else's into 404 so
ids don't leak.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from api.auth.dependencies import Principal, Role
from api.concurrency import require_version
from api.errors import Conflict, DomainValidationError, InvalidTransition, NotFound
from api.events import record_event
from api.json_queries import json_array_contains, json_array_empty
from api.technicians.models import Shift, ShiftStatus, Technician
from api.technicians.schemas import (
    ShiftCreate,
    ShiftStatusChange,
    ShiftUpdate,
    TechnicianCreate,
    TechnicianUpdate,
    check_shift_times,
)
from optimiser import schema as exchange

# Which shift status may follow which (a sick technician may recover the same day).
SHIFT_TRANSITIONS: dict[str, frozenset[str]] = {
    ShiftStatus.planned: frozenset({ShiftStatus.off_sick, ShiftStatus.cancelled}),
    ShiftStatus.off_sick: frozenset({ShiftStatus.planned, ShiftStatus.cancelled}),
    ShiftStatus.cancelled: frozenset({ShiftStatus.planned}),
}


# ----------------------------------------------------------------- technicians


def get_technician(*, db: Session, technician_id: int) -> Technician:
    technician = db.get(Technician, technician_id)
    if technician is None:
        raise NotFound("technician", technician_id)
    return technician


def visible_technician(*, db: Session, technician_id: int, principal: Principal) -> Technician:
    """The technician, unless the caller is a different technician (then 404, not 403)."""
    if principal.role == Role.technician and principal.technician_id != technician_id:
        raise NotFound("technician", technician_id)
    return get_technician(db=db, technician_id=technician_id)


def _check_email_free(db: Session, email: str | None, own_id: int | None = None) -> None:
    if email is None:
        return
    other = db.scalar(select(Technician.id).where(Technician.email == email))
    if other is not None and other != own_id:
        raise Conflict(f"email {email!r} belongs to technician {other}",
                       details=[{"field": "body.email", "message": "already in use"}])


def create_technician(*, db: Session, data: TechnicianCreate, actor: str) -> Technician:
    _check_email_free(db, data.email)
    technician = Technician(**data.model_dump(mode="json"))
    db.add(technician)
    db.flush()
    record_event(db, entity_type="technician", entity_id=technician.id, action="created",
                 actor=actor, data=data.model_dump(mode="json"))
    return technician


def update_technician(*, db: Session, technician_id: int, data: TechnicianUpdate,
                      actor: str) -> Technician:
    technician = get_technician(db=db, technician_id=technician_id)
    require_version(technician, data.version, what=f"technician {technician_id}")
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    for required in ("name", "support_tier", "skills", "home_lat", "home_lon", "territories",
                     "max_overtime_min", "active"):
        if required in changes and changes[required] is None:
            raise DomainValidationError(f"body.{required}", "may not be null")
    if "email" in changes:
        _check_email_free(db, changes["email"], technician.id)
    changed = {k: v for k, v in changes.items() if getattr(technician, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(technician, name, value)
        db.flush()
        record_event(db, entity_type="technician", entity_id=technician.id, action="updated",
                     actor=actor, data={"changes": changed})
    return technician


def delete_technician(*, db: Session, technician_id: int, actor: str) -> None:
    technician = get_technician(db=db, technician_id=technician_id)
    db.delete(technician)
    db.flush()  # appointments that reference the technician fail here -> 409
    record_event(db, entity_type="technician", entity_id=technician_id, action="deleted",
                 actor=actor)


def technicians_query(
    *,
    dialect: str,
    active: bool | None = None,
    support_tier: str | None = None,
    territory: str | None = None,
    skill: str | None = None,
    min_level: int = 1,
    q: str | None = None,
) -> Select[Any]:
    """Technicians matching every given filter; ``territory`` includes the unrestricted
    (an empty territory list may work anywhere, as the optimiser reads it)."""
    statement = select(Technician)
    if active is not None:
        statement = statement.where(Technician.active == active)
    if support_tier is not None:
        statement = statement.where(Technician.support_tier == support_tier)
    if territory is not None:
        statement = statement.where(or_(
            json_array_contains(Technician.territories, territory, dialect),
            json_array_empty(Technician.territories, dialect)))
    if skill is not None:
        statement = statement.where(Technician.skills[skill].as_integer() >= min_level)
    if q:
        statement = statement.where(func.lower(Technician.name).contains(q.lower(),
                                                                           autoescape=True))
    return statement.order_by(Technician.name, Technician.id)


# ---------------------------------------------------------------------- shifts


def get_shift(*, db: Session, shift_id: int) -> Shift:
    shift = db.get(Shift, shift_id)
    if shift is None:
        raise NotFound("shift", shift_id)
    return shift


def visible_shift(*, db: Session, shift_id: int, principal: Principal) -> Shift:
    shift = get_shift(db=db, shift_id=shift_id)
    if principal.role == Role.technician and principal.technician_id != shift.technician_id:
        raise NotFound("shift", shift_id)
    return shift


def _stored_breaks(breaks: list[exchange.Break]) -> list[dict[str, Any]]:
    return [
        {"earliest_start": b.earliest_start.astimezone(UTC).isoformat(),
         "latest_end": b.latest_end.astimezone(UTC).isoformat(),
         "duration_min": b.duration_min}
        for b in sorted(breaks, key=lambda b: b.earliest_start)
    ]


def _loaded_breaks(shift: Shift) -> list[exchange.Break]:
    return [exchange.Break.model_validate(b) for b in shift.breaks or []]


def _check_no_overlap(db: Session, technician_id: int, start: datetime, end: datetime,
                      own_id: int | None = None) -> None:
    """Two planned shifts of one technician may not overlap (the planner would double-book)."""
    clash = db.scalar(select(Shift).where(
        Shift.technician_id == technician_id, Shift.status == ShiftStatus.planned.value,
        Shift.start < end, Shift.end > start, Shift.id != (own_id or 0)).limit(1))
    if clash is not None:
        raise Conflict(f"overlaps shift {clash.id} ({clash.start.isoformat()} to "
                       f"{clash.end.isoformat()})",
                       details=[{"field": "body.start", "message": f"overlaps shift {clash.id}"}],
                       meta={"shift_id": clash.id})


def create_shift(*, db: Session, technician_id: int, data: ShiftCreate, actor: str) -> Shift:
    get_technician(db=db, technician_id=technician_id)
    _check_no_overlap(db, technician_id, data.start, data.end)
    shift = Shift(technician_id=technician_id, start=data.start, end=data.end,
                  breaks=_stored_breaks(data.breaks), status=ShiftStatus.planned.value,
                  note=data.note)
    db.add(shift)
    db.flush()
    record_event(db, entity_type="shift", entity_id=shift.id, action="created", actor=actor,
                 data={"technician_id": technician_id, **data.model_dump(mode="json")})
    return shift


def update_shift(*, db: Session, shift_id: int, data: ShiftUpdate, actor: str) -> Shift:
    shift = get_shift(db=db, shift_id=shift_id)
    require_version(shift, data.version, what=f"shift {shift_id}")
    given = data.model_dump(exclude_unset=True, exclude={"version"})
    for required in ("start", "end", "breaks"):
        if required in given and given[required] is None:
            raise DomainValidationError(f"body.{required}", "may not be null")
    start = data.start if "start" in given else shift.start
    end = data.end if "end" in given else shift.end
    breaks = data.breaks if "breaks" in given and data.breaks is not None \
        else _loaded_breaks(shift)
    problem = check_shift_times(start, end, breaks)
    if problem is not None:
        raise DomainValidationError(f"body.{problem[0]}", problem[1])
    if shift.status == ShiftStatus.planned:
        _check_no_overlap(db, shift.technician_id, start, end, own_id=shift.id)
    new_values = {"start": start, "end": end, "breaks": _stored_breaks(breaks),
                  "note": data.note if "note" in given else shift.note}
    changed = {k: v for k, v in new_values.items() if getattr(shift, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(shift, name, value)
        db.flush()
        record_event(db, entity_type="shift", entity_id=shift.id, action="updated", actor=actor,
                     data={"changes": {k: (v.isoformat() if isinstance(v, datetime) else v)
                                       for k, v in changed.items()}})
    return shift


def change_shift_status(*, db: Session, shift_id: int, data: ShiftStatusChange,
                        actor: str) -> Shift:
    """Mark a shift off sick or cancelled (or back to planned); the optimiser only uses
    planned shifts, so this takes the technician out of (or back into) planning."""
    shift = get_shift(db=db, shift_id=shift_id)
    require_version(shift, data.version, what=f"shift {shift_id}")
    allowed = SHIFT_TRANSITIONS[shift.status]
    if data.status not in allowed:
        raise InvalidTransition(f"shift {shift_id}", current=shift.status,
                                requested=data.status, allowed=[str(s) for s in allowed])
    if data.status == ShiftStatus.planned:
        _check_no_overlap(db, shift.technician_id, shift.start, shift.end, own_id=shift.id)
    previous = shift.status
    shift.status = data.status
    if data.note is not None:
        shift.note = data.note
    db.flush()
    record_event(db, entity_type="shift", entity_id=shift.id, action=f"status_{data.status}",
                 actor=actor, data={"from": previous, "to": data.status, "note": data.note,
                                    "technician_id": shift.technician_id})
    return shift


def delete_shift(*, db: Session, shift_id: int, actor: str) -> None:
    shift = get_shift(db=db, shift_id=shift_id)
    technician_id = shift.technician_id
    db.delete(shift)
    db.flush()
    record_event(db, entity_type="shift", entity_id=shift_id, action="deleted", actor=actor,
                 data={"technician_id": technician_id})


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on ``day`` and on the next day (DST-safe)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
    return start, end


def shifts_query(
    *,
    technician_id: int | None = None,
    status: str | None = None,
    overlaps_from: datetime | None = None,
    overlaps_to: datetime | None = None,
) -> Select[Any]:
    """Shifts, optionally of one technician/status and overlapping ``[from, to)``."""
    statement = select(Shift)
    if technician_id is not None:
        statement = statement.where(Shift.technician_id == technician_id)
    if status is not None:
        statement = statement.where(Shift.status == status)
    if overlaps_from is not None:
        statement = statement.where(Shift.end > overlaps_from)
    if overlaps_to is not None:
        statement = statement.where(Shift.start < overlaps_to)
    return statement.order_by(Shift.start, Shift.id)


# ------------------------------------------------------------ optimiser view


def to_exchange(technician: Technician, shifts: list[Shift]) -> exchange.Technician:
    """The optimiser's technician (id ``str(technician.id)``) with its PLANNED shifts.

    Raises ``ValueError`` when none of ``shifts`` is planned (the exchange format
    needs at least one); callers pick technicians with shifts in the horizon.
    """
    planned = sorted((s for s in shifts if s.status == ShiftStatus.planned),
                     key=lambda s: s.start)
    home = exchange.Location(lat=technician.home_lat, lon=technician.home_lon)
    return exchange.Technician(
        id=str(technician.id), name=technician.name, skills=dict(technician.skills or {}),
        start_location=home,
        shifts=[exchange.Shift(start=s.start, end=s.end, breaks=_loaded_breaks(s))
                for s in planned],
        territories=list(technician.territories or []),
        max_overtime_min=technician.max_overtime_min, capacity=technician.capacity)
