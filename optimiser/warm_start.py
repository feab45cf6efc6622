"""In-day re-planning: the first plan starts from the published routes.

Why: on a live day most visits are already dispatched (``planned_technician``,
``planned_start``); the re-plan should change as little as it must. A first
plan built from scratch ignores the published order and timing, and on a full
day the local search barely moves away from its first plan: measured on the
260-visit demo day, a 30 s re-plan after one emergency reassigned 24 visits.

So each vehicle (technician shift) gets back its published route: the visits
planned for that technician whose ``planned_start`` falls in that shift, in
``planned_start`` order. A visit no longer allowed on that vehicle (eligibility)
or that the route cannot fit any more (forward simulation of
``optimiser.construct``) is left out of it. Every visit not placed that way
(new, emergency, or dropped above) is then inserted by the same greedy
cheapest insertion as the normal first plan; the local search runs from there.
"""

from __future__ import annotations

from optimiser.construct import BREAK, Constructor, RouteState
from optimiser.eligibility import Eligibility
from optimiser.model.nodes import ModelNodes
from optimiser.problem import Problem


def has_published_plan(problem: Problem, nodes: ModelNodes) -> bool:
    """True when some plannable visit carries a planned technician.

    A planned technician without a start still goes through this first plan (the
    visit is then inserted greedily, its move cost counted): on the demo day with
    every visit's technician planned, OR-Tools' parallel cheapest insertion found
    no first plan at all (routing status FAIL, OR-Tools 9.15).
    """
    request = problem.request
    return any(request.appointments[a].planned_technician is not None
               for a in nodes.appointments)


def _append_in_order(constructor: Constructor, route: RouteState, node: int) -> bool:
    """Put ``node`` after the route's last visit (before or between the breaks still to
    come, earliest feasible place first); False when it fits nowhere there."""
    sequence = route.sequence
    last_visit = max((i for i, item in enumerate(sequence) if item > BREAK), default=-1)
    for position in range(last_visit + 1, len(sequence) + 1):
        trial = sequence[:position] + [node] + sequence[position:]
        if constructor.feasible(route, trial):
            route.sequence = trial
            route.load += constructor.demand[node]
            return True
    return False


def published_routes(problem: Problem, nodes: ModelNodes,
                     eligibility: list[Eligibility]) -> list[list[int]]:
    """Initial routes (model nodes per vehicle): the published plan, repaired, completed."""
    request = problem.request
    constructor = Constructor(problem, nodes, eligibility)
    # Published visits of each vehicle, in planned order.
    planned: dict[int, list[tuple[int, int]]] = {}
    for position, appointment in enumerate(nodes.appointments):
        visit = request.appointments[appointment]
        if visit.planned_technician is None or visit.planned_start is None:
            continue
        start = problem.timebase.offset_s(visit.planned_start)
        allowed = eligibility[appointment].vehicles
        for vehicle in problem.vehicles_of(visit.planned_technician):
            if vehicle.start <= start <= vehicle.hard_end:
                if vehicle.index in allowed:
                    planned.setdefault(vehicle.index, []).append(
                        (start, nodes.node_of(position)))
                break
    for vehicle_index, visits in planned.items():
        route = constructor.routes[vehicle_index]
        for _, node in sorted(visits):
            capacity_ok = (route.capacity is None or
                           route.load + constructor.demand[node] <= route.capacity)
            if capacity_ok:
                _append_in_order(constructor, route, node)
    return constructor.build(eligibility)
