"""Dispatch services: slot offering and booking, a technician's day route, field status.

Keyword-only functions on a ``Session``; none commits (the request's ``get_db``
does). Rows are mapped to the exchange format by each domain's
``to_exchange``; the slot arithmetic is ``optimiser.slots`` and travel is
``optimiser.travel`` (through ``eta``), so the office, the field app and the
planner agree.

Committed work (what slots are fitted around): visits of status scheduled,
dispatched, en route or on site with a technician and a planned start in the
horizon, on technicians' PLANNED shifts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.lifecycle import AppointmentStatus, is_allowed
from api.appointments.models import Appointment
from api.appointments.schemas import Window
from api.auth.dependencies import Principal
from api.database import utcnow
from api.dispatch import eta as eta_module
from api.dispatch.schemas import (
    Blocked,
    DayRoute,
    EtaRead,
    EtaWindow,
    RouteBreak,
    RouteCustomer,
    RouteShift,
    RouteStop,
    RouteTicket,
    RouteTotals,
    SlotBooking,
    SlotOfferRead,
    SlotQuery,
    SlotRead,
    StatusUpdate,
)
from api.entitlements import service as entitlements_service
from api.entitlements.models import Customer, Entitlement
from api.errors import Conflict, DomainValidationError
from api.events import record_event
from api.technicians import service as technicians_service
from api.technicians.models import Shift, ShiftStatus, Technician
from api.tickets.models import Ticket
from api.tickets.sla import due_at, mark_onsite_met
from optimiser import schema as exchange
from optimiser.slots import Slot, SlotIndex, SlotOptions

S = AppointmentStatus
DRAFT_ID = "draft"
COMMITTED = (S.scheduled, S.dispatched, S.en_route, S.on_site, S.completed, S.cannot_complete)
"""Visits a slot is fitted around (done ones anchor where the technician is)."""
ON_ROUTE = (S.scheduled, S.dispatched, S.en_route, S.on_site, S.completed)
RETIMED = (S.scheduled, S.dispatched)
"""Later stops whose ETA a status update re-computes (not yet under way)."""
MAX_HORIZON_DAYS = 62
BOOKING_LOCK = 734_201
"""PostgreSQL advisory lock key: bookings re-check and write one at a time."""


class SlotUnavailable(Conflict):
    code = "slot_unavailable"


# ------------------------------------------------------------- committed work


def _zone_for(entitlement: Entitlement | None, planning_timezone: str) -> str:
    return entitlement.timezone if entitlement is not None else planning_timezone


def _horizon(not_before: datetime, days: int, zone_name: str) -> tuple[datetime, datetime]:
    """[not_before, local midnight ``days`` days after its local day) in UTC."""
    zone = ZoneInfo(zone_name)
    first = not_before.astimezone(zone).date()
    until = datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone)
    return not_before.astimezone(UTC), until.astimezone(UTC)


def _crew(db: Session, start: datetime, end: datetime
          ) -> list[tuple[Technician, list[Shift]]]:
    """Active technicians with their planned shifts overlapping [start, end)."""
    query = (select(Shift, Technician).join(Technician, Shift.technician_id == Technician.id)
             .where(Technician.active.is_(True), Shift.status == ShiftStatus.planned,
                    Shift.start < end, Shift.end > start)
             .order_by(Shift.technician_id, Shift.start))
    by_tech: dict[int, tuple[Technician, list[Shift]]] = {}
    for shift, technician in db.execute(query):  # one query: no lazy load per technician
        by_tech.setdefault(technician.id, (technician, []))[1].append(shift)
    return list(by_tech.values())


def _committed(db: Session, start: datetime, end: datetime, technician_ids: Iterable[int]
               ) -> list[Appointment]:
    ids = list(technician_ids)
    if not ids:
        return []
    query = (select(Appointment)
             .where(Appointment.status.in_([str(s) for s in COMMITTED]),
                    Appointment.technician_id.in_(ids),
                    Appointment.scheduled_start < end,
                    Appointment.scheduled_end > start - timedelta(days=1))
             .order_by(Appointment.scheduled_start, Appointment.id))
    return list(db.scalars(query))


def committed_request(db: Session, *, start: datetime, end: datetime,
                      extra_entitlements: Iterable[Entitlement] = ()) -> exchange.PlanRequest:
    """The technicians on shift in [start, end) and their committed visits, as a request."""
    crew = _crew(db, start, end)
    visits = _committed(db, start, end, [tech.id for tech, _ in crew])
    entitlement_ids = {a.entitlement_id for a in visits if a.entitlement_id is not None}
    entitlements = {e.id: e for e in extra_entitlements}
    if entitlement_ids - set(entitlements):
        entitlements.update({e.id: e for e in db.scalars(select(Entitlement).where(
            Entitlement.id.in_(sorted(entitlement_ids - set(entitlements)))))})
    appointments = [
        # Committed visits are fitted around as they are: where and when they are
        # planned (planned_technician/start); their own pins do not matter here.
        appointments_service.to_exchange(a).model_copy(update={"pinned_technician": None})
        for a in visits]
    return exchange.PlanRequest(
        technicians=[technicians_service.to_exchange(tech, shifts) for tech, shifts in crew],
        entitlements=[entitlements_service.to_exchange(e) for e in entitlements.values()],
        appointments=appointments)


# ------------------------------------------------------------------- drafting


@dataclass
class Draft:
    row: Appointment
    """The validated appointment, not added to the session."""
    entitlement: Entitlement | None
    exchange: exchange.Appointment


def _draft(db: Session, data: SlotQuery, actor: Principal,
           geocoding: appointments_service.Geocoding, now: datetime) -> Draft:
    """The visit asked about, validated exactly as ``POST /appointments`` would."""
    row = appointments_service.prepare(db=db, data=data, ticket_id=data.ticket_id,
                                       actor=actor.actor, geocoding=geocoding)
    entitlement = db.get(Entitlement, row.entitlement_id) \
        if row.entitlement_id is not None else None
    if row.sla_due is None and row.ticket_id is None and entitlement is not None:
        # A standalone visit under a contract: its on-site target sets the SLA.
        targets = entitlements_service.targets_for(entitlement, row.priority)
        if targets is not None and targets.onsite_min is not None:
            row.sla_due = due_at(calendar=entitlements_service.calendar_for(entitlement),
                                 start=now, minutes=targets.onsite_min)
    item = appointments_service.to_exchange(row).model_copy(update={"id": DRAFT_ID})
    return Draft(row, entitlement, item)


def _slot_read(slot: Slot, names: dict[str, str]) -> SlotRead:
    return SlotRead(
        start=slot.start, end=slot.end, technician_id=int(slot.technician_id),
        technician_name=names.get(slot.technician_id, slot.technician_id),
        planned_start=slot.planned_start,
        insert_after=int(slot.insert_after) if slot.insert_after else None,
        insert_before=int(slot.insert_before) if slot.insert_before else None,
        travel_added_min=slot.travel_added_min, distance_added_km=slot.distance_added_km,
        sla=slot.sla, lateness_min=slot.lateness_min, preferred=slot.preferred,
        load=slot.load, cost=slot.cost, grade=slot.grade)


@dataclass
class _Offer:
    draft: Draft
    read: SlotOfferRead
    slots: list[Slot]
    options: SlotOptions | None = None


def _offer(db: Session, data: SlotQuery, actor: Principal,
           geocoding: appointments_service.Geocoding, planning_timezone: str,
           windows: list[tuple[datetime, datetime]] | None = None,
           per_window: int | None = None) -> _Offer:
    now = utcnow()
    draft = _draft(db, data, actor, geocoding, now)
    not_before = data.not_before or now
    zone = _zone_for(draft.entitlement, planning_timezone)
    days = data.days
    if windows:  # the horizon must reach the windows re-checked
        last = max(end for _, end in windows).astimezone(ZoneInfo(zone)).date()
        days = max(days, (last - not_before.astimezone(ZoneInfo(zone)).date()).days + 1)
    if days > MAX_HORIZON_DAYS:
        raise DomainValidationError("body.window", f"more than {MAX_HORIZON_DAYS} days ahead")
    start, until = _horizon(not_before, days, zone)
    request = committed_request(db, start=start, end=until,
                                extra_entitlements=[draft.entitlement]
                                if draft.entitlement is not None else [])
    names = {t.id: t.name or t.id for t in request.technicians}
    if not request.technicians:
        blocked = Blocked(reason="window_unreachable",
                          detail="no technician has a planned shift in the horizon")
        return _Offer(draft, SlotOfferRead(items=[], blocked=blocked, sla_due=draft.row.sla_due,
                                           not_before=start, until=until,
                                           technicians_considered=0), [])
    known = set(names)
    item = draft.exchange.model_copy(update={
        # Technicians without a shift in the horizon cannot be pinned/preferred here.
        "pinned_technician": draft.exchange.pinned_technician
        if draft.exchange.pinned_technician in known else None,
    })
    if draft.exchange.pinned_technician is not None and item.pinned_technician is None:
        blocked = Blocked(reason="pinned_infeasible",
                          detail=f"pinned technician {draft.exchange.pinned_technician} has "
                                 f"no planned shift in the horizon")
        return _Offer(draft, SlotOfferRead(items=[], blocked=blocked, sla_due=draft.row.sla_due,
                                           not_before=start, until=until,
                                           technicians_considered=0), [])
    options = SlotOptions(not_before=not_before, horizon_days=days, slot_min=data.slot_min,
                          timezone=zone, per_window=per_window or data.per_window,
                          limit=None if windows is not None else data.limit)
    offer = SlotIndex(request, options).offer(item, windows=windows)
    blocked = Blocked(reason=offer.blocked.reason, detail=offer.blocked.detail) \
        if offer.blocked is not None else None
    read = SlotOfferRead(items=[_slot_read(s, names) for s in offer.slots], blocked=blocked,
                         sla_due=draft.row.sla_due, not_before=start, until=until,
                         technicians_considered=offer.routes_considered)
    return _Offer(draft, read, offer.slots, options)


def offer_slots(*, db: Session, data: SlotQuery, actor: Principal,
                geocoding: appointments_service.Geocoding, planning_timezone: str
                ) -> SlotOfferRead:
    """Graded arrival windows for the draft, best first (nothing is written)."""
    return _offer(db, data, actor, geocoding, planning_timezone).read


def _serialise_bookings(db: Session) -> None:
    """One booking at a time re-checks and writes, so two agents cannot both get the
    last free window. PostgreSQL: a transaction-scoped advisory lock. SQLite: take
    the database's single write lock now (a write that changes nothing), before
    reading the committed work; the other booking waits (busy timeout) until this
    one commits and then reads the result."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOKING_LOCK})
    else:
        db.execute(text("UPDATE technicians SET active = active "
                        "WHERE id = (SELECT MIN(id) FROM technicians)"))


