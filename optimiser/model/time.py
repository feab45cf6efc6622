"""The time dimension and every rule on it: visit starts, SLA, shifts, overtime, breaks.

Time is integer seconds after the request's origin (see ``timebase``). The
transit of an arc i -> j is the visit length at i plus the travel i -> j, so a
node's cumul is the START of its visit. Slack is waiting (or a break).

Two clocks when a request has breaks. OR-Tools schedules a route that has BOTH
break intervals and soft cumul costs with a mixed-integer solver per route and
per move: measured here (25 technicians x 150 visits) 5,000 moves/s instead of
100,000. So with breaks the rules are split over two dimensions with the same
transits, shift bounds and allowed starts:

- ``time`` (the true clock): hard rules and breaks; the plan's times come from it;
- ``cost_time``: the same without breaks, carrying the soft costs (SLA lateness,
  overtime, re-planning drift). Its clock can run ahead of the true one by the
  breaks taken on the way, so overtime there is charged from the shift end minus
  the shift's break time. Costs are therefore estimates within a break's length;
  every hard rule is still exact, and the plan reports true lateness and overtime.
"""

from __future__ import annotations

from ortools.constraint_solver import pywrapcp

from optimiser.eligibility import Eligibility
from optimiser.intervals import gaps
from optimiser.model.costs import cost_weights
from optimiser.model.nodes import ModelNodes
from optimiser.problem import Problem

TIME = "time"
COST_TIME = "cost_time"


def register_time_transit(routing: pywrapcp.RoutingModel, nodes: ModelNodes) -> int:
    """Service-plus-travel transits registered as one matrix (no Python callback per arc)."""
    transit = nodes.travel_s + nodes.service_s[:, None]
    return routing.RegisterTransitMatrix(transit.tolist())


def add_time_dimension(routing: pywrapcp.RoutingModel, problem: Problem, evaluator: int,
                       name: str = TIME) -> pywrapcp.RoutingDimension:
    horizon = max(problem.horizon, 1)
    routing.AddDimension(evaluator, horizon, horizon, False, name)
    return routing.GetDimensionOrDie(name)


def add_shift_bounds(routing: pywrapcp.RoutingModel, time: pywrapcp.RoutingDimension,
                     problem: Problem) -> None:
    """Leave no earlier than the shift start; be back by shift end + maximum overtime."""
    for vehicle in problem.vehicles:
        time.CumulVar(routing.Start(vehicle.index)).SetRange(vehicle.start, vehicle.hard_end)
        time.CumulVar(routing.End(vehicle.index)).SetRange(vehicle.start, vehicle.hard_end)


def add_overtime_costs(routing: pywrapcp.RoutingModel, time: pywrapcp.RoutingDimension,
                       problem: Problem, *, breaks_elsewhere: bool = False) -> None:
    """Returning after the shift end is allowed (up to the hard end) but costs.

    ``breaks_elsewhere``: ``time`` is the break-free cost clock, so the shift's
    break time is taken off the free span (see the module doc).
    """
    cost_per_s = cost_weights(problem.request.options).overtime_per_s
    for vehicle in problem.vehicles:
        if vehicle.hard_end > vehicle.end and cost_per_s > 0:
            free_until = vehicle.end
            if breaks_elsewhere:
                taken = sum(b.duration for b in vehicle.breaks)
                free_until = max(vehicle.start, vehicle.end - taken)
            time.SetCumulVarSoftUpperBound(routing.End(vehicle.index), free_until,
                                           cost_per_s)


def restrict_visit_starts(manager: pywrapcp.RoutingIndexManager,
                          time: pywrapcp.RoutingDimension, nodes: ModelNodes,
                          eligibility: list[Eligibility]) -> None:
    """Allowed start intervals as the cumul range, the holes between them removed."""
    for position, appointment in enumerate(nodes.appointments):
        intervals = eligibility[appointment].start_intervals
        cumul = time.CumulVar(manager.NodeToIndex(nodes.node_of(position)))
        cumul.SetRange(intervals[0][0], intervals[-1][1])
        for lo, hi in gaps(intervals):
            cumul.RemoveInterval(lo, hi)


def soft_start_bounds(problem: Problem, appointment: int) -> tuple[
        tuple[int, int] | None, tuple[int, int] | None]:
    """(upper, lower) soft bounds on a visit's start as (bound, cost per second).

    The upper bound is the SLA due time; with re-planning also ``planned_start``
    plus the tolerance. OR-Tools keeps one soft upper bound per node, so when
    both exist the earlier wins, with the larger cost (an approximation).
    """
    request = problem.request
    weights = cost_weights(request.options)
    visit = request.appointments[appointment]
    upper: tuple[int, int] | None = None
    lower: tuple[int, int] | None = None
    if visit.sla_due is not None and weights.sla_per_s[visit.priority] > 0:
        upper = (problem.timebase.not_after(visit.sla_due), weights.sla_per_s[visit.priority])
    if visit.planned_start is not None and weights.drift_per_s > 0:
        tolerance = int(request.options.shift_tolerance_min * 60)
        planned = problem.timebase.not_after(visit.planned_start)
        lower = (max(planned - tolerance, 0), weights.drift_per_s)
        late = (planned + tolerance, weights.drift_per_s)
        upper = late if upper is None else (min(upper[0], late[0]), max(upper[1], late[1]))
    return upper, lower


def add_start_costs(manager: pywrapcp.RoutingIndexManager, time: pywrapcp.RoutingDimension,
                    problem: Problem, nodes: ModelNodes) -> None:
    """SLA lateness (by priority) and re-planning drift as soft cumul bounds."""
    for position, appointment in enumerate(nodes.appointments):
        upper, lower = soft_start_bounds(problem, appointment)
        index = manager.NodeToIndex(nodes.node_of(position))
        if upper is not None:
            time.SetCumulVarSoftUpperBound(index, max(upper[0], 0), upper[1])
        if lower is not None and lower[0] > 0:
            time.SetCumulVarSoftLowerBound(index, lower[0], lower[1])


def add_breaks(routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager,
               time: pywrapcp.RoutingDimension, problem: Problem,
               nodes: ModelNodes) -> dict[int, list[pywrapcp.IntervalVar]]:
    """Hard breaks as interval variables; visit lengths as node visit transits.

    With the visit length declared as the node's visit transit, a break may fall
    in travel or waiting time but never inside a visit.
    """
    solver = routing.solver()
    visit_transits = [0] * routing.Size()
    for index in range(routing.Size()):
        if routing.IsStart(index):
            continue
        visit_transits[index] = int(nodes.service_s[manager.IndexToNode(index)])
    breaks: dict[int, list[pywrapcp.IntervalVar]] = {}
    for vehicle in problem.vehicles:
        if not vehicle.usable:
            continue
        intervals = [
            solver.FixedDurationIntervalVar(b.start_min, b.start_max, b.duration, False,
                                            f"break {vehicle.index}.{k}")
            for k, b in enumerate(vehicle.breaks) if b.duration > 0
        ]
        if not intervals:
            continue
        time.SetBreakIntervalsOfVehicle(intervals, vehicle.index, visit_transits)
        for interval in intervals:
            routing.AddIntervalToAssignment(interval)
        breaks[vehicle.index] = intervals
    return breaks
