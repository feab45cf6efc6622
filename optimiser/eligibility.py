"""Who may take each appointment, and when, decided BEFORE any search.

For every appointment this module computes the vehicles (technician shifts) that
may do it and the allowed START times of the visit, so the routing model never
has to discover a hard rule by search. When no vehicle is left, the reason is
decided here, in words a dispatcher understands.

Precedence of reasons (first failing check wins; each stage narrows the
candidates of the next):

1. ``not_entitled``: the contract forbids the visit whoever goes (no on-site
   cover, expired before any possible start, no window inside coverage).
2. ``pinned_infeasible``: a pinned appointment whose technician fails any of
   the checks below; the detail names the check.
3. ``no_skilled_technician``: nobody has every required skill at the required
   level (levels raised to the entitlement's ``min_skill_level``).
4. ``territory``: skilled technicians exist but none works in the territory.
5. ``excluded``: every remaining technician is excluded by the appointment.
6. ``capacity``: the appointment's demand exceeds every remaining capacity.
7. ``window_unreachable``: no remaining shift can do the visit even alone in
   an empty day (leave at shift start, travel, start inside an allowed
   interval, come back by shift end + overtime, breaks kept).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from optimiser.calendars import BusinessCalendar
from optimiser.intervals import IntInterval, clip, intersect, normalise, overlaps
from optimiser.problem import BreakSpec, Problem, Vehicle
from optimiser.schema import Appointment, Entitlement, Technician

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Blocked:
    """Why an appointment cannot be planned at all (an ``unassigned`` entry)."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Eligibility:
    appointment: int
    vehicles: tuple[int, ...]
    """Vehicles that may take the visit (each can do it alone in its empty day)."""
    start_intervals: tuple[IntInterval, ...]
    """Allowed visit starts (seconds): windows, coverage, expiry, reachable shifts."""
    blocked: Blocked | None = None

    @property
    def plannable(self) -> bool:
        return self.blocked is None


# ------------------------------------------------------------------- wording


def format_instant(instant: datetime) -> str:
    offset = instant.utcoffset()
    zone = "UTC" if not offset else instant.strftime("%z")
    if zone not in ("UTC",):
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{instant.strftime('%Y-%m-%d %H:%M')} {zone}"


def describe_coverage(entitlement: Entitlement) -> str:
    """Coverage in a dispatcher's words, e.g. ``Mon-Fri 08:00-18:00 Europe/London``."""
    if entitlement.coverage is None:
        return f"24x7 {entitlement.timezone}"
    parts = []
    for period in entitlement.coverage:
        days = sorted({WEEKDAY_KEYS.index(d) for d in period.days})
        runs: list[list[int]] = []
        for day in days:
            if runs and day == runs[-1][-1] + 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        names = ",".join(
            DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}"
            for r in runs)
        parts.append(f"{names} {period.from_}-{period.to}")
    return f"{'; '.join(parts)} {entitlement.timezone}"


def required_levels(appointment: Appointment, entitlement: Entitlement | None) -> dict[str, int]:
    """Required skill levels, each raised to the entitlement's ``min_skill_level`` floor."""
    floor = entitlement.min_skill_level if entitlement and entitlement.min_skill_level else 1
    return {skill: max(level, floor) for skill, level in appointment.required_skills.items()}


def _skill_text(levels: dict[str, int]) -> str:
    return " and ".join(f"{skill}>={level}" for skill, level in sorted(levels.items()))


def _missing_skills(tech: Technician, levels: dict[str, int]) -> dict[str, int]:
    return {s: lvl for s, lvl in levels.items() if tech.skills.get(s, 0) < lvl}


def _names(techs: list[Technician], limit: int = 5) -> str:
    ids = [t.id for t in techs]
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# ------------------------------------------------------- appointment level


def _describe_intervals(problem: Problem, intervals: list[IntInterval], limit: int = 2) -> str:
    parts = []
    for lo, hi in intervals[:limit]:
        start, end = problem.timebase.instant(lo), problem.timebase.instant(hi)
        if start.date() == end.date():
            parts.append(f"{format_instant(start)[:-4]}-{end.strftime('%H:%M')} UTC")
        else:
            parts.append(f"{format_instant(start)} to {format_instant(end)}")
    more = f" and {len(intervals) - limit} more" if len(intervals) > limit else ""
    return ", ".join(parts) + more


