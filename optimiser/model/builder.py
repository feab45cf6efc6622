"""Assemble the OR-Tools routing model of a compiled request, one rule at a time.

One vehicle per technician shift; travel time (seconds) is the arc cost; every
visit is optional with a priority-dependent drop penalty, restricted to the
vehicles eligibility allows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp

from optimiser.eligibility import Eligibility
from optimiser.model.capacity import add_capacity
from optimiser.model.costs import cost_weights
from optimiser.model.nodes import ModelNodes, make_manager, select_nodes
from optimiser.model.penalties import priority_penalties
from optimiser.model.technician_costs import add_technician_costs
from optimiser.model.time import (
    COST_TIME,
    add_breaks,
    add_overtime_costs,
    add_shift_bounds,
    add_start_costs,
    add_time_dimension,
    register_time_transit,
    restrict_visit_starts,
    soft_start_bounds,
)
from optimiser.problem import Problem


@dataclass
class BuiltModel:
    problem: Problem
    eligibility: list[Eligibility]
    nodes: ModelNodes
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    breaks: dict[int, list[pywrapcp.IntervalVar]]
    penalties: dict[int, int]
    penalty_mode: str
    cost_bound: int

    def index_of(self, position: int) -> int:
        """Routing index of the ``position``-th plannable appointment."""
        return self.manager.NodeToIndex(self.nodes.node_of(position))


def restrict_vehicles(routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager,
                      problem: Problem, nodes: ModelNodes,
                      eligibility: list[Eligibility]) -> None:
    """Only eligible vehicles (skills, territory, exclusions, pins, reach) may take a visit.

    Done on the vehicle variable's domain (-1 = unperformed stays allowed): the
    SWIG wrapper of ``SetAllowedVehiclesForIndex`` in OR-Tools 9.15 rejects every
    Python sequence (absl::Span argument), and the routing filters honour
    vehicle-variable domains the same way.
    """
    everyone = len(problem.vehicles)
    for position, appointment in enumerate(nodes.appointments):
        vehicles = list(eligibility[appointment].vehicles)
        if len(vehicles) < everyone:
            index = manager.NodeToIndex(nodes.node_of(position))
            routing.VehicleVar(index).SetValues([-1, *vehicles])


def cost_bound(problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility],
               technician_costs: int) -> int:
    """An upper bound on every non-penalty cost of any plan (travel, overtime, SLA, moves)."""
    weights = cost_weights(problem.request.options)
    bound = technician_costs
    for vehicle in problem.vehicles:
        bound += (vehicle.hard_end - vehicle.start) * weights.travel_per_s
        bound += (vehicle.hard_end - vehicle.end) * weights.overtime_per_s
    for appointment in nodes.appointments:
        intervals = eligibility[appointment].start_intervals
        upper, lower = soft_start_bounds(problem, appointment)
        if upper is not None:
            bound += upper[1] * max(0, intervals[-1][1] - upper[0])
        if lower is not None:
            bound += lower[1] * max(0, lower[0] - intervals[0][0])
    return bound


def route_capacity(problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility]) -> int:
    """The most visits one route could hold (by eligibility and by time)."""
    per_vehicle = Counter(v for a in nodes.appointments for v in eligibility[a].vehicles)
    shortest = max(int(nodes.service_s[nodes.num_depots:].min(initial=0)), 1)
    return max((min(count, (problem.vehicles[v].hard_end - problem.vehicles[v].start) // shortest
                    + 1) for v, count in per_vehicle.items()), default=0)


def add_disjunctions(routing: pywrapcp.RoutingModel, built_index, problem: Problem,
                     nodes: ModelNodes, penalties: dict[int, int]) -> None:
    for position, appointment in enumerate(nodes.appointments):
        priority = problem.request.appointments[appointment].priority
        routing.AddDisjunction([built_index(position)], penalties[priority])


def build_model(problem: Problem, eligibility: list[Eligibility]) -> BuiltModel:
    """The routing model for the plannable appointments of ``problem``."""
    nodes = select_nodes(problem, eligibility)
    manager = make_manager(problem, nodes)
    routing = pywrapcp.RoutingModel(manager)

    travel_cost = nodes.travel_s * cost_weights(problem.request.options).travel_per_s
    travel = routing.RegisterTransitMatrix(travel_cost.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(travel)
    transit = register_time_transit(routing, nodes)
    time = add_time_dimension(routing, problem, transit)
    add_shift_bounds(routing, time, problem)
    restrict_visit_starts(manager, time, nodes, eligibility)
    breaks = add_breaks(routing, manager, time, problem, nodes)
    costs = time
    if breaks:  # soft costs on a break-free twin clock (see optimiser.model.time)
        costs = add_time_dimension(routing, problem, transit, COST_TIME)
        add_shift_bounds(routing, costs, problem)
        restrict_visit_starts(manager, costs, nodes, eligibility)
    add_overtime_costs(routing, costs, problem, breaks_elsewhere=bool(breaks))
    add_start_costs(manager, costs, problem, nodes)
    add_capacity(routing, problem, nodes)
    technician_costs = add_technician_costs(routing, problem, nodes)
    restrict_vehicles(routing, manager, problem, nodes, eligibility)

    bound = cost_bound(problem, nodes, eligibility, technician_costs)
    counts = Counter(problem.request.appointments[a].priority for a in nodes.appointments)
    penalties, mode = priority_penalties(counts, bound,
                                         route_capacity(problem, nodes, eligibility))
    add_disjunctions(routing, lambda p: manager.NodeToIndex(nodes.node_of(p)), problem, nodes,
                     penalties)
    return BuiltModel(problem, eligibility, nodes, manager, routing, time, breaks, penalties,
                      mode, bound)
