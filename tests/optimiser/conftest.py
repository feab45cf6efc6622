"""Builders for small plan requests and hand-timed plans, shared by the optimiser tests.

Everything defaults to one working day near central London: Monday 2026-11-23,
shift 08:00-17:00 Europe/London (GMT in November, so local = UTC). Import the
helpers directly::

    from tests.optimiser.conftest import appt, at, make_request, tech

``at("09:30")`` is an aware datetime on that Monday; ``near(east_km, north_km)``
a point that far from the city centre; ``timed_route`` / ``make_plan`` time a
given visit order the way a correct solver would (travel from
``optimiser.validate.reference_leg``), so tests can build valid plans by hand
and then break exactly one rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from optimiser.kpis import compute_kpis
from optimiser.schema import (
    Appointment,
    Break,
    BreakTaken,
    CoveragePeriod,
    Entitlement,
    Location,
    Options,
    Plan,
    PlanRequest,
    Route,
    Shift,
    Stop,
    Technician,
    TimeWindow,
    Travel,
    Unassigned,
)
from optimiser.validate import assert_valid, reference_leg, validate_plan

__all__ = [
    "CITY", "DAY", "TZ", "appt", "assert_valid", "at", "coverage", "entitlement", "lunch",
    "make_plan", "make_request", "near", "shift", "tech", "timed_route", "validate_plan",
    "window",
]

TZ = "Europe/London"
DAY = date(2026, 11, 23)  # a Monday
CITY = Location(lat=51.5072, lon=-0.1276)  # Charing Cross

When = str | datetime


def at(clock: When, day: int = 0, tz: str = TZ) -> datetime:
    """``"HH:MM"`` local time on ``DAY + day`` in ``tz`` (a datetime passes through)."""
    if isinstance(clock, datetime):
        return clock
    hours, minutes = map(int, clock.split(":"))
    if hours == 24:
        return datetime.combine(DAY + timedelta(days=day + 1), time(0), tzinfo=ZoneInfo(tz))
    return datetime.combine(DAY + timedelta(days=day), time(hours, minutes), tzinfo=ZoneInfo(tz))


def near(east_km: float = 0.0, north_km: float = 0.0, *, index: int | None = None) -> Location:
    """A point ``east_km`` / ``north_km`` from ``CITY`` (flat-earth offset, fine at city scale)."""
    lat = CITY.lat + north_km / 111.195
    lon = CITY.lon + east_km / (111.195 * math.cos(math.radians(CITY.lat)))
    return Location(lat=lat, lon=lon, index=index)


def window(start: When, end: When, day: int = 0) -> TimeWindow:
    return TimeWindow(start=at(start, day), end=at(end, day))


def lunch(earliest: When = "12:00", latest: When = "14:00", duration_min: float = 30,
          day: int = 0) -> Break:
    return Break(earliest_start=at(earliest, day), latest_end=at(latest, day),
                 duration_min=duration_min)


def shift(start: When = "08:00", end: When = "17:00", *, day: int = 0,
          breaks: Iterable[Break] = ()) -> Shift:
    return Shift(start=at(start, day), end=at(end, day), breaks=list(breaks))


def tech(id: str = "T1", *, skills: Mapping[str, int] | None = None,
         location: Location | None = None, end_location: Location | None = None,
         shifts: Sequence[Shift] | None = None, breaks: Iterable[Break] = (),
         territories: Iterable[str] = (), max_overtime_min: float = 0,
         capacity: float | None = None, name: str | None = None) -> Technician:
    """A technician at ``CITY`` with one Monday 08:00-17:00 shift (``breaks`` go in it)."""
    return Technician(
        id=id, name=name, skills=dict(skills or {}), start_location=location or CITY,
        end_location=end_location,
        shifts=list(shifts) if shifts is not None else [shift(breaks=breaks)],
        territories=list(territories), max_overtime_min=max_overtime_min, capacity=capacity)


def appt(id: str = "A1", *, location: Location | None = None, duration_min: float = 30,
         skills: Mapping[str, int] | None = None, windows: Iterable[TimeWindow] = (),
         sla_due: When | None = None, priority: int = 3, territory: str | None = None,
         demand: float = 0, pinned: str | None = None, preferred: Iterable[str] = (),
         excluded: Iterable[str] = (), entitlement_id: str | None = None,
         planned_technician: str | None = None,
         planned_start: When | None = None) -> Appointment:
    """An appointment 5 km east of ``CITY``, 30 minutes, priority 3, no constraints."""
    return Appointment(
        id=id, ticket_id=f"TCK-{id}", entitlement_id=entitlement_id,
        location=location or near(5, 0), duration_min=duration_min,
        required_skills=dict(skills or {}), windows=list(windows),
        sla_due=at(sla_due) if sla_due is not None else None, priority=priority,
        territory=territory, demand=demand, pinned_technician=pinned,
        preferred_technicians=list(preferred), excluded_technicians=list(excluded),
        planned_technician=planned_technician,
        planned_start=at(planned_start) if planned_start is not None else None)


def coverage(days: Iterable[str] = ("mon", "tue", "wed", "thu", "fri"), start: str = "08:00",
             end: str = "18:00") -> CoveragePeriod:
    return CoveragePeriod.model_validate({"days": list(days), "from": start, "to": end})


def entitlement(id: str = "E1", *, onsite: bool = True,
                coverage: Sequence[CoveragePeriod] | None = None, timezone: str = TZ,
                valid_until: When | None = None,
                min_skill_level: int | None = None) -> Entitlement:
    """An onsite entitlement, 24x7 unless ``coverage`` is given."""
    return Entitlement(
        id=id, onsite=onsite, coverage=list(coverage) if coverage is not None else None,
        timezone=timezone, valid_until=at(valid_until) if valid_until is not None else None,
        min_skill_level=min_skill_level)


def make_request(technicians: Sequence[Technician] | None = None,
                 appointments: Sequence[Appointment] | None = None,
                 entitlements: Sequence[Entitlement] = (), *, travel: Travel | None = None,
                 **options) -> PlanRequest:
    """A validated request; defaults to ``tech()`` and ``appt()``; ``options`` go to Options."""
    return PlanRequest(
        technicians=list(technicians) if technicians is not None else [tech()],
        appointments=list(appointments) if appointments is not None else [appt()],
        entitlements=list(entitlements), travel=travel or Travel(),
        options=Options(**options))


# ------------------------------------------------------------- hand-made plans


def _leg(request: PlanRequest, a: Location, b: Location) -> tuple[timedelta, float, float]:
    """Travel rounded up to whole seconds (as the model does), plus the exact figures."""
    minutes, km = reference_leg(request.travel, a, b)
    return timedelta(seconds=math.ceil(round(minutes * 60, 6))), minutes, km


def _after_breaks(leave: datetime, arrive: datetime, breaks: Sequence[BreakTaken],
                  counted: set[int]) -> datetime:
    """Push ``arrive`` back by every not-yet-counted break starting on the way."""
    changed = True
    while changed:
        changed = False
        for i, b in enumerate(breaks):
            if i not in counted and leave <= b.start < arrive:
                arrive += b.end - b.start
                counted.add(i)
                changed = True
    return arrive


def timed_route(request: PlanRequest, technician_id: str, appointment_ids: Sequence[str], *,
                shift_index: int = 0, departure: When | None = None,
                breaks: Iterable[tuple[When, When]] = ()) -> Route:
    """Time a fixed visit order: leave at ``departure`` (default shift start), drive, wait
    for the first window still open, work, and drive home. ``breaks`` are (start, end)
    pairs the caller places; one starting during a drive delays the arrival."""
    technician = next(t for t in request.technicians if t.id == technician_id)
    work_shift = technician.shifts[shift_index]
    appointments = {a.id: a for a in request.appointments}
    taken = [BreakTaken(start=at(s), end=at(e)) for s, e in breaks]
    counted: set[int] = set()
    leave = at(departure) if departure is not None else work_shift.start
    place, free_from = technician.start_location, leave
    stops: list[Stop] = []
    total_min = total_km = 0.0
    for appointment_id in appointment_ids:
        appointment = appointments[appointment_id]
        drive, minutes, km = _leg(request, place, appointment.location)
        arrival = _after_breaks(free_from, free_from + drive, taken, counted)
        start = arrival
        open_windows = [w for w in appointment.windows if w.end >= arrival]
        if appointment.windows and open_windows:
            start = max(arrival, min(w.start for w in open_windows))
        end = start + timedelta(minutes=appointment.duration_min)
        due = appointment.sla_due
        stops.append(Stop(
            appointment_id=appointment_id, arrival=arrival, start=start, end=end,
            travel_min=minutes, distance_km=km,
            sla_met=None if due is None else start <= due,
            lateness_min=0 if due is None else max(0.0, (start - due).total_seconds() / 60)))
        total_min, total_km = total_min + minutes, total_km + km
        place, free_from = appointment.location, end
    if stops:
        drive, minutes, km = _leg(request, place, technician.home_end)
        home = _after_breaks(free_from, free_from + drive, taken, counted)
        total_min, total_km = total_min + minutes, total_km + km
    else:
        home = leave
    overtime = max(0.0, (home - work_shift.end).total_seconds() / 60)
    return Route.model_validate({
        "technician_id": technician_id, "shift_index": shift_index, "departure": leave,
        "return": home, "stops": stops, "breaks": taken, "travel_min": total_min,
        "distance_km": total_km, "overtime_min": overtime})


def make_plan(request: PlanRequest, *routes: Route,
              unassigned: Mapping[str, str] | None = None, kpis: bool = True) -> Plan:
    """A feasible plan of ``routes``; every other appointment is unassigned with the reason
    given in ``unassigned`` (default ``capacity``: "did not fit with the others", the one
    reason the referee never refutes). KPIs via ``compute_kpis``."""
    scheduled = {s.appointment_id for r in routes for s in r.stops}
    reasons = dict(unassigned or {})
    left_out = [
        Unassigned(appointment_id=a.id, reason=reasons.get(a.id, "capacity"),
                   detail=f"test: {reasons.get(a.id, 'capacity')}")
        for a in request.appointments if a.id not in scheduled]
    plan = Plan(status="feasible", routes=list(routes), unassigned=left_out)
    if kpis:
        plan.kpis = compute_kpis(request, plan)
    return plan
