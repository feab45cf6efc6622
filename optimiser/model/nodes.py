"""Model nodes: the depots plus every plannable appointment, and the routing index manager.

Appointments blocked by eligibility never enter the model. Model node k is
travel point ``points[k]``; depots keep their travel point number (they come
first in both), so a vehicle's start/end point is also its model node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp

from optimiser.eligibility import Eligibility
from optimiser.problem import Problem


@dataclass(frozen=True)
class ModelNodes:
    points: np.ndarray
    """Travel point of each model node."""
    appointments: tuple[int, ...]
    """Appointment (request index) of each visit node, in node order after the depots."""
    num_depots: int
    travel_s: np.ndarray
    """Travel seconds between model nodes."""
    service_s: np.ndarray
    """Visit length of each model node (0 for depots)."""

    @property
    def size(self) -> int:
        return len(self.points)

    def node_of(self, position: int) -> int:
        """Model node of the ``position``-th plannable appointment."""
        return self.num_depots + position


def select_nodes(problem: Problem, eligibility: list[Eligibility]) -> ModelNodes:
    plannable = tuple(e.appointment for e in eligibility if e.plannable)
    depots = problem.travel.num_depots
    points = np.array(list(range(depots)) +
                      [problem.travel.appointment_point[i] for i in plannable], dtype=np.int64)
    travel_s = problem.travel.duration_s[np.ix_(points, points)]
    service = np.zeros(len(points), dtype=np.int64)
    service[depots:] = [problem.service[i] for i in plannable]
    return ModelNodes(points, plannable, depots, travel_s, service)


def make_manager(problem: Problem, nodes: ModelNodes) -> pywrapcp.RoutingIndexManager:
    starts = [v.start_point for v in problem.vehicles]
    ends = [v.end_point for v in problem.vehicles]
    return pywrapcp.RoutingIndexManager(nodes.size, len(problem.vehicles), starts, ends)