def book_slot(*, db: Session, data: SlotBooking, actor: Principal,
              geocoding: appointments_service.Geocoding, planning_timezone: str
              ) -> tuple[Appointment, SlotRead]:
    """Re-check the chosen window against the committed work NOW and book it.

    The appointment is created with the window as its only booking window,
    ``scheduled`` with the technician and planned start of the best insertion
    that still fits (the chosen technician when given), and that technician
    preferred (or pinned with ``pin_technician``) so re-planning keeps it. 409
    ``slot_unavailable`` when the window can no longer be kept.
    """
    _serialise_bookings(db)
    window = (data.window.start, data.window.end)
    tech_count = db.scalar(select(func.count()).select_from(Technician)) or 1
    result = _offer(db, data, actor, geocoding, planning_timezone, windows=[window],
                    per_window=max(1, int(tech_count)))
    candidates = [s for s in result.slots
                  if data.technician_id is None or s.technician_id == str(data.technician_id)]
    if not candidates:
        who = f"technician {data.technician_id}" if data.technician_id else "any technician"
        why = f" ({result.read.blocked.detail})" if result.read.blocked else ""
        raise SlotUnavailable(
            f"the window {data.window.start.isoformat()} - {data.window.end.isoformat()} is no "
            f"longer available for {who}{why}; ask for slots again",
            meta={"window": {"start": data.window.start.isoformat(),
                             "end": data.window.end.isoformat()},
                  "technician_id": data.technician_id})
    slot = candidates[0]
    technician_id = int(slot.technician_id)
    preferred = list(data.preferred_technician_ids)
    if not data.pin_technician and technician_id not in preferred:
        preferred.append(technician_id)
    fields = data.model_copy(update={
        "windows": [Window(start=data.window.start, end=data.window.end)],
        "preferred_technician_ids": preferred,
        "pinned_technician_id": technician_id if data.pin_technician
        else data.pinned_technician_id,
    })
    row = appointments_service.prepare(db=db, data=fields, ticket_id=data.ticket_id,
                                       actor=actor.actor, geocoding=geocoding)
    row.sla_due = row.sla_due or result.draft.row.sla_due
    if not is_allowed(S.unscheduled, S.scheduled):
        raise RuntimeError("the lifecycle no longer lets a visit be scheduled")
    now = utcnow()
    row.status = S.scheduled.value
    row.status_changed_at = now
    row.technician_id = technician_id
    row.scheduled_start = slot.planned_start
    row.scheduled_end = slot.planned_start + timedelta(minutes=row.duration_min)
    db.add(row)
    db.flush()
    record_event(db, entity_type="appointment", entity_id=row.id, action="created",
                 actor=actor.actor, data={"via": "slot_booking", "ticket_id": row.ticket_id,
                                          "priority": row.priority,
                                          "sla_due": _iso(row.sla_due)})
    record_event(db, entity_type="appointment", entity_id=row.id, action="status_changed",
                 actor=actor.actor, data={
                     "from": S.unscheduled.value, "to": S.scheduled.value,
                     "reason": "slot booked", "technician_id": technician_id,
                     "window": {"start": _iso(data.window.start), "end": _iso(data.window.end)},
                     "planned_start": _iso(slot.planned_start), "grade": slot.grade})
    _push_later_visits(db, row, result, actor)
    names = {str(technician_id): db.get(Technician, technician_id).name}
    return row, _slot_read(slot, names)