def _base_intervals(problem: Problem, appointment: Appointment) -> list[IntInterval]:
    """Start times the appointment itself allows: its windows, or the whole horizon."""
    tb = problem.timebase
    if appointment.windows:
        return normalise((tb.not_before(w.start), tb.not_after(w.end))
                         for w in appointment.windows)
    if not problem.vehicles:
        return [(0, 0)]
    return [(min(v.start for v in problem.vehicles), problem.horizon)]


def contract_intervals(problem: Problem, index: int) -> tuple[list[IntInterval], Blocked | None]:
    """Allowed starts after the contract (entitlement) rules, or why there are none."""
    appointment = problem.request.appointments[index]
    base = _base_intervals(problem, appointment)
    if appointment.entitlement_id is None:
        return base, None
    entitlement = next(e for e in problem.request.entitlements
                       if e.id == appointment.entitlement_id)
    if not entitlement.onsite:
        return [], Blocked("not_entitled", f"entitlement {entitlement.id} has no on-site cover")
    if entitlement.suspended is not None:
        return [], Blocked("not_entitled",
                           f"entitlement {entitlement.id} is suspended: {entitlement.suspended}")
    tb = problem.timebase
    allowed = base
    if entitlement.valid_from is not None:
        first_start = tb.not_before(entitlement.valid_from)
        if first_start > base[-1][1]:
            return [], Blocked(
                "not_entitled",
                f"entitlement {entitlement.id} is valid only from "
                f"{format_instant(entitlement.valid_from)}, after the latest possible start "
                f"{format_instant(tb.instant(base[-1][1]))}")
        allowed = clip(allowed, first_start, base[-1][1])
    if entitlement.valid_until is not None:
        last_start = tb.not_before(entitlement.valid_until) - 1
        if last_start < base[0][0]:
            return [], Blocked(
                "not_entitled",
                f"entitlement {entitlement.id} expired on "
                f"{format_instant(entitlement.valid_until)}, before the earliest possible start "
                f"{format_instant(tb.instant(base[0][0]))}")
        allowed = clip(allowed, base[0][0], last_start)
    if entitlement.coverage is not None:
        calendar = BusinessCalendar.from_coverage(entitlement.coverage, entitlement.timezone)
        duration = problem.service[index]
        open_periods = calendar.intervals(tb.instant(base[0][0] - 1),
                                          tb.instant(base[-1][1] + duration + 1))
        raw = normalise((tb.not_before(s), tb.not_after(e)) for s, e in open_periods)
        starts = normalise((lo, hi - duration) for lo, hi in raw)
        covered = intersect(allowed, starts)
        if not covered:
            what = "no window" if appointment.windows else "no time in the planning horizon"
            if not intersect(base, raw):
                detail = (f"{what} overlaps the contract's coverage "
                          f"({describe_coverage(entitlement)})")
            elif intersect(base, starts):
                detail = (f"entitlement {entitlement.id} expires on "
                          f"{format_instant(entitlement.valid_until)}, before any start its "
                          f"coverage ({describe_coverage(entitlement)}) allows")
            else:
                detail = (f"{what} lets the {appointment.duration_min:g}-min visit lie wholly "
                          f"inside the contract's coverage ({describe_coverage(entitlement)})")
            return [], Blocked("not_entitled", detail)
        allowed = covered
    return allowed, None


# --------------------------------------------------------- one vehicle, alone


def _earliest_start_after(start: int, breaks: list[BreakSpec], travel: int) -> int | None:
    """Earliest visit start when ``breaks`` are taken before it (travel fills the gaps)."""
    if not breaks:
        return start + travel
    best: int | None = None
    for order in itertools.permutations(breaks) if len(breaks) <= 4 else [
            sorted(breaks, key=lambda b: b.start_min)]:
        cursor = start
        for brk in order:
            begin = max(cursor, brk.start_min)
            if begin > brk.start_max:
                break
            cursor = begin + brk.duration
        else:
            candidate = max(cursor, start + travel + sum(b.duration for b in breaks))
            best = candidate if best is None else min(best, candidate)
    return best


