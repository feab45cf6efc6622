"""Slot offering: graded arrival windows for one new visit, around the committed work.

Why: a customer booking online, or an agent on the phone, needs "which two-hour
windows can we promise over the next days, and which is best for us?" in well
under a second, without re-planning the territory. We answer it the way
dispatch systems do (Salesforce ``getSlots``, Timefold recommendations): try
the new visit in every gap of every eligible technician-shift's CURRENT route
(cheapest insertion), keep the committed visits where they are (they may only
be pushed later within their own rules), and grade what fits.

Feasibility (hard, never relaxed):

- who and when in principle: ``optimiser.eligibility`` (skills and levels incl.
  the entitlement floor, territory, excluded technicians, capacity, on-site
  cover, coverage hours, contract expiry, the draft's own windows, shifts);
- the insertion: the technician leaves the previous stop (or home at shift
  start), travels, starts the visit inside an allowed interval and still
  reaches the next stop in time. "In time" for a committed visit means: not
  later than its allowed interval (windows, coverage, expiry), not more than
  ``existing_delay_min`` after its planned start, and not past its ``sla_due``
  if it met it before. Breaks stay hard (taken between visits, travel may be
  split around them, as the solver does) and the shift end holds (overtime
  only when ``allow_overtime``). A committed visit the route already runs late
  for (e.g. a plan made with other travel times) is not delayed at all. Route
  capacity holds.

Grading (lower cost is better; ``SlotWeights``): added travel, SLA fit
(lateness weighted by priority; a window that runs past the deadline is "at
risk"), not being one of the preferred technicians, the shift's load after the
insertion (spreads work over days and people), and how far in the future the
window starts. ``grade`` rescales the cost to 0-100 over the offer (100 = best).

Simplifications, on the safe side (a slot offered is always feasible; a few
feasible ones may be missed): committed visits keep their order and never move
earlier; each break stays in the leg where the committed route takes it (the
new visit may go before or after it); a technician whose leg started before
``not_before`` is taken to leave its previous stop no earlier than planned.

Everything is in whole seconds on the compiled problem's clock
(``optimiser.problem``), so the offer agrees with the solver to the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from optimiser.eligibility import Blocked, assess_appointment, contract_intervals
from optimiser.problem import BreakSpec, Problem, Vehicle, compile_problem
from optimiser.schema import Appointment, Plan, PlanRequest

BIG = 2**50
"""Stands for +/- infinity in second arithmetic (fits int64 with room to add)."""

PRIORITY_FACTOR: dict[int, float] = {1: 4.0, 2: 2.0, 3: 1.0, 4: 0.5, 5: 0.25}
"""Cost of a minute of SLA lateness by priority, relative to a minute of travel."""

SlaFit = Literal["met", "at_risk", "missed", "none"]


# ------------------------------------------------------------------ options


@dataclass(frozen=True)
class SlotWeights:
    """Cost of each grading criterion, in equivalent minutes of travel."""

    travel_per_min: float = 1.0
    sla_late_per_min: float = 1.0
    """Per minute the planned start is after ``sla_due``, times ``PRIORITY_FACTOR``."""
    sla_at_risk: float = 15.0
    """Flat cost when the visit is planned in time but the window runs past ``sla_due``."""
    not_preferred: float = 30.0
    """When the draft names preferred technicians and this one is not among them."""
    load: float = 60.0
    """Times the shift's load after the insertion (busy minutes / available minutes)."""
    wait_per_day: float = 10.0
    """Per day between ``not_before`` and the window start (ASAP)."""


