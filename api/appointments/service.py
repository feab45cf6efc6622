"""Appointments: create (from a ticket or standalone), read, update, status changes, import.

Keyword-only functions on a ``Session``; they flush but never commit (the
request's ``get_db`` does). Every change is written to the event log in the
same transaction. Rules that need the database live here: references exist,
the address geocodes, the SLA comes from the ticket's contract (computed by
the tickets domain, never here), the lifecycle follows ``lifecycle.TRANSITIONS``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.appointments import csv_import
from api.appointments.geocoding import GeocodeFn, GeocodingFailed, GeoPoint, cache_key, geocode
from api.appointments.lifecycle import (
    ASSIGNED_STATUSES,
    COMMITTED_STATUSES,
    FINAL_STATUSES,
    AppointmentStatus,
    allowed_targets,
    is_allowed,
)
from api.appointments.models import Appointment, GeocodeCache
from api.appointments.schemas import (
    AppointmentCreate,
    AppointmentFields,
    AppointmentUpdate,
    RowError,
    Window,
    check_technician_lists,
)
from api.auth.dependencies import Principal
from api.concurrency import require_version
from api.database import utcnow
from api.entitlements import service as entitlements_service
from api.entitlements.models import Customer, Entitlement
from api.errors import Conflict, DomainValidationError, InvalidTransition, NotFound
from api.events import Event, record_event
from api.technicians.models import Technician
from api.tickets.lifecycle import OPEN
from api.tickets.models import Ticket
from api.tickets.sla import due_at, mark_onsite_met, onsite_due
from optimiser import schema as exchange

ENTITY = "appointment"
DEFAULT_PRIORITY = 3
S = AppointmentStatus


@dataclass(frozen=True)
class Geocoding:
    """The configured provider: its name (the cache key) and its geocode callable.

    ``memo`` remembers this request's answers, failures included, so a file
    naming one address a thousand times asks the cache (or a rate-limited
    provider) once. Build one ``Geocoding`` per request.
    """

    provider: str
    geocode: GeocodeFn
    memo: dict[str, GeoPoint | str] = dataclasses.field(default_factory=dict)


# ------------------------------------------------------------------------ reads


def get(*, db: Session, appointment_id: int, principal: Principal | None = None
        ) -> Appointment:
    """The appointment, or 404; a technician sees only its own (others are 404 too)."""
    appointment = db.get(Appointment, appointment_id)
    if appointment is None or not _visible_to(appointment, principal):
        raise NotFound("appointment", appointment_id)
    return appointment


def _visible_to(appointment: Appointment, principal: Principal | None) -> bool:
    if principal is None or principal.role.value != "technician":
        return True
    return principal.technician_id is not None and \
        appointment.technician_id == principal.technician_id


def _day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def list_statement(
    *,
    principal: Principal | None = None,
    status: Iterable[str] = (),
    technician_id: int | None = None,
    territory: str | None = None,
    priority: Iterable[int] = (),
    ticket_id: int | None = None,
    external_ref: str | None = None,
    day: date | None = None,
    timezone: str = "UTC",
) -> Select[Any]:
    """Appointments matching every given filter (lists mean "any of"), oldest first.

    ``day`` (a local date in ``timezone``) matches a visit scheduled to start that
    day, or an unscheduled one whose windows overlap it (by the overall span of
    its windows). A technician caller only ever sees its own appointments.
    """
    statement = select(Appointment)
    if principal is not None and principal.role.value == "technician":
        # A technician login not linked to a technician row sees nothing (not the
        # unassigned visits, which ``technician_id == None`` would match).
        statement = statement.where(false()) if principal.technician_id is None else \
            statement.where(Appointment.technician_id == principal.technician_id)
    if statuses := [str(s) for s in status]:
        statement = statement.where(Appointment.status.in_(statuses))
    if priorities := list(priority):
        statement = statement.where(Appointment.priority.in_(priorities))
    if technician_id is not None:
        statement = statement.where(Appointment.technician_id == technician_id)
    if territory is not None:
        statement = statement.where(Appointment.territory == territory)
    if ticket_id is not None:
        statement = statement.where(Appointment.ticket_id == ticket_id)
    if external_ref is not None:
        statement = statement.where(Appointment.external_ref == external_ref)
    if day is not None:
        start, end = _day_bounds(day, timezone)
        scheduled = and_(Appointment.scheduled_start >= start, Appointment.scheduled_start < end)
        waiting = and_(Appointment.scheduled_start.is_(None),
                       Appointment.window_start < end, Appointment.window_end > start)
        statement = statement.where(or_(scheduled, waiting))
    return statement.order_by(Appointment.id)


# ------------------------------------------------------------------- geocoding


def _cache_insert(db: Session) -> Any:
    return postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


def locate(*, db: Session, geocoding: Geocoding, address: str, field: str) -> GeoPoint:
    """Coordinates of ``address`` through the cache, else the provider; 422 on ``field``."""
    key = cache_key(address)
    if not key:
        raise DomainValidationError(field, "address is empty")
    known = geocoding.memo.get(key)
    if isinstance(known, GeoPoint):
        return known
    if isinstance(known, str):
        raise DomainValidationError(field, known)
    point = _locate_once(db, geocoding, address, key, field)
    geocoding.memo[key] = point
    return point


def _locate_once(db: Session, geocoding: Geocoding, address: str, key: str, field: str
                 ) -> GeoPoint:
    cached = db.scalar(select(GeocodeCache).where(GeocodeCache.provider == geocoding.provider,
                                                  GeocodeCache.query == key))
    if cached is not None:
        return GeoPoint(lat=cached.lat, lon=cached.lon, display=cached.display)
    try:
        point = geocode(geocoding.geocode, address)
    except GeocodingFailed as exc:
        geocoding.memo[key] = str(exc)
        raise DomainValidationError(field, str(exc)) from exc
    # Two requests may geocode the same new address at once: the second insert is a no-op.
    insert = _cache_insert(db)(GeocodeCache).values(
        provider=geocoding.provider, query=key, lat=point.lat, lon=point.lon,
        display=(point.display or "")[:500] or None, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["provider", "query"])
    db.execute(insert)
    return point


# --------------------------------------------------------------------- create


def _field(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def _require_technicians(db: Session, ids: dict[str, list[int]], prefix: str) -> None:
    wanted = {i for group in ids.values() for i in group}
    if not wanted:
        return
    found = set(db.scalars(select(Technician.id).where(Technician.id.in_(wanted))))
    for name, group in ids.items():
        missing = sorted(set(group) - found)
        if missing:
            raise DomainValidationError(_field(prefix, name),
                                        f"no technician with id {', '.join(map(str, missing))}")


def _open_ticket(db: Session, ticket_id: int, field: str) -> Ticket:
    ticket = db.get(Ticket, ticket_id)
    if ticket is None:
        raise DomainValidationError(field, f"no ticket with id {ticket_id}")
    if ticket.status not in OPEN:
        raise DomainValidationError(field, f"ticket {ticket_id} is {ticket.status}; "
                                           f"appointments are made for open tickets only")
    if not ticket.needs_onsite:
        raise DomainValidationError(field, f"ticket {ticket_id} does not need on-site work "
                                           f"(set needs_onsite on the ticket first)")
    return ticket


def refresh_sla_due(*, db: Session, appointment: Appointment) -> datetime | None:
    """Re-read ``sla_due`` from the ticket's on-site clock (it moves when the ticket
    was on hold or its priority changed); call before planning. Standalone
    appointments keep the value they were given."""
    if appointment.ticket_id is not None:
        due = onsite_due(db=db, ticket=appointment.ticket_id)
        if due != appointment.sla_due:
            appointment.sla_due = due
    return appointment.sla_due


def contract_onsite_due(entitlement: Entitlement, priority: int, start: datetime
                        ) -> datetime | None:
    """On-site due time of a standalone appointment under ``entitlement`` from ``start``.

    The contract's on-site target for the priority, in business minutes on the
    contract's calendar, through the tickets domain's one ``due_at``. None when
    the contract sets no on-site target or does not cover on-site work.
    """
    targets = entitlements_service.targets_for(entitlement, priority)
    minutes = targets.onsite_min if targets is not None else None
    if not entitlement.onsite or minutes is None:
        return None
    return due_at(calendar=entitlements_service.calendar_for(entitlement), start=start,
                  minutes=minutes)


def _windows_json(windows: list[Window]) -> list[dict[str, str]]:
    ordered = sorted(windows, key=lambda w: (w.start, w.end))
    return [{"start": w.start.astimezone(UTC).isoformat(),
             "end": w.end.astimezone(UTC).isoformat()} for w in ordered]


def _set_windows(appointment: Appointment, windows: list[Window]) -> None:
    appointment.windows = _windows_json(windows)
    appointment.window_start = min((w.start for w in windows), default=None)
    appointment.window_end = max((w.end for w in windows), default=None)


def _site_of(customer: Customer | None) -> tuple[GeoPoint | None, str | None]:
    if customer is None:
        return None, None
    if customer.lat is not None and customer.lon is not None:
        return GeoPoint(lat=customer.lat, lon=customer.lon), customer.address
    return None, customer.address


def prepare(
    *,
    db: Session,
    data: AppointmentFields,
    ticket_id: int | None,
    actor: str,
    geocoding: Geocoding,
    prefix: str = "body.",
    ticket_field: str | None = None,
) -> Appointment:
    """A new, validated, not yet added appointment (shared by create and import).

    ``prefix`` is prepended to field names in errors (``body.`` for the API,
    empty for CSV rows, whose fields are columns).
    """
    now = utcnow()
    customer: Customer | None = None
    entitlement: Entitlement | None = None
    sla_due: datetime | None = None
    priority = data.priority
    if ticket_id is not None:
        ticket = _open_ticket(db, ticket_id, ticket_field or _field(prefix, "ticket_id"))
        customer = db.get(Customer, ticket.customer_id)
        entitlement = db.get(Entitlement, ticket.entitlement_id) \
            if ticket.entitlement_id is not None else None
        sla_due = onsite_due(db=db, ticket=ticket)
        priority = priority or ticket.priority
    elif isinstance(data, AppointmentCreate):
        customer, entitlement = _standalone_contract(db, data, prefix)
        sla_due = data.sla_due
        if sla_due is None and entitlement is not None:
            sla_due = contract_onsite_due(entitlement, priority or DEFAULT_PRIORITY, now)
    _require_technicians(db, {
        "pinned_technician_id": [data.pinned_technician_id] if data.pinned_technician_id else [],
        "preferred_technician_ids": data.preferred_technician_ids,
        "excluded_technician_ids": data.excluded_technician_ids,
    }, prefix)
    address = data.address
    geocoded: str | None = None
    if data.location is not None:
        point = GeoPoint(lat=data.location.lat, lon=data.location.lon)
    elif address is not None:
        point = locate(db=db, geocoding=geocoding, address=address,
                       field=_field(prefix, "address"))
        geocoded = point.display
    else:
        site, address = _site_of(customer)
        if site is None and address is not None:
            site = locate(db=db, geocoding=geocoding, address=address,
                          field=_field(prefix, "address"))
            geocoded = site.display
        if site is None:
            raise DomainValidationError(
                _field(prefix, "address"),
                "give a location (lat/lon) or an address to geocode"
                + ("" if customer is None else "; the customer has no site address"))
        point = site
    appointment = Appointment(
        ticket_id=ticket_id,
        customer_id=customer.id if customer is not None else None,
        entitlement_id=entitlement.id if entitlement is not None else None,
        lat=point.lat, lon=point.lon, address=address,
        geocoded_address=(geocoded or "")[:500] or None,
        duration_min=data.duration_min,
        required_skills=dict(data.required_skills),
        sla_due=sla_due,
        priority=priority or DEFAULT_PRIORITY,
        territory=data.territory,
        demand=data.demand,
        pinned_technician_id=data.pinned_technician_id,
        preferred_technician_ids=list(data.preferred_technician_ids),
        excluded_technician_ids=list(data.excluded_technician_ids),
        external_ref=data.external_ref,
        notes=data.notes,
        status=S.unscheduled.value,
        status_changed_at=now,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _set_windows(appointment, data.windows)
    return appointment


def _standalone_contract(db: Session, data: AppointmentCreate, prefix: str
                         ) -> tuple[Customer | None, Entitlement | None]:
    entitlement = None
    if data.entitlement_id is not None:
        entitlement = db.get(Entitlement, data.entitlement_id)
        if entitlement is None:
            raise DomainValidationError(_field(prefix, "entitlement_id"),
                                        f"no entitlement with id {data.entitlement_id}")
    customer_id = data.customer_id or (entitlement.customer_id if entitlement else None)
    customer = None
    if customer_id is not None:
        customer = db.get(Customer, customer_id)
        if customer is None:
            raise DomainValidationError(_field(prefix, "customer_id"),
                                        f"no customer with id {customer_id}")
    if entitlement is not None and customer is not None and \
            entitlement.customer_id != customer.id:
        raise DomainValidationError(_field(prefix, "entitlement_id"),
                                    f"entitlement {entitlement.id} belongs to customer "
                                    f"{entitlement.customer_id}, not {customer.id}")
    return customer, entitlement


def _creation_data(appointment: Appointment, how: str) -> dict[str, Any]:
    return {"via": how, "ticket_id": appointment.ticket_id, "priority": appointment.priority,
            "sla_due": _iso(appointment.sla_due)}


def _created(db: Session, appointment: Appointment, actor: str, how: str) -> Appointment:
    db.add(appointment)
    db.flush()
    record_event(db, entity_type=ENTITY, entity_id=appointment.id, action="created",
                 actor=actor, data=_creation_data(appointment, how))
    _planning_hook(db, [appointment])
    return appointment


def _created_many(db: Session, appointments: list[Appointment], actor: str, how: str
                  ) -> list[Appointment]:
    """``_created`` for a batch: one INSERT round for the rows, one for their events.

    Builds the same ``created`` events ``record_event`` would, added together
    instead of flushed one by one (a 5,000-row file was 10,000 round trips).
    """
    db.add_all(appointments)
    db.flush()
    at = utcnow()
    db.add_all([Event(at=at, entity_type=ENTITY, entity_id=str(a.id), action="created",
                      actor=actor, data=_creation_data(a, how)) for a in appointments])
    db.flush()
    _planning_hook(db, appointments)
    return appointments


def _planning_hook(db: Session, appointments: list[Appointment]) -> None:
    """PLANNING HOOK (api/plans, planning helper): an emergency may queue a re-plan of today.

    Does nothing unless ``settings.auto_replan_on_emergency`` is on; see
    ``api.plans.hooks``. Imported here, not at the top: plans imports this module.
    """
    from api.plans.hooks import on_appointments_created

    on_appointments_created(db=db, appointments=appointments)


def create(*, db: Session, data: AppointmentFields, actor: Principal, geocoding: Geocoding,
           ticket_id: int | None = None) -> Appointment:
    """One appointment, for the path's ``ticket_id`` or the body's (``AppointmentCreate``)."""
    ticket_field = "path.ticket_id" if ticket_id is not None else None
    if ticket_id is None and isinstance(data, AppointmentCreate):
        ticket_id = data.ticket_id
    appointment = prepare(db=db, data=data, ticket_id=ticket_id, actor=actor.actor,
                          geocoding=geocoding, ticket_field=ticket_field)
    return _created(db, appointment, actor.actor, "api")


def import_csv(*, db: Session, data: bytes, actor: Principal, geocoding: Geocoding
               ) -> list[Appointment]:
    """All rows of the file, or none: ``csv_import.CsvImportError`` lists every bad row."""
    rows = csv_import.parse_appointments_csv(data)
    prepared: list[Appointment] = []
    errors: list[RowError] = []
    for row in rows:
        try:
            prepared.append(prepare(db=db, data=row.data, ticket_id=row.data.ticket_id,
                                    actor=actor.actor, geocoding=geocoding, prefix=""))
        except DomainValidationError as exc:
            errors.append(RowError(row=row.row, field=exc.field, message=exc.why))
            if len(errors) >= csv_import.MAX_ERRORS:
                break
    if errors:
        raise csv_import.CsvImportError(errors)
    return _created_many(db, prepared, actor.actor, "import")


# ---------------------------------------------------------------------- updates


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _refuse_edge(appointment: Appointment, target: S, role: str) -> None:
    current = S(appointment.status)
    if not is_allowed(current, target, role):
        raise InvalidTransition(ENTITY, current=current.value, requested=target.value,
                                allowed=allowed_targets(current, role))


def _check_assignment(appointment: Appointment, prefix: str = "body.") -> None:
    """The invariants of the status the appointment is in (after a change)."""
    status = S(appointment.status)
    if status in ASSIGNED_STATUSES:
        for name in ("technician_id", "scheduled_start", "scheduled_end"):
            if getattr(appointment, name) is None:
                raise DomainValidationError(_field(prefix, name),
                                            f"required when the status is {status.value}")
        if appointment.scheduled_end <= appointment.scheduled_start:
            raise DomainValidationError(_field(prefix, "scheduled_end"),
                                        "must be after scheduled_start")
    elif status == S.unscheduled and (appointment.technician_id is not None or
                                      appointment.scheduled_start is not None):
        raise DomainValidationError(
            _field(prefix, "technician_id"),
            "an unscheduled appointment has no technician or time; send status "
            "'scheduled' to assign one")
    if appointment.technician_id is not None:
        pinned = appointment.pinned_technician_id
        if pinned is not None and appointment.technician_id != pinned:
            raise DomainValidationError(_field(prefix, "technician_id"),
                                        f"the appointment is pinned to technician {pinned}")
        if appointment.technician_id in (appointment.excluded_technician_ids or []):
            raise DomainValidationError(_field(prefix, "technician_id"),
                                        f"technician {appointment.technician_id} is excluded")
    if status == S.cannot_complete and not appointment.cannot_complete_reason:
        raise DomainValidationError(_field(prefix, "cannot_complete_reason"),
                                    "say why the work could not be completed")


def _after_move(db: Session, appointment: Appointment, target: S, actor: Principal,
                now: datetime) -> None:
    """Side effects of entering ``target`` on other domains (after the row is flushed)."""
    if target == S.on_site and appointment.ticket_id is not None:
        # Arrival is what the ticket's on-site SLA measures.
        mark_onsite_met(db=db, ticket_id=appointment.ticket_id, at=now, actor=actor.actor)


def _enter_status(appointment: Appointment, target: S, now: datetime) -> None:
    appointment.status = target.value
    appointment.status_changed_at = now
    if target == S.unscheduled:  # unassign: the planner may place it anywhere again
        appointment.technician_id = None
        appointment.scheduled_start = None
        appointment.scheduled_end = None
        appointment.plan_id = None


def change_status(
    *,
    db: Session,
    appointment: Appointment,
    target: AppointmentStatus,
    actor: Principal,
    version: int | None,
    reason: str | None = None,
    notes: str | None = None,
) -> Appointment:
    """One lifecycle move, checked against the transition table for the caller's role.

    For the field app's status updates (planning helper) and cancellations:
    ``reason`` is the cannot-complete or cancel reason, ``notes`` the
    completion notes. A technician may only move its own appointment
    (others are 404, as on reads).
    """
    if not _visible_to(appointment, actor):
        raise NotFound("appointment", appointment.id)
    require_version(appointment, version, what=ENTITY)
    target = S(target)
    before = appointment.status
    now = utcnow()
    _refuse_edge(appointment, target, actor.role.value)
    with db.no_autoflush:  # one UPDATE (one version step) once everything is set
        _enter_status(appointment, target, now)
        if target == S.cannot_complete:
            appointment.cannot_complete_reason = reason or appointment.cannot_complete_reason
        elif target == S.cancelled:
            appointment.cancel_reason = reason
        elif target == S.completed and notes is not None:
            appointment.completion_notes = notes
        _check_assignment(appointment)
        appointment.updated_at = now
    db.flush()
    _after_move(db, appointment, target, actor, now)
    record_event(db, entity_type=ENTITY, entity_id=appointment.id, action="status_changed",
                 actor=actor.actor, data={"from": before, "to": target.value,
                                          "reason": reason, "notes": notes})
    return appointment


def cancel(*, db: Session, appointment: Appointment, actor: Principal, version: int,
           reason: str | None) -> Appointment:
    return change_status(db=db, appointment=appointment, target=S.cancelled, actor=actor,
                         version=version, reason=reason)


_PLAIN_FIELDS = ("duration_min", "required_skills", "sla_due", "priority", "territory",
                 "demand", "pinned_technician_id", "preferred_technician_ids",
                 "excluded_technician_ids", "external_ref", "notes", "technician_id",
                 "scheduled_start", "scheduled_end", "plan_id", "completion_notes",
                 "cannot_complete_reason")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def update(*, db: Session, appointment: Appointment, data: AppointmentUpdate,
           actor: Principal, geocoding: Geocoding) -> Appointment:
    """Apply the fields sent (PATCH); a ``status`` goes through the transition table.

    References are checked and the address geocoded before the row is touched,
    and the row is flushed once, so the version moves by exactly one.
    """
    require_version(appointment, data.version, what=ENTITY)
    sent = data.model_fields_set - {"version"}
    current = S(appointment.status)
    if current in FINAL_STATUSES and sent - {"notes"}:
        raise Conflict(f"appointment {appointment.id} is {current.value}; only notes may "
                       f"change", meta={"status": current.value})
    if "sla_due" in sent and appointment.ticket_id is not None:
        raise DomainValidationError("body.sla_due", "comes from the ticket's contract; change "
                                                    "the ticket's priority instead")
    target = data.status if "status" in sent and data.status != current else None
    if target is not None:
        _refuse_edge(appointment, target, actor.role.value)
    _require_technicians(db, _technician_refs(data, sent), "body.")
    point = None
    if "address" in sent and data.address is not None and "location" not in sent:
        point = locate(db=db, geocoding=geocoding, address=data.address, field="body.address")
    now = utcnow()
    changes: dict[str, Any] = {}
    with db.no_autoflush:
        if target is not None:
            _enter_status(appointment, target, now)
            changes["status"] = {"from": current.value, "to": target.value}
        for name in _PLAIN_FIELDS:
            if name in sent:
                value = getattr(data, name)
                setattr(appointment, name, list(value) if isinstance(value, list) else
                        dict(value) if isinstance(value, dict) else value)
                changes[name] = _json_value(value)
        if "windows" in sent and data.windows is not None:
            _set_windows(appointment, data.windows)
            changes["windows"] = appointment.windows
        _apply_location(appointment, data, sent, point, changes)
        try:
            check_technician_lists(appointment.pinned_technician_id,
                                   appointment.preferred_technician_ids,
                                   appointment.excluded_technician_ids)
        except ValueError as exc:
            raise DomainValidationError("body.excluded_technician_ids", str(exc)) from exc
        _check_assignment(appointment)
        if not changes:
            return appointment
        appointment.updated_at = now
    db.flush()
    if target is not None:
        _after_move(db, appointment, target, actor, now)
    record_event(db, entity_type=ENTITY, entity_id=appointment.id, action="updated",
                 actor=actor.actor, data={"changes": changes})
    return appointment


def _technician_refs(data: AppointmentUpdate, sent: set[str]) -> dict[str, list[int]]:
    """The technician ids among the fields sent, by field name (for existence checks)."""
    refs: dict[str, list[int]] = {}
    for name in ("technician_id", "pinned_technician_id"):
        if name in sent and getattr(data, name) is not None:
            refs[name] = [getattr(data, name)]
    for name in ("preferred_technician_ids", "excluded_technician_ids"):
        if name in sent and getattr(data, name) is not None:
            refs[name] = list(getattr(data, name))
    return refs


def _apply_location(appointment: Appointment, data: AppointmentUpdate, sent: set[str],
                    point: GeoPoint | None, changes: dict[str, Any]) -> None:
    """Coordinates sent win; a new address alone moves the visit to where it geocoded."""
    if "address" in sent:
        appointment.address = data.address
        changes["address"] = data.address
    if "location" in sent and data.location is not None:
        appointment.lat, appointment.lon = data.location.lat, data.location.lon
        appointment.geocoded_address = None
        changes["location"] = data.location.model_dump()
    elif point is not None:
        appointment.lat, appointment.lon = point.lat, point.lon
        appointment.geocoded_address = (point.display or "")[:500] or None
        changes["location"] = {"lat": point.lat, "lon": point.lon}


# --------------------------------------------------------------------- exchange


def to_exchange(appointment: Appointment, *, pin_committed: bool = True
                ) -> exchange.Appointment:
    """The appointment in the optimiser's exchange format (ids as strings).

    - ``pinned_technician``: the pinned technician; with ``pin_committed`` an
      appointment already dispatched / en route / on site is pinned to its
      technician (the spec's "already dispatched: must go to this technician").
    - ``planned_technician`` / ``planned_start``: the current assignment, for
      plan-stability costs when re-planning.
    - The entitlement id is ``str(entitlement_id)``, as the entitlements domain
      names it in the request's ``entitlements`` list.
    """
    pinned = appointment.pinned_technician_id
    if pin_committed and appointment.status in COMMITTED_STATUSES and \
            appointment.technician_id is not None:
        pinned = appointment.technician_id
    return exchange.Appointment(
        id=str(appointment.id),
        ticket_id=_str_or_none(appointment.ticket_id),
        entitlement_id=_str_or_none(appointment.entitlement_id),
        location=exchange.Location(lat=appointment.lat, lon=appointment.lon),
        duration_min=appointment.duration_min,
        required_skills=dict(appointment.required_skills or {}),
        windows=[exchange.TimeWindow(start=w["start"], end=w["end"])
                 for w in appointment.windows or []],
        sla_due=appointment.sla_due,
        priority=appointment.priority,
        territory=appointment.territory,
        demand=appointment.demand,
        pinned_technician=_str_or_none(pinned),
        preferred_technicians=[str(t) for t in appointment.preferred_technician_ids or []],
        excluded_technicians=[str(t) for t in appointment.excluded_technician_ids or []],
        planned_technician=_str_or_none(appointment.technician_id),
        planned_start=appointment.scheduled_start,
    )


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)
