"""Read the routes of a routing solution back into the exchange format.

The model fixes each route's order, its breaks and a feasible start (integer
seconds) for every visit; the time optimiser may leave needless waiting before
a visit, since waiting costs nothing. Each start is therefore pulled EARLIER
where the rules allow (the technician is there, an allowed interval is open,
no break falls inside the visit, not before a re-planned visit's free band):
never later, so every later visit stays feasible and no soft cost grows.
Times are then recomputed in exact minutes: the technician leaves a stop when
the visit ends and drives, pausing for any break on the way, so the reported
arrival is never after the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp

from optimiser.intervals import IntInterval
from optimiser.model import BuiltModel
from optimiser.model.time import soft_start_bounds
from optimiser.problem import Vehicle
from optimiser.schema import BreakTaken, Route, Stop


@dataclass(frozen=True)
class RoutedVisit:
    appointment: int
    start_s: int


def route_indices(built: BuiltModel, solution: pywrapcp.Assignment, vehicle: int) -> list[int]:
    """Routing indices of the visits on ``vehicle``'s route, in order."""
    routing = built.routing
    indices = []
    index = solution.Value(routing.NextVar(routing.Start(vehicle)))
    while not routing.IsEnd(index):
        indices.append(index)
        index = solution.Value(routing.NextVar(index))
    return indices


def route_of(built: BuiltModel, solution: pywrapcp.Assignment, vehicle: int) -> list[RoutedVisit]:
    manager, time = built.manager, built.time
    return [RoutedVisit(built.nodes.appointments[manager.IndexToNode(index)
                                                 - built.nodes.num_depots],
                        solution.Min(time.CumulVar(index)))
            for index in route_indices(built, solution, vehicle)]


def breaks_of(built: BuiltModel, solution: pywrapcp.Assignment, vehicle: int) -> list[
        tuple[int, int]]:
    found = []
    for interval in built.breaks.get(vehicle, []):
        if solution.PerformedValue(interval):
            start = solution.StartValue(interval)
            found.append((start, start + solution.DurationValue(interval)))
    return sorted(found)


def drive(leave_s: float, travel_s: float, breaks: list[tuple[int, int]]) -> float:
    """Arrival time when leaving at ``leave_s``, pausing the drive for breaks on the way."""
    cursor, remaining = leave_s, travel_s
    for start, end in breaks:
        if end <= cursor:
            continue
        if start >= cursor + remaining:
            break
        remaining -= max(0.0, start - cursor)
        cursor = max(cursor, float(end))
    return cursor + remaining


def earliest_start(ready: int, latest: int, allowed: tuple[IntInterval, ...], duration: int,
                   breaks: list[tuple[int, int]]) -> int:
    """Earliest start in ``[ready, latest]`` inside ``allowed`` with no break inside the visit.

    ``latest`` (the model's start) is itself feasible and is the fallback.
    """
    candidates = sorted({ready, *(lo for lo, _ in allowed if lo > ready),
                         *(end for _, end in breaks if end > ready)})
    for start in candidates:
        if start >= latest:
            break
        inside = any(lo <= start <= hi for lo, hi in allowed)
        if inside and not any(b < start + duration and e > start for b, e in breaks):
            return start
    return latest


def build_route(built: BuiltModel, solution: pywrapcp.Assignment, vehicle: Vehicle) -> Route | None:
    visits = route_of(built, solution, vehicle.index)
    if not visits:
        return None
    problem = built.problem
    request, timebase, travel = problem.request, problem.timebase, problem.travel
    zone = vehicle.shift.start.tzinfo
    breaks = breaks_of(built, solution, vehicle.index)
    departure = float(solution.Min(built.time.CumulVar(built.routing.Start(vehicle.index))))
    first_start = visits[0].start_s
    departure = min(departure, float(first_start))

    stops: list[Stop] = []
    point, leave = vehicle.start_point, departure
    total_min = total_km = 0.0
    for visit in visits:
        appointment = request.appointments[visit.appointment]
        target = travel.appointment_point[visit.appointment]
        leg_min = float(travel.duration_min[point, target])
        leg_km = float(travel.distance_km[point, target])
        arrival = min(drive(leave, leg_min * 60, breaks), float(visit.start_s))
        ready = math.ceil(arrival - 1e-9)
        lower = soft_start_bounds(problem, visit.appointment)[1]
        if lower is not None:
            ready = max(ready, lower[0])
        start = float(earliest_start(
            ready, visit.start_s, built.eligibility[visit.appointment].start_intervals,
            problem.service[visit.appointment], breaks))
        end = start + appointment.duration_min * 60
        lateness = 0.0
        sla_met = None
        if appointment.sla_due is not None:
            lateness = max(0.0, (start - timebase.offset_s(appointment.sla_due)) / 60)
            sla_met = lateness <= 0
        stops.append(Stop(
            appointment_id=appointment.id,
            arrival=timebase.instant(arrival, zone), start=timebase.instant(start, zone),
            end=timebase.instant(end, zone), travel_min=leg_min, distance_km=leg_km,
            sla_met=sla_met, lateness_min=lateness))
        total_min += leg_min
        total_km += leg_km
        point, leave = target, end
    back_min = float(travel.duration_min[point, vehicle.end_point])
    total_min += back_min
    total_km += float(travel.distance_km[point, vehicle.end_point])
    returned = drive(leave, back_min * 60, breaks)
    overtime = max(0.0, (returned - timebase.offset_s(vehicle.shift.end)) / 60)
    return Route(
        technician_id=vehicle.technician_id, shift_index=vehicle.shift_index,
        departure=timebase.instant(departure, zone), return_=timebase.instant(returned, zone),
        stops=stops,
        breaks=[BreakTaken(start=timebase.instant(s, zone), end=timebase.instant(e, zone))
                for s, e in breaks],
        travel_min=total_min, distance_km=total_km, overtime_min=overtime)


def build_routes(built: BuiltModel, solution: pywrapcp.Assignment) -> list[Route]:
    routes = []
    for vehicle in built.problem.vehicles:
        route = build_route(built, solution, vehicle)
        if route is not None:
            routes.append(route)
    return routes


def assigned_appointments(built: BuiltModel, solution: pywrapcp.Assignment) -> set[int]:
    routing = built.routing
    found = set()
    for position in range(len(built.nodes.appointments)):
        index = built.index_of(position)
        if solution.Value(routing.NextVar(index)) != index:
            found.add(built.nodes.appointments[position])
    return found