@dataclass(frozen=True)
class SlotOptions:
    """How to cut and grade the offer. ``not_before`` is "now" plus any lead time."""

    not_before: datetime
    horizon_days: int = 5
    """Calendar days offered, counted from the local day of ``not_before``."""
    slot_min: int = 120
    """Length of an arrival window."""
    step_min: int | None = None
    """Distance between window starts (default ``slot_min``: back to back)."""
    timezone: str | None = None
    """Zone whose local midnight the windows are aligned to (default: the draft's
    entitlement's zone, else UTC)."""
    allow_overtime: bool = False
    """Let the new visit use the technician's ``max_overtime_min`` (default: no)."""
    existing_delay_min: float | None = None
    """How far a committed visit may be pushed past its planned start (default:
    the request's ``options.shift_tolerance_min``)."""
    per_window: int = 1
    """How many technicians to offer per window (best first)."""
    limit: int | None = None
    """At most this many slots (best first); None = all."""
    weights: SlotWeights = field(default_factory=SlotWeights)

    def __post_init__(self) -> None:
        if self.not_before.tzinfo is None or self.not_before.utcoffset() is None:
            raise ValueError("not_before must carry a UTC offset")
        if not 1 <= self.horizon_days <= 62:
            raise ValueError("horizon_days must be between 1 and 62")
        if not 5 <= self.slot_min <= 24 * 60:
            raise ValueError("slot_min must be between 5 and 1440 minutes")
        if self.step_min is not None and not 5 <= self.step_min <= 24 * 60:
            raise ValueError("step_min must be between 5 and 1440 minutes")
        if self.existing_delay_min is not None and self.existing_delay_min < 0:
            raise ValueError("existing_delay_min must not be negative")
        if self.per_window < 1:
            raise ValueError("per_window must be at least 1")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.timezone is not None:
            ZoneInfo(self.timezone)  # raises for an unknown zone


# ------------------------------------------------------------------- result


@dataclass(frozen=True)
class Slot:
    """One arrival window offered, with the technician (shift) it would go to."""

    start: datetime
    end: datetime
    technician_id: str
    shift_index: int
    planned_start: datetime
    """Earliest feasible start of the visit in ``[start, end)`` at the chosen insertion."""
    insert_after: str | None
    """Committed visit just before (None: first visit of the shift)."""
    insert_before: str | None
    """Committed visit just after (None: last visit of the shift)."""
    travel_added_min: float
    distance_added_km: float
    sla: SlaFit
    lateness_min: float
    preferred: bool
    load: float
    """Shift load after the insertion: busy minutes / available minutes."""
    cost: float
    grade: int


@dataclass(frozen=True)
class SlotOffer:
    slots: list[Slot]
    blocked: Blocked | None = None
    """Why nobody can ever take the visit (eligibility's reason), if so."""
    routes_considered: int = 0


# ------------------------------------------------------- breaks on one leg

Columns = Sequence[tuple]
"""Breaks of a leg in order, each ``(start_min, start_max, duration)``: ints or arrays."""


def arrive_after_breaks(depart, travel, breaks: Columns):
    """Earliest arrival after leaving at ``depart`` and taking ``breaks`` on the way.

    Travel fills the time around the breaks (a break may fall mid-journey or in
    a wait). Works on ints and on numpy arrays alike. Returns ``(arrival, ok)``;
    ``ok`` is False where a break could no longer start in time.
    """
    cursor = depart
    ok = np.ones(np.shape(depart), dtype=bool)
    total = 0
    for start_min, start_max, duration in breaks:
        begin = np.maximum(cursor, start_min)
        ok = ok & (begin <= start_max)
        cursor = begin + duration
        total = total + duration
    return np.maximum(depart + travel + total, cursor), ok


def leave_before_breaks(arrive_by, travel, breaks: Columns):
    """Latest departure that still arrives by ``arrive_by`` with ``breaks`` taken on the way.

    Mirror of :func:`arrive_after_breaks`. Returns ``(latest_departure, ok)``;
    ``ok`` is False where a break cannot fit at all.
    """
    cursor = arrive_by
    ok = np.ones(np.shape(arrive_by), dtype=bool)
    total = 0
    for start_min, start_max, duration in reversed(list(breaks)):
        begin = np.minimum(cursor - duration, start_max)
        ok = ok & (begin >= start_min)
        cursor = begin
        total = total + duration
    return np.minimum(arrive_by - travel - total, cursor), ok


