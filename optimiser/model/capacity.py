"""Load: a route's total demand must not exceed the technician's capacity (null = unlimited)."""

from __future__ import annotations

from ortools.constraint_solver import pywrapcp

from optimiser.model.nodes import ModelNodes
from optimiser.problem import Problem

LOAD = "load"


def load_scale(values: list[float]) -> int:
    """1 when every demand and capacity is whole, else 1000 (three decimals kept)."""
    return 1 if all(float(v).is_integer() for v in values) else 1000


def add_capacity(routing: pywrapcp.RoutingModel, problem: Problem,
                 nodes: ModelNodes) -> pywrapcp.RoutingDimension | None:
    """A load dimension, or None when no demand or no capacity makes it matter.

    Demands round UP and capacities DOWN after scaling, so the model is never
    more generous than the request.
    """
    request = problem.request
    demands = [request.appointments[a].demand for a in nodes.appointments]
    capacities = [request.technicians[v.technician].capacity for v in problem.vehicles]
    if not any(d > 0 for d in demands) or all(c is None for c in capacities):
        return None
    scale = load_scale(demands + [c for c in capacities if c is not None])
    per_node = [0] * nodes.num_depots + [-int(-d * scale // 1) for d in demands]
    unlimited = sum(per_node) + 1
    vehicle_caps = [unlimited if c is None else int(c * scale // 1) for c in capacities]
    evaluator = routing.RegisterUnaryTransitVector(per_node)
    routing.AddDimensionWithVehicleCapacity(evaluator, 0, vehicle_caps, True, LOAD)
    return routing.GetDimensionOrDie(LOAD)
