"""Who does a visit: preferred technicians (soft) and re-planning moves (soft).

OR-Tools has no per-(visit, vehicle) cost, but a dimension whose transit
depends on the vehicle adds up "the surcharge of each visit on this vehicle"
along the route; a soft upper bound of 0 with cost 1 on the route's end cumul
puts that sum in the objective. (A span cost would do the same but is folded
into the arc costs, one cost class per technician: with 100 technicians the
neighbour lists of local search then took 50 s to build.) One unary vector per
technician (its shifts share it), only when some visit has a preference or a
planned technician.
"""

from __future__ import annotations

from ortools.constraint_solver import pywrapcp

from optimiser.model.costs import cost_weights
from optimiser.model.nodes import ModelNodes
from optimiser.problem import Problem

TECHNICIAN_COSTS = "technician_costs"


def surcharges(problem: Problem, nodes: ModelNodes, technician_id: str) -> list[int]:
    """Cost of each model node when done by ``technician_id``, in travel seconds (0 for depots).

    In travel seconds so that the first-solution constructor can add them to legs."""
    request = problem.request
    weights = cost_weights(request.options)
    costs = [0] * nodes.size
    for position, appointment in enumerate(nodes.appointments):
        visit = request.appointments[appointment]
        cost = 0
        if visit.preferred_technicians and technician_id not in visit.preferred_technicians:
            cost += weights.preferred_surcharge_s
        if visit.planned_technician is not None and visit.planned_technician != technician_id:
            cost += weights.move_surcharge_s
        costs[nodes.node_of(position)] = cost
    return costs


def add_technician_costs(routing: pywrapcp.RoutingModel, problem: Problem,
                         nodes: ModelNodes) -> int:
    """Register the surcharges; returns the largest total a plan can pay (for bounds)."""
    request = problem.request
    if not any(request.appointments[a].preferred_technicians or
               request.appointments[a].planned_technician for a in nodes.appointments):
        return 0
    weights = cost_weights(request.options)
    evaluators: dict[str, int] = {}
    worst = [0] * nodes.size
    for vehicle in problem.vehicles:
        if vehicle.technician_id not in evaluators:
            costs = [weights.surcharge_units(c)
                     for c in surcharges(problem, nodes, vehicle.technician_id)]
            worst = [max(a, b) for a, b in zip(worst, costs, strict=True)]
            evaluators[vehicle.technician_id] = routing.RegisterUnaryTransitVector(costs)
    capacity = sum(worst) + 1
    routing.AddDimensionWithVehicleTransits(
        [evaluators[v.technician_id] for v in problem.vehicles], 0, capacity, True,
        TECHNICIAN_COSTS)
    dimension = routing.GetDimensionOrDie(TECHNICIAN_COSTS)
    for vehicle in problem.vehicles:
        dimension.SetCumulVarSoftUpperBound(routing.End(vehicle.index), 0, 1)
    return sum(worst)
