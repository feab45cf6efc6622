"""Build the exchange-format ``PlanRequest`` for a day (or days) from the database.

Rows are mapped to exchange models by each domain's ``to_exchange``; no ORM
row reaches the solver. Two flavours:

- ``build_daily``: the technicians' planned shifts starting in the date range
  (and territory), and the open appointments that can be done in it:
  unscheduled and scheduled ones whose windows reach into the range (or that
  have no windows); visits already dispatched or under way in the range are
  kept with their technician (``pinned_technician``) so the day around them
  is planned honestly.
- ``build_replan``: the rest of one day from the live state at ``now`` (see
  ``api.plans.live``): completed work dropped, on-site visits fixed (their
  technician starts from there when the visit ends), every other technician
  starts from their last completed visit (or home) at ``now``; published
  visits carry ``planned_technician`` / ``planned_start`` so the optimiser's
  stability costs keep the plan steady; new and emergency visits are inserted.

The range is local days in ``settings.planning_timezone``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.lifecycle import AppointmentStatus
from api.appointments.models import Appointment
from api.entitlements import service as entitlements_service
from api.entitlements.models import Entitlement
from api.plans import snapshot
from api.technicians import service as technicians_service
from api.technicians.models import Shift, ShiftStatus, Technician
from optimiser import schema

S = AppointmentStatus
OPEN_STATUSES = (S.unscheduled, S.scheduled)
COMMITTED = (S.dispatched, S.en_route)


@dataclass
class Built:
    """A request plus what publish and the job row need to know about it."""

    request: schema.PlanRequest
    snapshot: dict[str, Any]
    # Re-planning: visits under way that were kept out of the request, and why
    # technicians were left out (no time left in their shift).
    fixed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def day_range(day: date, days: int, timezone: str) -> tuple[datetime, datetime]:
    """[local midnight of ``day``, local midnight ``days`` later) as UTC instants."""
    start, _ = technicians_service.local_day_bounds(day, timezone)
    _, end = technicians_service.local_day_bounds(day + timedelta(days=days - 1), timezone)
    return start, end


def _serves(technician: Technician, territory: str | None) -> bool:
    """May ``technician`` work in ``territory``? (An empty territory list = anywhere.)"""
    return territory is None or not technician.territories \
        or territory in technician.territories


def _technicians_with_shifts(db: Session, start: datetime, end: datetime,
                             territory: str | None, *, overlapping: bool
                             ) -> list[tuple[Technician, list[Shift]]]:
    """Active technicians (of the territory) with their planned shifts in the range.

    ``overlapping``: shifts that overlap the range (re-planning the rest of a
    day); otherwise shifts that start in it (a day's plan).
    """
    query = select(Shift).join(Technician).where(
        Technician.active.is_(True), Shift.status == ShiftStatus.planned)
    if overlapping:
        query = query.where(Shift.start < end, Shift.end > start)
    else:
        query = query.where(Shift.start >= start, Shift.start < end)
    shifts = db.scalars(query.order_by(Shift.technician_id, Shift.start)).all()
    by_tech: dict[int, tuple[Technician, list[Shift]]] = {}
    for shift in shifts:
        if _serves(shift.technician, territory):
            by_tech.setdefault(shift.technician_id, (shift.technician, []))[1].append(shift)
    return list(by_tech.values())


def _appointments(db: Session, statuses: tuple[str, ...], start: datetime, end: datetime,
                  territory: str | None) -> list[Appointment]:
    """Appointments in ``statuses`` that can happen in [start, end).

    In range: a window reaching into it, or no windows at all (any time), or,
    for assigned visits, a scheduled start inside it.
    """
    query = select(Appointment).where(
        Appointment.status.in_([str(s) for s in statuses]),
        or_(
            (Appointment.window_start < end) & (Appointment.window_end >= start),
            Appointment.window_start.is_(None),
            (Appointment.scheduled_start >= start) & (Appointment.scheduled_start < end),
        ),
    )
    if territory is not None:
        # Strictly that territory's: visits without one belong to the all-territory plan,
        # so two territory plans never compete for the same visit.
        query = query.where(Appointment.territory == territory)
    return list(db.scalars(query.order_by(Appointment.priority, Appointment.id)))


def _entitlements(db: Session, appointments: list[Appointment]) -> list[Entitlement]:
    ids = sorted({a.entitlement_id for a in appointments if a.entitlement_id is not None})
    if not ids:
        return []
    return list(db.scalars(select(Entitlement).where(Entitlement.id.in_(ids))))


def _options(*, time_limit_s: float, seed: int | None, **extra: Any) -> schema.Options:
    values = {"time_limit_s": time_limit_s, "seed": seed or 0}
    values.update({k: v for k, v in extra.items() if v is not None})
    return schema.Options(**values)


def build_daily(db: Session, *, day: date, days: int, territory: str | None, timezone: str,
                time_limit_s: float, seed: int | None = None) -> Built:
    """The plan request for ``days`` days from ``day``."""
    start, end = day_range(day, days, timezone)
    crew = _technicians_with_shifts(db, start, end, territory, overlapping=False)
    tech_ids = {str(tech.id) for tech, _ in crew}
    open_ = _appointments(db, OPEN_STATUSES, start, end, territory)
    committed = [a for a in _appointments(db, COMMITTED, start, end, territory)
                 if a.scheduled_start is not None and start <= a.scheduled_start < end]
    exchange: list[schema.Appointment] = []
    for appointment in open_:
        item = appointments_service.to_exchange(appointment)
        if appointment.status == S.scheduled:
            # Published by an earlier plan: re-planning the day should keep it steady.
            exchange.append(_keep_with(item, appointment, tech_ids, pin=False))
        else:
            exchange.append(_without_plan(item, appointment, tech_ids))
    for appointment in committed:
        # Already with the technician: keep it there, the rest of the day plans around it.
        item = appointments_service.to_exchange(appointment)
        exchange.append(_keep_with(item, appointment, tech_ids, pin=True))
    chosen = open_ + committed
    entitlements = _entitlements(db, chosen)
    request = schema.PlanRequest(
        technicians=[technicians_service.to_exchange(tech, shifts) for tech, shifts in crew],
        entitlements=[entitlements_service.to_exchange(e) for e in entitlements],
        appointments=exchange,
        options=_options(time_limit_s=time_limit_s, seed=seed),
    )
    snap = snapshot.take(appointments=chosen, technicians=[t for t, _ in crew],
                         shifts=[s for _, shifts in crew for s in shifts],
                         entitlements=entitlements)
    return Built(request=request, snapshot=snap)


def _own_pin(appointment: Appointment, tech_ids: set[str]) -> str | None:
    """The appointment's own required technician, if that technician is in the request."""
    pinned = appointment.pinned_technician_id
    return str(pinned) if pinned is not None and str(pinned) in tech_ids else None


def _without_plan(item: schema.Appointment, appointment: Appointment,
                  tech_ids: set[str]) -> schema.Appointment:
    """An open visit: free to go to any eligible technician."""
    return item.model_copy(update={"pinned_technician": _own_pin(appointment, tech_ids),
                                   "planned_technician": None, "planned_start": None})


def _keep_with(item: schema.Appointment, appointment: Appointment, tech_ids: set[str], *,
               pin: bool) -> schema.Appointment:
    """A published visit: carries where it was planned; pinned there when it must stay.

    ``pin``: the technician already has it (on the way, or dispatched in a day
    plan); otherwise moving it only costs (``options.move_cost_min``).
    """
    technician = str(appointment.technician_id) if appointment.technician_id else None
    pinned = technician if pin and technician in tech_ids else _own_pin(appointment, tech_ids)
    return item.model_copy(update={"pinned_technician": pinned,
                                   "planned_technician": technician,
                                   "planned_start": appointment.scheduled_start})


# ------------------------------------------------------------------ re-planning


def _trim_shift(shift: schema.Shift, ready: datetime) -> schema.Shift | None:
    """The part of ``shift`` from ``ready`` on; None when nothing is left.

    A break that can no longer fit after ``ready`` is dropped (taken already,
    or too late to take); one that still fits keeps its window from ``ready``.
    """
    if shift.end <= ready:
        return None
    start = max(shift.start, ready)
    breaks = []
    for brk in shift.breaks:
        earliest = max(brk.earliest_start, start)
        if (brk.latest_end - earliest).total_seconds() / 60 >= brk.duration_min:
            breaks.append(brk.model_copy(update={"earliest_start": earliest}))
    return shift.model_copy(update={"start": start, "breaks": breaks})


def _location(appointment: Appointment) -> schema.Location:
    return schema.Location(lat=appointment.lat, lon=appointment.lon)


def _where_and_when(tech: Technician, live: list[Appointment], now: datetime
                    ) -> tuple[schema.Location | None, datetime, Appointment | None]:
    """Where ``tech`` starts the rest of the day and from when, and the visit under way.

    On site: from that visit, when it ends: its planned end, or arrival plus
    its duration if the technician arrived late (never before now).
    Otherwise from the last visit completed today (or home: None) at ``now``.
    """
    mine = [a for a in live if a.technician_id == tech.id]
    on_site = [a for a in mine if a.status == S.on_site]
    if on_site:
        visit = on_site[0]
        ends = [now, visit.status_changed_at + timedelta(minutes=visit.duration_min)]
        if visit.scheduled_end is not None:
            ends.append(visit.scheduled_end)
        return _location(visit), max(ends), visit
    done = [a for a in mine if a.status == S.completed]
    if done:
        last = max(done, key=lambda a: (a.status_changed_at, a.id))
        return _location(last), now, None
    return None, now, None


def build_replan(db: Session, *, day: date, territory: str | None, timezone: str,
                 now: datetime, time_limit_s: float, seed: int | None = None,
                 move_cost_min: float | None = None,
                 shift_tolerance_min: float | None = None) -> Built:
    """The request for the rest of ``day`` from the live state at ``now``."""
    day_start, day_end = day_range(day, 1, timezone)
    begin = max(now, day_start)
    crew = _technicians_with_shifts(db, begin, day_end, territory, overlapping=True)
    live = _appointments(db, (S.on_site, S.completed), day_start, day_end, territory)
    technicians: list[schema.Technician] = []
    fixed: list[dict[str, Any]] = []
    notes: list[str] = []
    kept_techs, kept_shifts = [], []
    for tech, shifts in crew:
        where, ready, under_way = _where_and_when(tech, live, now)
        if under_way is not None:
            fixed.append({"appointment_id": under_way.id, "technician_id": tech.id,
                          "status": under_way.status, "busy_until": ready.isoformat()})
        item = technicians_service.to_exchange(tech, shifts)
        trimmed = [s for s in (_trim_shift(shift, ready) for shift in item.shifts) if s]
        if not trimmed:
            notes.append(f"technician {tech.id}: no shift time left after "
                         f"{ready.isoformat(timespec='minutes')}")
            continue
        home = item.home_end
        technicians.append(item.model_copy(update={
            "start_location": where or item.start_location, "end_location": home,
            "shifts": trimmed}))
        kept_techs.append(tech)
        kept_shifts.extend(shifts)
    tech_ids = {t.id for t in technicians}

    published = [a for a in _appointments(db, (S.scheduled, S.dispatched, S.en_route),
                                          day_start, day_end, territory)
                 if a.scheduled_start is not None and day_start <= a.scheduled_start < day_end]
    published_ids = {a.id for a in published}
    new = [a for a in _appointments(db, (S.unscheduled,), begin, day_end, territory)
           if a.id not in published_ids]
    exchange = [_keep_with(appointments_service.to_exchange(a), a, tech_ids,
                           pin=a.status == S.en_route) for a in published]
    exchange += [_without_plan(appointments_service.to_exchange(a), a, tech_ids) for a in new]
    chosen = published + new
    entitlements = _entitlements(db, chosen)
    request = schema.PlanRequest(
        technicians=technicians,
        entitlements=[entitlements_service.to_exchange(e) for e in entitlements],
        appointments=exchange,
        options=_options(time_limit_s=time_limit_s, seed=seed, move_cost_min=move_cost_min,
                         shift_tolerance_min=shift_tolerance_min),
    )
    snap = snapshot.take(appointments=chosen, technicians=kept_techs, shifts=kept_shifts,
                         entitlements=entitlements)
    return Built(request=request, snapshot=snap, fixed=fixed, notes=notes)