def _push_later_visits(db: Session, booked: Appointment, result: _Offer,
                       actor: Principal) -> None:
    """Store the new planned starts of the visits the booking pushed later.

    The offer fitted the new visit in by letting later committed visits slip
    (within their own rules); their stored times follow, so routes and ETAs
    show what will happen. Timed by ``optimiser.slots`` on the committed work
    as it now is (the new visit included).
    """
    options = result.options
    start, until = result.read.not_before, result.read.until
    request = committed_request(db, start=start, end=until)
    index = SlotIndex(request, options)
    tb = index.problem.timebase
    planned = tb.not_before(booked.scheduled_start)
    vehicle = next((v for v in index.problem.vehicles
                    if v.technician_id == str(booked.technician_id)
                    and v.start <= planned <= v.hard_end), None)
    if vehicle is None:
        return
    route = index.route(vehicle.index)
    for position, appointment_index in enumerate(route.appointments):
        visit = db.get(Appointment, int(request.appointments[appointment_index].id))
        new_start = route.starts[position + 1]
        if visit is None or visit.id == booked.id or \
                new_start <= tb.not_before(visit.scheduled_start):
            continue
        previous = visit.scheduled_start
        visit.scheduled_start = tb.instant(new_start)
        visit.scheduled_end = visit.scheduled_start + timedelta(minutes=visit.duration_min)
        visit.updated_at = utcnow()
        db.flush()
        record_event(db, entity_type="appointment", entity_id=visit.id, action="eta_updated",
                     actor=actor.actor, data={"from": _iso(previous),
                                              "to": _iso(visit.scheduled_start),
                                              "after": {"appointment_id": booked.id,
                                                        "status": "slot_booked"}})


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