def _latest_end_before(end: int, breaks: list[BreakSpec], travel: int) -> int | None:
    """Latest visit end when ``breaks`` are taken after it (travel back fills the gaps)."""
    if not breaks:
        return end - travel
    best: int | None = None
    for order in itertools.permutations(breaks) if len(breaks) <= 4 else [
            sorted(breaks, key=lambda b: -b.start_max)]:
        cursor = end
        for brk in order:
            begin = min(cursor - brk.duration, brk.start_max)
            if begin < brk.start_min:
                break
            cursor = begin
        else:
            candidate = min(cursor, end - travel - sum(b.duration for b in breaks))
            best = candidate if best is None else max(best, candidate)
    return best


def alone_start_intervals(vehicle: Vehicle, travel_in: int, travel_out: int, duration: int,
                          allowed: list[IntInterval]) -> list[IntInterval]:
    """Starts at which ``vehicle`` could do the visit as its only stop, breaks kept.

    The technician leaves no earlier than the shift start, may wait, and is back
    by shift end + overtime; each break is taken before or after the visit (never
    inside it), travel may be split around it, as OR-Tools' break model does.
    """
    if not vehicle.usable or not allowed:
        return []
    low = vehicle.start + travel_in
    high = vehicle.hard_end - travel_out - duration
    if low > high or not overlaps(allowed, low, high):
        return []
    if not vehicle.breaks:
        return clip(allowed, low, high)
    found: list[IntInterval] = []
    breaks = list(vehicle.breaks)
    for mask in range(1 << len(breaks)):
        before = [b for i, b in enumerate(breaks) if not mask >> i & 1]
        after = [b for i, b in enumerate(breaks) if mask >> i & 1]
        s_min = _earliest_start_after(vehicle.start, before, travel_in)
        e_max = _latest_end_before(vehicle.hard_end, after, travel_out)
        if s_min is None or e_max is None or s_min > e_max - duration:
            continue
        found.extend(clip(allowed, s_min, e_max - duration))
    return normalise(found)


# ------------------------------------------------------------- the funnel


def _reach(problem: Problem, vehicle: Vehicle, index: int,
           allowed: list[IntInterval]) -> list[IntInterval]:
    travel = problem.travel.duration_s
    point = problem.travel.appointment_point[index]
    return alone_start_intervals(vehicle, int(travel[vehicle.start_point, point]),
                                 int(travel[point, vehicle.end_point]),
                                 problem.service[index], allowed)


def _unreachable_detail(problem: Problem, index: int, vehicles: list[Vehicle],
                        allowed: list[IntInterval]) -> str:
    duration = problem.service[index]
    if not any(overlaps(allowed, v.start, v.hard_end - duration) for v in vehicles):
        return (f"its allowed start times ({_describe_intervals(problem, allowed)}) fall outside "
                f"every eligible technician's shifts")
    travel = problem.travel.duration_min
    point = problem.travel.appointment_point[index]
    nearest = min(vehicles, key=lambda v: travel[v.start_point, point])
    return (f"no eligible technician can get there inside its allowed start times "
            f"({_describe_intervals(problem, allowed)}) and be back by shift end plus allowed "
            f"overtime with breaks kept (nearest: {nearest.technician_id}, "
            f"{travel[nearest.start_point, point]:.0f} min away)")


def _pinned(problem: Problem, index: int, levels: dict[str, int],
            allowed: list[IntInterval]) -> Eligibility:
    appointment = problem.request.appointments[index]
    tech = next(t for t in problem.request.technicians if t.id == appointment.pinned_technician)

    def blocked(why: str) -> Eligibility:
        return Eligibility(index, (), (), Blocked("pinned_infeasible",
                                                  f"pinned technician {tech.id} {why}"))

    missing = _missing_skills(tech, levels)
    if missing:
        return blocked(f"lacks {_skill_text(missing)}")
    if appointment.territory and tech.territories and appointment.territory not in tech.territories:
        return blocked(f"does not work in territory {appointment.territory!r}")
    if tech.id in appointment.excluded_technicians:
        return blocked("is excluded by the appointment")
    if tech.capacity is not None and appointment.demand > tech.capacity:
        return blocked(f"has capacity {tech.capacity:g}, below the demand {appointment.demand:g}")
    return _with_time(problem, index, problem.vehicles_of(tech.id), allowed, pinned=tech)


