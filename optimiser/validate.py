"""An independent referee for plans: does a plan honour every hard rule of its request?

Written apart from the model on purpose: travel is recomputed here with plain
scalar math (or read from the request's matrix), never with the model's own
travel code, so a bug there cannot hide itself. Every rule of
``shared/spec/plan-format.md`` that a plan can break has a code in ``RULES``;
``validate_plan`` returns one ``Violation`` per breach, in plain words, and an
empty list for a plan that is fine.

Tolerances: times may differ by ``TIME_TOLERANCE`` (one second: the model
rounds each travel leg up to whole seconds); reported travel may differ from
the recomputation by one second / one metre per leg plus a relative 1e-6.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

from optimiser.calendars import BusinessCalendar, merge_intervals
from optimiser.kpis import compute_kpis
from optimiser.schema import (
    Appointment,
    BreakTaken,
    Entitlement,
    Location,
    Plan,
    PlanRequest,
    Route,
    Shift,
    Technician,
    Travel,
    UnassignedReason,
)

EARTH_RADIUS_KM = 6371.0088
TIME_TOLERANCE = timedelta(seconds=1)
LEG_TOLERANCE_MIN = 1 / 60
LEG_TOLERANCE_KM = 0.001
RELATIVE_TOLERANCE = 1e-6

RULES: dict[str, str] = {
    "status": "an infeasible_request plan carries an error and no routes",
    "unknown_appointment": "the plan names an appointment the request does not have",
    "duplicate_appointment": "an appointment appears more than once in the plan",
    "missing_appointment": "an appointment of the request is neither scheduled nor unassigned",
    "unknown_technician": "a route names a technician the request does not have",
    "shift_index": "a route's shift_index is not one of the technician's shifts",
    "duplicate_route": "two routes for the same technician and shift",
    "route_overlap": "two routes of one technician overlap in time",
    "naive_datetime": "a plan time has no UTC offset",
    "skill": "the technician lacks a required skill level (incl. the entitlement's floor)",
    "not_onsite": "the appointment's entitlement does not cover onsite work",
    "coverage": "the visit is not wholly inside one coverage period of its entitlement",
    "entitlement_expired": "the visit starts after the entitlement's valid_until",
    "entitlement_not_yet_valid": "the visit starts before the entitlement's valid_from",
    "entitlement_suspended": "the appointment's entitlement is suspended",
    "territory": "the technician does not serve the appointment's territory",
    "excluded": "the technician is excluded for the appointment",
    "pinned": "a pinned appointment is scheduled for another technician",
    "window": "the visit does not start inside any of its windows",
    "duration": "end is not start + duration_min",
    "start_before_arrival": "the visit starts before the technician arrives",
    "travel_time": "too little time between the previous stop (or departure) and arrival "
                   "for the travel and breaks in between",
    "departure_before_shift": "the route leaves before the shift starts",
    "return_travel": "the route returns sooner than the last visit plus travel home allows",
    "late_return": "the route returns after shift end + max_overtime_min",
    "overtime_figure": "the route's overtime_min disagrees with its return time",
    "break_missing": "a break of the shift is not taken",
    "break_extra": "the route takes a break the shift does not have",
    "break_duration": "a break taken has the wrong length",
    "break_window": "a break is not inside [earliest_start, latest_end]",
    "break_overlap": "a break overlaps a visit or another break",
    "capacity": "the route's total demand exceeds the technician's capacity",
    "stop_travel": "a stop's travel_min / distance_km disagrees with the recomputed leg",
    "route_travel": "a route's travel_min / distance_km disagrees with the recomputed total",
    "sla_flag": "a stop's sla_met disagrees with its start and sla_due",
    "lateness_figure": "a stop's lateness_min disagrees with its start and sla_due",
    "unassigned_reason": "an unassigned reason is unknown, empty or cannot be true",
    "kpis": "the plan's KPIs disagree with the ones computed from its routes",
}


@dataclass(frozen=True)
class Violation:
    """One breach of a hard rule: its ``RULES`` code, who is involved, and why."""

    rule: str
    message: str
    appointment_id: str | None = None
    technician_id: str | None = None

    def __str__(self) -> str:
        who = ", ".join(x for x in (self.technician_id, self.appointment_id) if x)
        return f"[{self.rule}] {who + ': ' if who else ''}{self.message}"


# --------------------------------------------------------------------- travel


def haversine_km(a: Location, b: Location) -> float:
    """Great-circle distance on the mean Earth sphere (no road factor)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def reference_leg(travel: Travel, a: Location, b: Location) -> tuple[float, float]:
    """(minutes, km) from ``a`` to ``b`` under the request's travel model, unrounded."""
    if travel.model == "matrix":
        return travel.durations_min[a.index][b.index], travel.distances_km[a.index][b.index]
    km = haversine_km(a, b) * travel.road_factor
    return km / travel.speed_kmh * 60, km