# ---------------------------------------------------------------------- route


def osm_link(lat: float, lon: float) -> str:
    return (f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}"
            f"#map=17/{lat:.6f}/{lon:.6f}")


def _day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    return technicians_service.local_day_bounds(day, zone_name)


def _stops_of_day(db: Session, technician_id: int, start: datetime, end: datetime,
                  statuses: Iterable[S]) -> list[Appointment]:
    query = (select(Appointment)
             .where(Appointment.technician_id == technician_id,
                    Appointment.status.in_([str(s) for s in statuses]),
                    Appointment.scheduled_start >= start, Appointment.scheduled_start < end)
             .order_by(Appointment.scheduled_start, Appointment.id))
    return list(db.scalars(query))


def _exchange_breaks(technician: Technician, shifts: list[Shift]) -> list[exchange.Break]:
    """The breaks of the planned ``shifts``, as the technicians domain maps them."""
    planned = [s for s in shifts if s.status == ShiftStatus.planned]
    if not planned:
        return []
    mapped = technicians_service.to_exchange(technician, planned)
    return [b for shift in mapped.shifts for b in shift.breaks]


def _breaks_of(technician: Technician, shifts: list[Shift]) -> list[RouteBreak]:
    return [RouteBreak(earliest_start=b.earliest_start, latest_end=b.latest_end,
                       duration_min=b.duration_min)
            for b in _exchange_breaks(technician, shifts)]