def _as_columns(breaks: Sequence[BreakSpec]) -> list[tuple[int, int, int]]:
    return [(b.start_min, b.start_max, b.duration) for b in breaks]


# ------------------------------------------------------ committed routes


@dataclass
class CommittedRoute:
    """One vehicle's committed visits, timed, with each leg's slack for an insertion.

    Nodes are: home (shift start), the visits in order, home (end). Leg ``j``
    runs from node ``j`` to node ``j + 1``.
    """

    vehicle: Vehicle
    appointments: list[int]
    points: list[int]
    starts: list[int]
    """Start of each node (node 0: shift start; last: arrival home)."""
    departs: list[int]
    """Departure from each node but the last (end of the visit; shift start for home)."""
    latest: list[int]
    """Latest start of each node keeping every later node's rules (never before its
    committed start; the return home may keep an existing lateness, not add to it)."""
    leg_breaks: list[list[BreakSpec]]
    busy_s: int
    demand: float

    @property
    def available_s(self) -> int:
        return max(1, self.vehicle.end - self.vehicle.start - sum(b.duration for b in
                                                                   self.vehicle.breaks))


def _vehicle_for(vehicles: list[Vehicle], start: int) -> Vehicle | None:
    """The shift that holds ``start`` (committed work outside shifts is ignored)."""
    for vehicle in vehicles:
        if vehicle.start <= start <= vehicle.hard_end:
            return vehicle
    return None


def committed_visits(problem: Problem, plan: Plan | None) -> dict[int, list[tuple[int, int]]]:
    """Per vehicle, ``(planned start, appointment index)`` of its committed visits, in order.

    From ``plan`` when given (its routes' stops), else from the appointments'
    ``planned_technician`` / ``planned_start``.
    """
    request = problem.request
    index_of = {a.id: i for i, a in enumerate(request.appointments)}
    of_technician: dict[str, list[Vehicle]] = {}
    for vehicle in problem.vehicles:
        of_technician.setdefault(vehicle.technician_id, []).append(vehicle)
    by_vehicle: dict[int, list[tuple[int, int]]] = {}
    if plan is not None:
        for route in plan.routes:
            vehicles = [v for v in of_technician.get(route.technician_id, [])
                        if v.shift_index == route.shift_index]
            if not vehicles:
                continue
            for stop in route.stops:
                if stop.appointment_id in index_of:
                    by_vehicle.setdefault(vehicles[0].index, []).append(
                        (problem.timebase.not_before(stop.start), index_of[stop.appointment_id]))
    else:
        for i, appointment in enumerate(request.appointments):
            if appointment.planned_technician is None or appointment.planned_start is None:
                continue
            start = problem.timebase.not_before(appointment.planned_start)
            vehicle = _vehicle_for(of_technician.get(appointment.planned_technician, []), start)
            if vehicle is not None:
                by_vehicle.setdefault(vehicle.index, []).append((start, i))
    for visits in by_vehicle.values():
        visits.sort()
    return by_vehicle


class _OwnLatest:
    """Latest start a committed visit's own rules allow (cached per rule set)."""

    def __init__(self, problem: Problem, delay_s: int) -> None:
        self.problem = problem
        self.delay_s = delay_s
        self._allowed: dict[tuple, list[tuple[int, int]]] = {}

    def allowed(self, index: int) -> list[tuple[int, int]]:
        appointment = self.problem.request.appointments[index]
        key = (tuple((w.start, w.end) for w in appointment.windows),
               appointment.entitlement_id, self.problem.service[index])
        if key not in self._allowed:
            intervals, blocked = contract_intervals(self.problem, index)
            self._allowed[key] = [] if blocked is not None else list(intervals)
        return self._allowed[key]

    def __call__(self, index: int, floor: int) -> int:
        """Never before ``floor`` (the committed start): a visit already outside its
        rules there may not be delayed at all."""
        appointment = self.problem.request.appointments[index]
        latest = floor + self.delay_s
        inside = [hi for lo, hi in self.allowed(index) if lo <= floor <= hi]
        latest = min(latest, inside[0]) if inside else floor
        if appointment.sla_due is not None:
            due = self.problem.timebase.not_after(appointment.sla_due)
            if floor <= due:
                latest = min(latest, due)
        return max(latest, floor)