def _with_time(problem: Problem, index: int, vehicles: list[Vehicle],
               allowed: list[IntInterval], pinned: Technician | None = None) -> Eligibility:
    chosen: list[int] = []
    domain: list[IntInterval] = []
    for vehicle in vehicles:
        reach = _reach(problem, vehicle, index, allowed)
        if reach:
            chosen.append(vehicle.index)
            domain.extend(reach)
    if not chosen:
        detail = _unreachable_detail(problem, index, vehicles, allowed) if vehicles else \
            "no technician has a shift"
        if pinned is not None:
            return Eligibility(index, (), (), Blocked(
                "pinned_infeasible", f"pinned technician {pinned.id} cannot do it: {detail}"))
        return Eligibility(index, (), (), Blocked("window_unreachable", detail))
    return Eligibility(index, tuple(chosen), tuple(normalise(domain)))


def assess_appointment(problem: Problem, index: int) -> Eligibility:
    """Eligible vehicles and allowed starts of appointment ``index`` (see module doc)."""
    request = problem.request
    appointment = request.appointments[index]
    allowed, blocked = contract_intervals(problem, index)
    if blocked is not None:
        return Eligibility(index, (), (), blocked)
    entitlement = next((e for e in request.entitlements if e.id == appointment.entitlement_id),
                       None)
    levels = required_levels(appointment, entitlement)
    if appointment.pinned_technician is not None:
        return _pinned(problem, index, levels, allowed)

    techs = list(request.technicians)
    if not techs:
        return Eligibility(index, (), (), Blocked("no_skilled_technician",
                                                  "the request has no technicians"))
    skilled = [t for t in techs if not _missing_skills(t, levels)]
    if not skilled:
        return Eligibility(index, (), (), Blocked("no_skilled_technician",
                                                  _skills_detail(techs, levels, entitlement,
                                                                 appointment)))
    territory = appointment.territory
    local = [t for t in skilled if not territory or not t.territories or territory in t.territories]
    if not local:
        return Eligibility(index, (), (), Blocked(
            "territory", f"only technicians in territory {territory!r} may go; none of the "
                         f"{len(skilled)} skilled technician(s) ({_names(skilled)}) works there"))
    allowed_techs = [t for t in local if t.id not in appointment.excluded_technicians]
    if not allowed_techs:
        return Eligibility(index, (), (), Blocked(
            "excluded", f"every technician who could go is excluded ({_names(local)})"))
    loaded = [t for t in allowed_techs if t.capacity is None or appointment.demand <= t.capacity]
    if not loaded:
        largest = max(allowed_techs, key=lambda t: t.capacity or 0)
        return Eligibility(index, (), (), Blocked(
            "capacity", f"demand {appointment.demand:g} exceeds the capacity of every eligible "
                        f"technician (largest: {largest.capacity:g}, {largest.id})"))
    ids = {t.id for t in loaded}
    vehicles = [v for v in problem.vehicles if v.technician_id in ids]
    return _with_time(problem, index, vehicles, allowed)


def _skills_detail(techs: list[Technician], levels: dict[str, int],
                   entitlement: Entitlement | None, appointment: Appointment) -> str:
    raised = ""
    if entitlement and entitlement.min_skill_level and any(
            lvl < entitlement.min_skill_level for lvl in appointment.required_skills.values()):
        raised = (f" (entitlement {entitlement.id} raises every level to at least "
                  f"{entitlement.min_skill_level})")
    unmet = []
    for skill, level in sorted(levels.items()):
        best = max((t.skills.get(skill, 0) for t in techs), default=0)
        if best < level:
            unmet.append(f"requires {skill}>={level}; "
                         + (f"best available level is {best}" if best else
                            f"no technician has {skill}"))
    if unmet:
        return "; ".join(unmet) + raised
    return f"requires {_skill_text(levels)}; no technician has all of them{raised}"


def assess(problem: Problem) -> list[Eligibility]:
    """Eligibility of every appointment, in request order."""
    return [assess_appointment(problem, i) for i in range(problem.num_appointments)]