def _eta_window(appointment: Appointment, tolerance_min: float) -> EtaWindow:
    start = appointment.scheduled_start
    for window in appointment.windows or []:
        opens, closes = datetime.fromisoformat(window["start"]), \
            datetime.fromisoformat(window["end"])
        if opens <= start <= closes:
            return EtaWindow(start=opens, end=closes, source="booking_window")
    slack = timedelta(minutes=tolerance_min)
    return EtaWindow(start=start - slack, end=start + slack, source="tolerance")


def day_route(*, db: Session, technician_id: int, day: date, principal: Principal,
              timezone: str, tolerance_min: float) -> DayRoute:
    """The technician's stops that local day, in order, with legs, breaks and totals."""
    technician = technicians_service.visible_technician(db=db, technician_id=technician_id,
                                                        principal=principal)
    start, end = _day_bounds(day, timezone)
    stops = _stops_of_day(db, technician.id, start, end, ON_ROUTE)
    shifts = [s for s in db.scalars(technicians_service.shifts_query(
        technician_id=technician.id, overlaps_from=start, overlaps_to=end))
        if s.status == ShiftStatus.planned]
    home = (technician.home_lat, technician.home_lon)
    route_legs = eta_module.legs(home, [(a.lat, a.lon) for a in stops], home) if stops else []
    customers = _by_id(db, Customer, {a.customer_id for a in stops})
    tickets = _by_id(db, Ticket, {a.ticket_id for a in stops})
    items: list[RouteStop] = []
    for position, (appointment, leg) in enumerate(zip(stops, route_legs, strict=False)):
        customer = customers.get(appointment.customer_id)
        ticket = tickets.get(appointment.ticket_id)
        items.append(RouteStop(
            sequence=position + 1, appointment_id=appointment.id, version=appointment.version,
            status=S(appointment.status),
            customer=RouteCustomer(id=customer.id, name=customer.name, phone=customer.phone)
            if customer else None,
            address=appointment.address or appointment.geocoded_address,
            location={"lat": appointment.lat, "lon": appointment.lon},
            map_url=osm_link(appointment.lat, appointment.lon),
            eta=appointment.scheduled_start, eta_window=_eta_window(appointment, tolerance_min),
            scheduled_end=appointment.scheduled_end, duration_min=appointment.duration_min,
            required_skills=dict(appointment.required_skills or {}),
            sla_due=appointment.sla_due,
            ticket=RouteTicket(id=ticket.id, summary=ticket.summary, priority=ticket.priority)
            if ticket else None,
            travel_min=round(leg.travel_min, 2), distance_km=round(leg.distance_km, 3),
            notes=appointment.notes))
    breaks = _breaks_of(technician, shifts)
    service_min = sum(a.duration_min for a in stops)
    travel_min = sum(leg.travel_min for leg in route_legs)
    totals = RouteTotals(
        visits=len(stops), service_min=round(service_min, 2), travel_min=round(travel_min, 2),
        travel_km=round(sum(leg.distance_km for leg in route_legs), 3),
        working_min=round(service_min + travel_min, 2),
        break_min=round(sum(b.duration_min for b in breaks), 2))
    return DayRoute(
        technician_id=technician.id, technician_name=technician.name, date=day,
        timezone=timezone,
        shifts=[RouteShift(id=s.id, start=s.start, end=s.end,
                           breaks=_breaks_of(technician, [s]))
                for s in shifts],
        stops=items, breaks=breaks, totals=totals)


def _by_id(db: Session, table: type, ids: set[int | None]) -> dict[int, object]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return {row.id: row for row in db.scalars(select(table).where(table.id.in_(wanted)))}


# ---------------------------------------------------------------------- status