def _place_breaks(vehicle: Vehicle, visits: list[tuple[int, int]], problem: Problem,
                  points: list[int]) -> tuple[list[list[BreakSpec]], list[int]]:
    """Assign each break to a leg (first leg where it fits without delaying the
    next visit, or the last leg it can still start in) and time the route."""
    travel = problem.travel.duration_s
    pending = sorted(vehicle.breaks, key=lambda b: (b.start_min, b.start_max))
    legs: list[list[BreakSpec]] = []
    starts = [vehicle.start]
    depart = vehicle.start
    for j in range(len(visits) + 1):
        leg_travel = int(travel[points[j], points[j + 1]])
        placed: list[BreakSpec] = []
        last_leg = j == len(visits)
        while pending:
            trial = [*placed, pending[0]]
            arrival, ok = arrive_after_breaks(depart, leg_travel, _as_columns(trial))
            if last_leg:
                fits = True
            else:
                floor, index = visits[j]
                next_end = floor + problem.service[index]
                fits = (bool(ok) and arrival <= floor) or next_end > pending[0].start_max
            if not fits:
                break
            placed.append(pending.pop(0))
        arrival, _ = arrive_after_breaks(depart, leg_travel, _as_columns(placed))
        legs.append(placed)
        start = int(arrival) if last_leg else max(visits[j][0], int(arrival))
        starts.append(start)
        if not last_leg:
            depart = start + problem.service[visits[j][1]]
    return legs, starts


def time_route(problem: Problem, vehicle: Vehicle, visits: list[tuple[int, int]],
               own_latest: _OwnLatest, allow_overtime: bool) -> CommittedRoute:
    """Time one vehicle's committed visits and compute each node's latest start."""
    travel = problem.travel.duration_s
    indices = [i for _, i in visits]
    points = [vehicle.start_point, *(problem.travel.appointment_point[i] for i in indices),
              vehicle.end_point]
    legs, starts = _place_breaks(vehicle, visits, problem, points)
    service = [0, *(problem.service[i] for i in indices), 0]
    departs = [starts[k] + service[k] for k in range(len(points) - 1)]
    end_limit = vehicle.hard_end if allow_overtime else vehicle.end
    latest = [0] * len(points)
    latest[-1] = max(end_limit, starts[-1])
    for j in range(len(points) - 2, -1, -1):
        leave, ok = leave_before_breaks(latest[j + 1], int(travel[points[j], points[j + 1]]),
                                        _as_columns(legs[j]))
        by_route = int(leave) - service[j] if bool(ok) else -BIG
        if j == 0:
            latest[j] = by_route
            continue
        floor = visits[j - 1][0]
        # A visit the committed route already runs late for keeps no slack: any
        # insertion before it is refused (its start may not move past its floor).
        latest[j] = max(min(own_latest(indices[j - 1], floor), by_route), floor)
    busy = sum(service) + sum(int(travel[points[k], points[k + 1]])
                              for k in range(len(points) - 1))
    demand = sum(problem.request.appointments[i].demand for i in indices)
    return CommittedRoute(vehicle, indices, points, starts, departs, latest, legs, busy, demand)


# ----------------------------------------------------------- the index


@dataclass
class _Legs:
    """Every insertion gap of every committed route, as flat arrays."""

    vehicle: np.ndarray
    route: np.ndarray
    position: np.ndarray
    depart: np.ndarray
    next_latest: np.ndarray
    from_point: np.ndarray
    to_point: np.ndarray
    insertable: np.ndarray
    break_min: np.ndarray
    break_max: np.ndarray
    break_duration: np.ndarray

    def take(self, mask: np.ndarray) -> _Legs:
        return _Legs(**{name: getattr(self, name)[mask] for name in self.__dataclass_fields__})