# ------------------------------------------------------------------- helpers


def _fmt(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _close(reported: float, expected: float, absolute: float) -> bool:
    return abs(reported - expected) <= absolute + RELATIVE_TOLERANCE * abs(expected)


def _overlap_min(intervals: Sequence[tuple[datetime, datetime]], start: datetime,
                 end: datetime) -> float:
    return sum(max(0.0, _minutes(min(e, end), max(s, start))) for s, e in intervals)


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


class _Report:
    """Collects violations; one place to build them keeps call sites short."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, rule: str, message: str, *, appointment: str | None = None,
            technician: str | None = None) -> None:
        assert rule in RULES, rule
        self.violations.append(Violation(rule, message, appointment, technician))


# ---------------------------------------------------------------- the checks


def validate_plan(request: PlanRequest, plan: Plan) -> list[Violation]:
    """Every hard-rule breach of ``plan`` against ``request`` (empty list = valid)."""
    report = _Report()
    if plan.status == "infeasible_request":
        if plan.routes:
            report.add("status", "an infeasible_request plan must not contain routes")
        if not plan.error:
            report.add("status", "an infeasible_request plan must say what is wrong in 'error'")
        return report.violations
    _check_ids(request, plan, report)
    technicians = {t.id: t for t in request.technicians}
    seen_shifts: set[tuple[str, int]] = set()
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for route in plan.routes:
        if not all(_is_aware(t) for t in _route_times(route)):
            report.add("naive_datetime", "a departure, return, stop or break time has no UTC "
                       "offset; its times cannot be checked", technician=route.technician_id)
            continue
        tech = technicians.get(route.technician_id)
        if tech is None:
            report.add("unknown_technician", f"route for unknown technician "
                       f"{route.technician_id!r}", technician=route.technician_id)
            continue
        if not 0 <= route.shift_index < len(tech.shifts):
            report.add("shift_index", f"shift_index {route.shift_index} but the technician has "
                       f"{len(tech.shifts)} shift(s)", technician=tech.id)
            continue
        if (tech.id, route.shift_index) in seen_shifts:
            report.add("duplicate_route", f"second route for shift {route.shift_index}",
                       technician=tech.id)
        seen_shifts.add((tech.id, route.shift_index))
        _check_route(request, tech, route, report)
        spans[tech.id].append((route.departure, route.return_))
    for tech_id, tech_spans in spans.items():
        ordered = sorted(tech_spans)
        for (_, first_end), (second_start, _) in zip(ordered, ordered[1:], strict=False):
            if second_start < first_end - TIME_TOLERANCE:
                report.add("route_overlap", f"a route starting {_fmt(second_start)} begins "
                           f"before the previous one returns at {_fmt(first_end)}",
                           technician=tech_id)
    _check_unassigned(request, plan, report)
    if not any(v.rule == "naive_datetime" for v in report.violations):
        _check_kpis(request, plan, report)  # KPIs need comparable (aware) times
    return report.violations


def assert_valid(request: PlanRequest, plan: Plan) -> None:
    """Raise ``AssertionError`` listing every violation (for tests and scripts)."""
    violations = validate_plan(request, plan)
    if violations:
        lines = "\n".join(f"  {v}" for v in violations)
        raise AssertionError(f"plan breaks {len(violations)} hard rule(s):\n{lines}")


def _check_ids(request: PlanRequest, plan: Plan, report: _Report) -> None:
    known = {a.id for a in request.appointments}
    mentioned = [s.appointment_id for r in plan.routes for s in r.stops] + \
        [u.appointment_id for u in plan.unassigned]
    counts = Counter(mentioned)
    for appointment_id, count in counts.items():
        if appointment_id not in known:
            report.add("unknown_appointment", f"{appointment_id!r} is not in the request",
                       appointment=appointment_id)
        elif count > 1:
            report.add("duplicate_appointment", f"appears {count} times in the plan",
                       appointment=appointment_id)
    for appointment in request.appointments:
        if appointment.id not in counts:
            report.add("missing_appointment", "neither in a route nor in unassigned",
                       appointment=appointment.id)


def _route_times(route: Route) -> list[datetime]:
    times = [route.departure, route.return_]
    times += [t for s in route.stops for t in (s.arrival, s.start, s.end)]
    times += [t for b in route.breaks for t in (b.start, b.end)]
    return times


def _check_route(request: PlanRequest, tech: Technician, route: Route,
                 report: _Report) -> None:
    """Check one route (its times are all aware)."""
    shift = tech.shifts[route.shift_index]
    appointments = {a.id: a for a in request.appointments}
    entitlements = {e.id: e for e in request.entitlements}
    breaks = merge_intervals((b.start, b.end) for b in route.breaks)
    for stop in route.stops:
        appointment = appointments.get(stop.appointment_id)
        if appointment is None:
            continue  # reported by _check_ids
        entitlement = entitlements.get(appointment.entitlement_id or "")
        _check_eligibility(tech, appointment, entitlement, stop.start, stop.end, report)
        _check_stop_times(appointment, stop.arrival, stop.start, stop.end, report, tech.id)
        _check_sla_figures(appointment, stop.start, stop.sla_met, stop.lateness_min, report)
    _check_chain(request, tech, shift, route, appointments, breaks, report)
    _check_breaks(shift, route, report, tech.id)
    _check_capacity(tech, route, appointments, report)


def _check_eligibility(tech: Technician, appointment: Appointment,
                       entitlement: Entitlement | None, start: datetime, end: datetime,
                       report: _Report) -> None:
    def add(rule: str, message: str) -> None:
        report.add(rule, message, appointment=appointment.id, technician=tech.id)

    floor = entitlement.min_skill_level if entitlement and entitlement.min_skill_level else 0
    for skill, level in appointment.required_skills.items():
        needed = max(level, floor)
        have = tech.skills.get(skill, 0)
        if have < needed:
            has = f"has {skill}={have}" if have else "does not have it"
            add("skill", f"requires {skill}>={needed}; the technician {has}")
    if entitlement is not None:
        if not entitlement.onsite:
            add("not_onsite", f"entitlement {entitlement.id} does not include onsite visits")
        calendar = BusinessCalendar.from_coverage(entitlement.coverage, entitlement.timezone)
        inner_start, inner_end = start + TIME_TOLERANCE, end - TIME_TOLERANCE
        if inner_end <= inner_start:
            inner_start = inner_end = start + (end - start) / 2
        if not calendar.contains(inner_start, inner_end):
            add("coverage", f"visit {_fmt(start)} to {_fmt(end)} is not inside one coverage "
                f"period of entitlement {entitlement.id} ({entitlement.timezone})")
        if entitlement.valid_until is not None and \
                start > entitlement.valid_until + TIME_TOLERANCE:
            add("entitlement_expired", f"starts {_fmt(start)}, after entitlement "
                f"{entitlement.id} expires at {_fmt(entitlement.valid_until)}")
        if entitlement.valid_from is not None and \
                start < entitlement.valid_from - TIME_TOLERANCE:
            add("entitlement_not_yet_valid", f"starts {_fmt(start)}, before entitlement "
                f"{entitlement.id} is valid from {_fmt(entitlement.valid_from)}")
        if entitlement.suspended is not None:
            add("entitlement_suspended",
                f"entitlement {entitlement.id} is suspended: {entitlement.suspended}")
    if appointment.territory is not None and tech.territories and \
            appointment.territory not in tech.territories:
        add("territory", f"territory {appointment.territory!r} is not among the "
            f"technician's {tech.territories}")
    if tech.id in appointment.excluded_technicians:
        add("excluded", "the technician is on the appointment's excluded list")
    if appointment.pinned_technician is not None and appointment.pinned_technician != tech.id:
        add("pinned", f"pinned to {appointment.pinned_technician} but scheduled for {tech.id}")


def _check_stop_times(appointment: Appointment, arrival: datetime, start: datetime,
                      end: datetime, report: _Report, tech_id: str) -> None:
    def add(rule: str, message: str) -> None:
        report.add(rule, message, appointment=appointment.id, technician=tech_id)

    if appointment.windows and not any(
            w.start - TIME_TOLERANCE <= start <= w.end + TIME_TOLERANCE
            for w in appointment.windows):
        windows = ", ".join(f"{_fmt(w.start)} to {_fmt(w.end)}" for w in appointment.windows)
        add("window", f"starts {_fmt(start)}, outside its window(s) {windows}")
    expected_end = start + timedelta(minutes=appointment.duration_min)
    if abs(end - expected_end) > TIME_TOLERANCE:
        add("duration", f"ends {_fmt(end)}; start + {appointment.duration_min:g} min is "
            f"{_fmt(expected_end)}")
    if start < arrival - TIME_TOLERANCE:
        add("start_before_arrival", f"starts {_fmt(start)} before arriving at {_fmt(arrival)}")


def _check_sla_figures(appointment: Appointment, start: datetime, sla_met: bool | None,
                       lateness_min: float, report: _Report) -> None:
    due = appointment.sla_due
    if due is None:
        if sla_met is False:
            report.add("sla_flag", "sla_met is false but the appointment has no sla_due",
                       appointment=appointment.id)
        expected_lateness = 0.0
    else:
        if sla_met is None:
            report.add("sla_flag", "sla_met is missing although the appointment has an sla_due",
                       appointment=appointment.id)
        elif sla_met and start > due + TIME_TOLERANCE:
            report.add("sla_flag", f"sla_met is true but the visit starts {_fmt(start)}, "
                       f"after sla_due {_fmt(due)}", appointment=appointment.id)
        elif not sla_met and start < due - TIME_TOLERANCE:
            report.add("sla_flag", f"sla_met is false but the visit starts {_fmt(start)}, "
                       f"before sla_due {_fmt(due)}", appointment=appointment.id)
        expected_lateness = max(0.0, _minutes(start, due))
    if not _close(lateness_min, expected_lateness, LEG_TOLERANCE_MIN):
        report.add("lateness_figure", f"lateness_min is {lateness_min:g}, expected "
                   f"{expected_lateness:.3f}", appointment=appointment.id)


def _check_chain(request: PlanRequest, tech: Technician, shift: Shift, route: Route,
                 appointments: dict[str, Appointment],
                 breaks: list[tuple[datetime, datetime]], report: _Report) -> None:
    """Departure, each leg (travel + breaks taken on the way), return, overtime, totals."""
    def add(rule: str, message: str, appointment: str | None = None) -> None:
        report.add(rule, message, appointment=appointment, technician=tech.id)

    if route.departure < shift.start - TIME_TOLERANCE:
        add("departure_before_shift", f"leaves {_fmt(route.departure)}, before the shift "
            f"starts at {_fmt(shift.start)}")
    latest_return = shift.end + timedelta(minutes=tech.max_overtime_min)
    if route.return_ > latest_return + TIME_TOLERANCE:
        add("late_return", f"returns {_fmt(route.return_)}, after shift end "
            f"{_fmt(shift.end)} + {tech.max_overtime_min:g} min overtime")
    expected_overtime = max(0.0, _minutes(route.return_, shift.end))
    if not _close(route.overtime_min, expected_overtime, LEG_TOLERANCE_MIN):
        add("overtime_figure", f"overtime_min is {route.overtime_min:g}, but returning "
            f"{_fmt(route.return_)} after a shift ending {_fmt(shift.end)} is "
            f"{expected_overtime:.3f} min")

    place, free_from = tech.start_location, route.departure
    total_min = total_km = 0.0
    legs = 0
    for stop in route.stops:
        appointment = appointments.get(stop.appointment_id)
        if appointment is None:
            continue
        leg_min, leg_km = reference_leg(request.travel, place, appointment.location)
        needed = leg_min + _overlap_min(breaks, free_from, stop.arrival)
        if _minutes(stop.arrival, free_from) < needed - TIME_TOLERANCE.total_seconds() / 60:
            add("travel_time", f"arrives {_fmt(stop.arrival)}, but leaving at "
                f"{_fmt(free_from)} it needs {needed:.2f} min (travel {leg_min:.2f} min plus "
                "breaks on the way)", appointment.id)
        if not (_close(stop.travel_min, leg_min, LEG_TOLERANCE_MIN)
                and _close(stop.distance_km, leg_km, LEG_TOLERANCE_KM)):
            add("stop_travel", f"reports {stop.travel_min:g} min / {stop.distance_km:g} km; "
                f"the leg is {leg_min:.3f} min / {leg_km:.4f} km", appointment.id)
        total_min, total_km, legs = total_min + leg_min, total_km + leg_km, legs + 1
        place, free_from = appointment.location, stop.end

    back_min, back_km = reference_leg(request.travel, place, tech.home_end)
    if route.stops:
        needed = back_min + _overlap_min(breaks, free_from, route.return_)
        if _minutes(route.return_, free_from) < needed - TIME_TOLERANCE.total_seconds() / 60:
            add("return_travel", f"returns {_fmt(route.return_)}, but the last visit ends "
                f"{_fmt(free_from)} and the way home takes {needed:.2f} min (with breaks)")
        totals = [(total_min + back_min, total_km + back_km)]
        legs += 1
    else:
        if route.return_ < route.departure - TIME_TOLERANCE:
            add("return_travel", f"returns {_fmt(route.return_)} before leaving at "
                f"{_fmt(route.departure)}")
        totals = [(0.0, 0.0), (back_min, back_km)]  # an unused day may or may not drive home
    if not any(_close(route.travel_min, m, legs * LEG_TOLERANCE_MIN + LEG_TOLERANCE_MIN)
               and _close(route.distance_km, k, legs * LEG_TOLERANCE_KM + LEG_TOLERANCE_KM)
               for m, k in totals):
        m, k = totals[-1] if route.stops else totals[0]
        add("route_travel", f"reports {route.travel_min:g} min / {route.distance_km:g} km; "
            f"the legs add up to {m:.3f} min / {k:.4f} km")
    for stop in route.stops:
        for start, end in breaks:
            if start < stop.end - TIME_TOLERANCE and end > stop.start + TIME_TOLERANCE:
                add("break_overlap", f"break {_fmt(start)} to {_fmt(end)} falls inside the "
                    f"visit {_fmt(stop.start)} to {_fmt(stop.end)}", stop.appointment_id)


def _check_breaks(shift: Shift, route: Route, report: _Report, tech_id: str) -> None:
    """Match the breaks taken one-to-one with the shift's breaks; explain any mismatch."""
    taken = sorted(route.breaks, key=lambda b: b.start)
    for first, second in zip(taken, taken[1:], strict=False):
        if second.start < first.end - TIME_TOLERANCE:
            report.add("break_overlap", f"breaks {_fmt(first.start)} and {_fmt(second.start)} "
                       "overlap", technician=tech_id)
    wanted = sorted(range(len(shift.breaks)), key=lambda j: shift.breaks[j].earliest_start)

    def fits(b: BreakTaken, j: int) -> bool:
        spec = shift.breaks[j]
        return (abs(_minutes(b.end, b.start) - spec.duration_min) * 60
                <= TIME_TOLERANCE.total_seconds()
                and b.start >= spec.earliest_start - TIME_TOLERANCE
                and b.end <= spec.latest_end + TIME_TOLERANCE)

    match_of_wanted: dict[int, int] = {}  # wanted break -> taken break (augmenting paths)

    def augment(i: int, visited: set[int]) -> bool:
        for j in wanted:
            if j not in visited and fits(taken[i], j):
                visited.add(j)
                if j not in match_of_wanted or augment(match_of_wanted[j], visited):
                    match_of_wanted[j] = i
                    return True
        return False

    if not route.stops and not route.breaks:
        return  # an unused shift: no work, so no break is owed
    unmatched_taken = [i for i in range(len(taken)) if not augment(i, set())]
    unmatched_wanted = [j for j in wanted if j not in match_of_wanted]
    for i, j in zip(unmatched_taken, unmatched_wanted, strict=False):
        b, spec = taken[i], shift.breaks[j]
        length = _minutes(b.end, b.start)
        if abs(length - spec.duration_min) * 60 > TIME_TOLERANCE.total_seconds():
            report.add("break_duration", f"break {_fmt(b.start)} lasts {length:g} min; the "
                       f"shift's break is {spec.duration_min:g} min", technician=tech_id)
        else:
            report.add("break_window", f"break {_fmt(b.start)} to {_fmt(b.end)} is not inside "
                       f"{_fmt(spec.earliest_start)} to {_fmt(spec.latest_end)}",
                       technician=tech_id)
    for i in unmatched_taken[len(unmatched_wanted):]:
        report.add("break_extra", f"break {_fmt(taken[i].start)} matches no break of the "
                   "shift", technician=tech_id)
    for j in unmatched_wanted[len(unmatched_taken):]:
        spec = shift.breaks[j]
        report.add("break_missing", f"the {spec.duration_min:g} min break between "
                   f"{_fmt(spec.earliest_start)} and {_fmt(spec.latest_end)} is not taken",
                   technician=tech_id)


def _check_capacity(tech: Technician, route: Route, appointments: dict[str, Appointment],
                    report: _Report) -> None:
    if tech.capacity is None:
        return
    load = sum(appointments[s.appointment_id].demand for s in route.stops
               if s.appointment_id in appointments)
    if load > tech.capacity + 1e-9:
        report.add("capacity", f"route demand {load:g} exceeds capacity {tech.capacity:g}",
                   technician=tech.id)


def _check_unassigned(request: PlanRequest, plan: Plan, report: _Report) -> None:
    """Reason codes must be known and not plainly false (e.g. 'excluded' with no exclusion).

    Only claims that are false whatever else holds are flagged: a reason may name
    any rule that blocks the appointment, not necessarily the first one.
    """
    appointments = {a.id: a for a in request.appointments}
    reasons = set(get_args(UnassignedReason))
    for item in plan.unassigned:
        if item.reason not in reasons:
            report.add("unassigned_reason", f"unknown reason {item.reason!r}",
                       appointment=item.appointment_id)
            continue
        if not item.detail.strip():
            report.add("unassigned_reason", "detail is empty; a dispatcher needs to know why",
                       appointment=item.appointment_id)
        appointment = appointments.get(item.appointment_id)
        if appointment is not None and _reason_is_false(request, appointment, item.reason):
            report.add("unassigned_reason", f"reason {item.reason!r} cannot be true for this "
                       "appointment", appointment=item.appointment_id)


def _reason_is_false(request: PlanRequest, appointment: Appointment, reason: str) -> bool:
    """True when ``reason`` plainly cannot hold. ``capacity`` ("could be done alone but
    did not fit with the others") is never refuted: it is about time as much as load."""
    entitlements = {e.id: e for e in request.entitlements}
    techs = request.technicians
    if reason == "no_skilled_technician":
        return any(_has_skills(t, appointment, entitlements) for t in techs)
    if reason == "not_entitled":
        entitlement = entitlements.get(appointment.entitlement_id or "")
        return entitlement is None or (entitlement.onsite and entitlement.coverage is None
                                       and entitlement.valid_until is None
                                       and entitlement.valid_from is None
                                       and entitlement.suspended is None)
    if reason == "territory":
        return appointment.territory is None or all(
            not t.territories or appointment.territory in t.territories for t in techs)
    if reason == "excluded":
        return not any(t.id in appointment.excluded_technicians for t in techs)
    if reason == "pinned_infeasible":
        return appointment.pinned_technician is None
    if reason == "window_unreachable":
        return _fits_alone(request, appointment, entitlements)
    return False


def _has_skills(tech: Technician, appointment: Appointment,
                entitlements: dict[str, Entitlement]) -> bool:
    entitlement = entitlements.get(appointment.entitlement_id or "")
    floor = entitlement.min_skill_level if entitlement and entitlement.min_skill_level else 0
    return all(tech.skills.get(skill, 0) >= max(level, floor)
               for skill, level in appointment.required_skills.items())


def _may_take(tech: Technician, appointment: Appointment,
              entitlements: dict[str, Entitlement]) -> bool:
    """The static rules: skills, territory, exclusion, pin, load."""
    return (_has_skills(tech, appointment, entitlements)
            and (appointment.territory is None or not tech.territories
                 or appointment.territory in tech.territories)
            and tech.id not in appointment.excluded_technicians
            and appointment.pinned_technician in (None, tech.id)
            and (tech.capacity is None or appointment.demand <= tech.capacity))


def _fits_alone(request: PlanRequest, appointment: Appointment,
                entitlements: dict[str, Entitlement]) -> bool:
    """True when some technician clearly could do this visit on an otherwise empty shift.

    Conservative, so that it only ever refutes a false ``window_unreachable``: a
    second of margin per leg (the model rounds travel up), shifts with more than one
    break are skipped, and a break must fit wholly before leaving or after returning.
    """
    entitlement = entitlements.get(appointment.entitlement_id or "")
    if entitlement is not None and (not entitlement.onsite or entitlement.suspended is not None
                                    or entitlement.valid_from is not None):
        return False
    calendar = None if entitlement is None else \
        BusinessCalendar.from_coverage(entitlement.coverage, entitlement.timezone)
    duration = timedelta(minutes=appointment.duration_min)
    for tech in request.technicians:
        if not _may_take(tech, appointment, entitlements):
            continue
        out = timedelta(minutes=reference_leg(request.travel, tech.start_location,
                                              appointment.location)[0]) + TIME_TOLERANCE
        back = timedelta(minutes=reference_leg(request.travel, appointment.location,
                                               tech.home_end)[0]) + TIME_TOLERANCE
        for work_shift in tech.shifts:
            if len(work_shift.breaks) > 1:
                continue
            lo = work_shift.start + out
            hi = work_shift.end + timedelta(minutes=tech.max_overtime_min) - back - duration
            spans = [(w.start, w.end) for w in appointment.windows] or [(lo, hi)]
            for span_start, span_end in spans:
                first, last = max(span_start, lo), min(span_end, hi)
                if last < first:
                    continue
                candidates = [first]
                if calendar is not None:
                    candidates += [s for s, _ in calendar.intervals(first, last + duration)]
                candidates += [b.earliest_start + timedelta(minutes=b.duration_min) + out
                               for b in work_shift.breaks]
                if any(first <= s <= last and _clear_visit(s, duration, out, back, work_shift,
                                                           calendar, entitlement)
                       for s in candidates):
                    return True
    return False


def _clear_visit(start: datetime, duration: timedelta, out: timedelta, back: timedelta,
                 work_shift: Shift, calendar: BusinessCalendar | None,
                 entitlement: Entitlement | None) -> bool:
    if calendar is not None and not calendar.contains(start, start + duration):
        return False
    if entitlement is not None and entitlement.valid_until is not None and \
            start > entitlement.valid_until:
        return False
    leave, home = start - out, start + duration + back
    for b in work_shift.breaks:
        length = timedelta(minutes=b.duration_min)
        if leave - b.earliest_start < length and b.latest_end - home < length:
            return False
    return True


def _check_kpis(request: PlanRequest, plan: Plan, report: _Report) -> None:
    if plan.kpis is None:
        return
    expected = compute_kpis(request, plan).model_dump()
    for name, value in plan.kpis.model_dump().items():
        want = expected[name]
        if isinstance(want, float):
            ok = _close(value, want, 1e-3 if name == "utilisation" else 0.01)
        else:
            ok = value == want
        if not ok:
            report.add("kpis", f"kpis.{name} is {value}, computed {want}")
