"""Travel legs and ETAs along a technician's day, from the optimiser's own pieces.

Why here: the route view needs leg times and totals, and a status update from
the field needs the later stops' ETAs re-timed from "now". Both use
``optimiser.travel.build_travel`` (the one travel model) and the break
arithmetic of ``optimiser.slots`` (a break may fall mid-journey or in a wait),
so the numbers agree with the planner's. Pure: no database, no web.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from optimiser.schema import Appointment, Break, Location, PlanRequest, Shift, Technician, Travel
from optimiser.slots import arrive_after_breaks
from optimiser.travel import build_travel

Point = tuple[float, float]
Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Leg:
    travel_min: float
    distance_km: float


def legs(origin: Point, stops: Sequence[Point], home: Point | None,
         travel: Travel | None = None) -> list[Leg]:
    """Leg from ``origin`` to each stop in turn, then (when ``home``) back home."""
    travel = travel or Travel()
    anchor = datetime(2000, 1, 3, tzinfo=UTC)  # any instant: only the matrices are used
    request = PlanRequest.model_construct(
        technicians=[Technician.model_construct(
            id="route", start_location=_location(origin),
            end_location=_location(home if home is not None else origin),
            shifts=[Shift.model_construct(start=anchor, end=anchor + timedelta(days=1),
                                          breaks=[])])],
        entitlements=[],
        appointments=[Appointment.model_construct(id=str(k), location=_location(p))
                      for k, p in enumerate(stops)],
        travel=travel)
    matrices = build_travel(request)
    path = [matrices.technician_start[0], *matrices.appointment_point]
    if home is not None:
        path.append(matrices.technician_end[0])
    return [Leg(float(matrices.duration_min[a, b]), float(matrices.distance_km[a, b]))
            for a, b in zip(path, path[1:], strict=False)]


def _location(point: Point) -> Location:
    return Location.model_construct(lat=point[0], lon=point[1], index=None)


@dataclass(frozen=True)
class ChainStop:
    key: int
    location: Point
    duration_min: float
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Eta:
    key: int
    arrival: datetime
    start: datetime
    end: datetime
    late: bool
    """No booking window is still open at arrival (the visit starts after them all)."""


def _seconds_up(value: datetime) -> datetime:
    """Round up to the whole second (never promise earlier than the estimate)."""
    whole = value.replace(microsecond=0)
    return whole if whole == value else whole + timedelta(seconds=1)


def time_chain(*, leave_at: datetime, origin: Point, stops: Sequence[ChainStop],
               breaks: Sequence[Break] = (), travel: Travel | None = None) -> list[Eta]:
    """ETAs of ``stops`` in order when the technician leaves ``origin`` at ``leave_at``.

    Each visit starts at arrival, or at the opening of its first booking window
    still open then (waiting). A pending break (its ``latest_end`` after
    ``leave_at``) is taken on the first leg where it costs no delay (it fits
    in the wait) or where it must (after the next visit it could no longer
    start in time).
    """
    pending = sorted((b for b in breaks if b.latest_end > leave_at),
                     key=lambda b: b.earliest_start)
    specs = [(b.earliest_start.timestamp(),
              b.latest_end.timestamp() - b.duration_min * 60, b.duration_min * 60)
             for b in pending]
    route_legs = legs(origin, [s.location for s in stops], None, travel)
    cursor = leave_at.timestamp()
    found: list[Eta] = []
    for stop, leg in zip(stops, route_legs, strict=True):
        travel_s = leg.travel_min * 60
        plain = cursor + travel_s
        opening = _opening(stop.windows, plain)
        taken: list[tuple[float, float, float]] = []
        while specs:
            trial = [*taken, specs[0]]
            arrival, ok = arrive_after_breaks(cursor, travel_s, trial)
            no_delay = bool(ok) and float(arrival) <= max(plain, opening or plain)
            must = max(plain, opening or plain) + stop.duration_min * 60 > specs[0][1]
            if not (no_delay or must):
                break
            taken.append(specs.pop(0))
        arrival_s = float(arrive_after_breaks(cursor, travel_s, taken)[0])
        arrival = datetime.fromtimestamp(arrival_s, UTC)
        opening = _opening(stop.windows, arrival_s)
        start = arrival if opening is None else max(arrival,
                                                    datetime.fromtimestamp(opening, UTC))
        late = bool(stop.windows) and opening is None
        start = _seconds_up(start)
        end = start + timedelta(minutes=stop.duration_min)
        found.append(Eta(stop.key, _seconds_up(arrival), start, end, late))
        cursor = end.timestamp()
    return found


def _opening(windows: Sequence[Window], arrival_s: float) -> float | None:
    """Start of the first window whose end is not before ``arrival_s`` (None: all past)."""
    open_starts = [s.timestamp() for s, e in windows if e.timestamp() >= arrival_s]
    return min(open_starts) if open_starts else None