class SlotIndex:
    """The committed work of a territory, queried for one or many drafts.

    Build it once per change of the committed work (an agent trying several
    drafts reuses it). A technician-shift's route is timed the first time a
    draft could go to it and kept; :meth:`offer` then costs one travel row
    set, the eligibility of the draft and a few vectorised passes. Give
    ``draft`` when the index serves one draft only: the request is then
    compiled once, with the draft in it.
    """

    def __init__(self, request: PlanRequest, options: SlotOptions, plan: Plan | None = None,
                 draft: Appointment | None = None):
        self.request = request
        self.options = options
        self._draft = draft
        self.problem = compile_problem(self._with(draft) if draft is not None else request)
        delay_min = (request.options.shift_tolerance_min if options.existing_delay_min is None
                     else options.existing_delay_min)
        self._own_latest = _OwnLatest(self.problem, round(delay_min * 60))
        self._visits = committed_visits(self.problem, plan)
        self._routes: dict[int, CommittedRoute] = {}

    def _with(self, draft: Appointment) -> PlanRequest:
        """The request with ``draft`` appended (checked like a request's appointment)."""
        request = self.request
        if any(a.id == draft.id for a in request.appointments):
            raise ValueError(f"draft id {draft.id!r} is already an appointment of the request")
        if draft.entitlement_id is not None and \
                draft.entitlement_id not in {e.id for e in request.entitlements}:
            raise ValueError(f"draft.entitlement_id: unknown entitlement {draft.entitlement_id!r}")
        if draft.pinned_technician is not None and \
                draft.pinned_technician not in {t.id for t in request.technicians}:
            raise ValueError(f"draft.pinned_technician: unknown technician "
                             f"{draft.pinned_technician!r}")
        # The draft is not committed work, whatever planned fields it carries.
        draft = draft.model_copy(update={"planned_technician": None, "planned_start": None})
        return request.model_copy(update={"appointments": [*request.appointments, draft]})

    def route(self, vehicle: int) -> CommittedRoute:
        """The committed route of ``vehicle``, timed on first use."""
        if vehicle not in self._routes:
            self._routes[vehicle] = time_route(
                self.problem, self.problem.vehicles[vehicle], self._visits.get(vehicle, []),
                self._own_latest, self.options.allow_overtime)
        return self._routes[vehicle]

    def _flatten(self, routes: list[CommittedRoute], not_before: int) -> _Legs:
        rows: list[tuple] = []
        width = max([1, *(len(b) for r in routes for b in r.leg_breaks)])
        brk_min, brk_max, brk_dur = [], [], []
        for k, route in enumerate(routes):
            last = len(route.points) - 2
            for j in range(len(route.points) - 1):
                to_start = route.starts[j + 1]
                insertable = j == last or to_start >= not_before
                rows.append((route.vehicle.index, k, j, route.departs[j], route.latest[j + 1],
                             route.points[j], route.points[j + 1], insertable))
                cols = _as_columns(route.leg_breaks[j])
                cols += [(-BIG, BIG, 0)] * (width - len(cols))
                brk_min.append([c[0] for c in cols])
                brk_max.append([c[1] for c in cols])
                brk_dur.append([c[2] for c in cols])
        columns = list(zip(*rows, strict=True)) if rows else [()] * 8
        ints = [np.asarray(c, dtype=np.int64) for c in columns[:7]]
        return _Legs(*ints, np.asarray(columns[7], dtype=bool),
                     np.asarray(brk_min, dtype=np.int64).reshape(-1, width),
                     np.asarray(brk_max, dtype=np.int64).reshape(-1, width),
                     np.asarray(brk_dur, dtype=np.int64).reshape(-1, width))

    # ------------------------------------------------------------ query

    def offer(self, draft: Appointment,
              windows: Sequence[tuple[datetime, datetime]] | None = None) -> SlotOffer:
        """Graded slots for ``draft`` (best first), or why there are none.

        ``windows`` replaces the regular grid with given arrival windows (e.g. to
        re-check one chosen window when booking); like the grid's they are
        half-open ``[start, end)``, sorted, and none may lie inside another.
        """
        request = self.request
        problem = self.problem if draft is self._draft else compile_problem(self._with(draft))
        index = len(request.appointments)
        eligibility = assess_appointment(problem, index)
        if eligibility.blocked is not None:
            return SlotOffer([], eligibility.blocked, 0)
        grid = self._grid(problem, draft) if windows is None else \
            self._given_windows(problem, windows)
        horizon_end = int(grid[1][-1]) if len(grid[1]) else 0
        not_before = problem.timebase.not_before(self.options.not_before)
        vehicles = [v for v in eligibility.vehicles if problem.vehicles[v].usable
                    and problem.vehicles[v].start < horizon_end
                    and problem.vehicles[v].hard_end >= not_before
                    and self._fits_capacity(v, draft)]
        routes = [self.route(v) for v in vehicles]
        legs = self._flatten(routes, not_before)
        legs = legs.take(legs.insertable)
        candidates = self._insertions(problem, index, legs,
                                      np.asarray(eligibility.start_intervals, dtype=np.int64))
        slots = self._windows(problem, draft, candidates, routes, *grid)
        return SlotOffer(slots, None, len(vehicles))

    def _fits_capacity(self, vehicle: int, draft: Appointment) -> bool:
        tech = self.request.technicians[self.problem.vehicles[vehicle].technician]
        if tech.capacity is None:
            return True
        return self.route(vehicle).demand + draft.demand <= tech.capacity + 1e-9

    def _given_windows(self, problem: Problem, windows: Sequence[tuple[datetime, datetime]]
                       ) -> tuple[np.ndarray, np.ndarray]:
        tb = problem.timebase
        pairs = sorted((tb.not_before(s), tb.not_before(e)) for s, e in windows)
        for (_, end_before), (_, end_after) in zip(pairs, pairs[1:], strict=False):
            if end_after < end_before:
                raise ValueError("windows: one window lies strictly inside another")
        if any(e <= s for s, e in pairs):
            raise ValueError("windows: each window must end after it starts")
        return (np.asarray([p[0] for p in pairs], dtype=np.int64),
                np.asarray([p[1] for p in pairs], dtype=np.int64))

    def _grid(self, problem: Problem, draft: Appointment) -> tuple[np.ndarray, np.ndarray]:
        """Window starts and (exclusive) ends in seconds, aligned to local midnight."""
        options = self.options
        zone_name = options.timezone
        if zone_name is None and draft.entitlement_id is not None:
            zone_name = next(e.timezone for e in self.request.entitlements
                             if e.id == draft.entitlement_id)
        zone = ZoneInfo(zone_name or "UTC")
        step = timedelta(minutes=options.step_min or options.slot_min)
        first: date = options.not_before.astimezone(zone).date()
        tb = problem.timebase
        starts: list[int] = []
        for day in range(options.horizon_days):
            midnight = datetime.combine(first + timedelta(days=day), time(0), tzinfo=zone)
            next_midnight = datetime.combine(first + timedelta(days=day + 1), time(0),
                                             tzinfo=zone)
            moment = midnight
            while moment < next_midnight:
                # Wall-clock steps: "08:00-10:00" stays 08:00 local across DST changes.
                starts.append(tb.not_before(moment))
                moment = (moment.replace(tzinfo=None) + step).replace(tzinfo=zone)
        grid = np.unique(np.asarray(starts, dtype=np.int64))
        grid = grid[grid >= tb.not_before(options.not_before)]
        return grid, grid + options.slot_min * 60

    def _insertions(self, problem: Problem, index: int, legs: _Legs,
                    allowed: np.ndarray) -> dict[str, np.ndarray]:
        """Feasible start intervals of the draft in every gap (one row per gap,
        break split and allowed interval)."""
        point = problem.travel.appointment_point[index]
        duration = problem.service[index]
        travel_s = problem.travel.duration_s
        distance = problem.travel.distance_km
        t_in = travel_s[legs.from_point, point]
        t_out = travel_s[point, legs.to_point]
        added_s = t_in + t_out - travel_s[legs.from_point, legs.to_point]
        added_km = (distance[legs.from_point, point] + distance[point, legs.to_point]
                    - distance[legs.from_point, legs.to_point])
        not_before = problem.timebase.not_before(self.options.not_before)
        width = legs.break_min.shape[1]
        columns = [(legs.break_min[:, c], legs.break_max[:, c], legs.break_duration[:, c])
                   for c in range(width)]
        parts: list[dict[str, np.ndarray]] = []
        for split in range(width + 1):
            arrival, ok_before = arrive_after_breaks(legs.depart, t_in, columns[:split])
            leave, ok_after = leave_before_breaks(legs.next_latest, t_out, columns[split:])
            lo = np.maximum(arrival, not_before)
            hi = leave - duration
            keep = ok_before & ok_after & (lo <= hi)
            if not keep.any() or not len(allowed):
                continue
            rows = np.flatnonzero(keep)
            lo, hi = lo[rows], hi[rows]
            first = np.searchsorted(allowed[:, 1], lo, side="left")
            stop = np.searchsorted(allowed[:, 0], hi, side="right")
            count = np.maximum(stop - first, 0)
            pick = np.repeat(rows, count)
            which = np.repeat(first, count) + _ranks(count)
            piece_lo = np.maximum(np.repeat(lo, count), allowed[which, 0])
            piece_hi = np.minimum(np.repeat(hi, count), allowed[which, 1])
            good = piece_lo <= piece_hi
            parts.append({"leg": pick[good], "lo": piece_lo[good], "hi": piece_hi[good]})
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return {"leg": empty, "lo": empty, "hi": empty, "added_s": empty,
                    "added_km": np.zeros(0), "legs": legs}
        merged = {key: np.concatenate([p[key] for p in parts]) for key in ("leg", "lo", "hi")}
        merged["added_s"] = added_s[merged["leg"]]
        merged["added_km"] = added_km[merged["leg"]]
        merged["legs"] = legs
        return merged

    def _windows(self, problem: Problem, draft: Appointment, found: dict,
                 routes: list[CommittedRoute], grid: np.ndarray, grid_end: np.ndarray
                 ) -> list[Slot]:
        """Cut feasible intervals into windows, cost each (window, vehicle), keep the best."""
        options, weights, tb = self.options, self.options.weights, problem.timebase
        lo, hi = found["lo"], found["hi"]
        if not len(lo) or not len(grid):
            return []
        # Window [w, end): the visit starts at or after w and before end. Starts
        # and ends are both ascending, so each interval meets a run of windows.
        first = np.searchsorted(grid_end, lo, side="right")
        stop = np.searchsorted(grid, hi, side="right")
        count = np.maximum(stop - first, 0)
        row = np.repeat(np.arange(len(lo)), count)
        window = np.repeat(first, count) + _ranks(count)
        window_start, window_end = grid[window], grid_end[window]
        start = np.maximum(lo[row], window_start)

        legs: _Legs = found["legs"]
        leg = found["leg"][row]
        route_index = legs.route[leg]
        added_s = found["added_s"][row]
        busy = np.asarray([r.busy_s for r in routes], dtype=np.int64)[route_index]
        available = np.asarray([r.available_s for r in routes], dtype=np.int64)[route_index]
        load = (busy + problem.service[len(self.request.appointments)] + added_s) / available
        tech_ids = np.asarray([r.vehicle.technician_id for r in routes])[route_index]
        preferred = np.isin(tech_ids, draft.preferred_technicians)

        cost = weights.travel_per_min * added_s / 60.0 + weights.load * load
        cost += weights.wait_per_day * (window_start - tb.not_before(options.not_before)) / 86400
        if draft.preferred_technicians:
            cost += np.where(preferred, 0.0, weights.not_preferred)
        lateness = np.zeros(len(start))
        at_risk = np.zeros(len(start), dtype=bool)
        if draft.sla_due is not None:
            due = tb.not_after(draft.sla_due)
            lateness = np.maximum(start - due, 0) / 60.0
            at_risk = (start <= due) & (window_end > due)
            cost += weights.sla_late_per_min * PRIORITY_FACTOR[draft.priority] * lateness
            cost += np.where(at_risk, weights.sla_at_risk, 0.0)

        # Best row per (window, technician), then the best technicians per window.
        order = np.lexsort((tech_ids, start, cost, window))
        window_o, tech_o = window[order], tech_ids[order]
        new_pair = np.ones(len(order), dtype=bool)
        new_pair[1:] = (window_o[1:] != window_o[:-1]) | (tech_o[1:] != tech_o[:-1])
        best = order[new_pair]
        best = best[np.lexsort((tech_ids[best], cost[best], window[best]))]
        rank = _ranks_within(window[best])
        best = best[rank < options.per_window]
        best = best[np.lexsort((tech_ids[best], window_start[best], cost[best]))]
        if options.limit is not None:
            best = best[: options.limit]
        if not len(best):
            return []
        low, high = float(cost[best].min()), float(cost[best].max())
        spread = high - low
        slots: list[Slot] = []
        for r in best:
            route = routes[route_index[r]]
            position = int(legs.position[leg[r]])
            due_fit: SlaFit = "none"
            if draft.sla_due is not None:
                due_fit = "missed" if lateness[r] > 0 else "at_risk" if at_risk[r] else "met"
            appointments = self.request.appointments
            slots.append(Slot(
                start=tb.instant(int(window_start[r])),
                end=tb.instant(int(window_end[r])),
                technician_id=route.vehicle.technician_id,
                shift_index=route.vehicle.shift_index,
                planned_start=tb.instant(int(start[r])),
                insert_after=appointments[route.appointments[position - 1]].id
                if position > 0 else None,
                insert_before=appointments[route.appointments[position]].id
                if position < len(route.appointments) else None,
                travel_added_min=round(float(added_s[r]) / 60.0, 2),
                distance_added_km=round(float(found["added_km"][row[r]]), 3),
                sla=due_fit,
                lateness_min=round(float(lateness[r]), 2),
                preferred=bool(preferred[r]),
                load=round(float(load[r]), 4),
                cost=round(float(cost[r]), 3),
                grade=100 if spread <= 1e-9 else int(round(100 * (high - cost[r]) / spread)),
            ))
        return slots


def _ranks(count: np.ndarray) -> np.ndarray:
    """For counts ``[2, 3]`` the offsets ``[0, 1, 0, 1, 2]`` (position inside each repeat)."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(count) - count, count)
    return np.arange(total, dtype=np.int64) - starts


def _ranks_within(groups: np.ndarray) -> np.ndarray:
    """Position of each element inside its run of equal values (input grouped)."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    new = np.ones(len(groups), dtype=bool)
    new[1:] = groups[1:] != groups[:-1]
    run_start = np.maximum.accumulate(np.where(new, np.arange(len(groups)), 0))
    return np.arange(len(groups)) - run_start


def offer_slots(request: PlanRequest, draft: Appointment, options: SlotOptions,
                plan: Plan | None = None) -> SlotOffer:
    """Graded arrival windows for ``draft`` around the committed work of ``request``.

    Committed work is ``plan``'s routes when given, else the appointments'
    ``planned_technician`` / ``planned_start``. See the module doc for the rules.
    """
    return SlotIndex(request, options, plan, draft=draft).offer(draft)