def _local_day(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(ZoneInfo(zone_name)).date()


def _origin_before(stops: list[Appointment], appointment: Appointment,
                   technician: Technician) -> tuple[float, float]:
    """Where the technician set off for ``appointment``: the last stop done before it, or home."""
    done = [a for a in stops if a.scheduled_start < appointment.scheduled_start
            and a.status in (S.completed.value, S.cannot_complete.value)]
    last = done[-1] if done else None
    return (last.lat, last.lon) if last else (technician.home_lat, technician.home_lon)


def _windows_of(appointment: Appointment) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
                 for w in appointment.windows or [])


def update_status(*, db: Session, appointment_id: int, data: StatusUpdate,
                  principal: Principal, timezone: str
                  ) -> tuple[Appointment, list[EtaRead]]:
    """A field status change (transition table, SLA clock) and the later stops re-timed.

    The later stops of the day (still scheduled or dispatched) get new planned
    starts: from now at this visit (done or abandoned), from now plus its
    duration (just arrived), or from arrival here (just set off); then travel,
    waiting for booking windows, and the shift's pending breaks.
    """
    appointment = appointments_service.get(db=db, appointment_id=appointment_id,
                                           principal=principal)
    target = S(data.status)
    appointments_service.change_status(db=db, appointment=appointment, target=target,
                                       actor=principal, version=data.version,
                                       reason=data.reason, notes=data.notes)
    now = appointment.status_changed_at
    if target == S.completed and appointment.ticket_id is not None:
        # Arrival already stopped the on-site clock; completion closes it if nothing did.
        mark_onsite_met(db=db, ticket_id=appointment.ticket_id, at=now, actor=principal.actor)
    return appointment, _retime_later_stops(db, appointment, target, now, principal, timezone)


def _retime_later_stops(db: Session, appointment: Appointment, target: S, now: datetime,
                        principal: Principal, timezone: str) -> list[EtaRead]:
    if appointment.technician_id is None or appointment.scheduled_start is None:
        return []  # not on anyone's route: nothing to re-time
    technician = db.get(Technician, appointment.technician_id)
    start, end = _day_bounds(_local_day(appointment.scheduled_start, timezone), timezone)
    day = _stops_of_day(db, technician.id, start, end, [*ON_ROUTE, S.cannot_complete])
    later = [a for a in day if (a.scheduled_start, a.id) > (appointment.scheduled_start,
                                                            appointment.id)
             and a.status in {s.value for s in RETIMED}]
    if not later:
        return []
    here = (appointment.lat, appointment.lon)
    if target in (S.completed, S.cannot_complete):
        leave_at = now
    elif target == S.on_site:
        leave_at = now + timedelta(minutes=appointment.duration_min)
    else:  # en_route: to this visit first, then on
        origin = _origin_before(day, appointment, technician)
        first = eta_module.time_chain(
            leave_at=now, origin=origin,
            stops=[eta_module.ChainStop(appointment.id, here, appointment.duration_min,
                                        _windows_of(appointment))])[0]
        leave_at = first.end
    shifts = [s for s in db.scalars(technicians_service.shifts_query(
        technician_id=technician.id, overlaps_from=start, overlaps_to=end))
        if s.status == ShiftStatus.planned]
    breaks = _exchange_breaks(technician, shifts)
    etas = eta_module.time_chain(
        leave_at=leave_at, origin=here, breaks=breaks,
        stops=[eta_module.ChainStop(a.id, (a.lat, a.lon), a.duration_min, _windows_of(a))
               for a in later])
    results: list[EtaRead] = []
    for stop, new in zip(later, etas, strict=True):
        previous = stop.scheduled_start
        if previous != new.start or stop.scheduled_end != new.end:
            stop.scheduled_start, stop.scheduled_end = new.start, new.end
            stop.updated_at = utcnow()
            db.flush()
            record_event(db, entity_type="appointment", entity_id=stop.id, action="eta_updated",
                         actor=principal.actor, data={
                             "from": _iso(previous), "to": _iso(new.start), "late": new.late,
                             "after": {"appointment_id": appointment.id,
                                       "status": target.value}})
        results.append(EtaRead(appointment_id=stop.id, previous_eta=previous, eta=new.start,
                               scheduled_end=new.end, late=new.late, version=stop.version))
    return results
