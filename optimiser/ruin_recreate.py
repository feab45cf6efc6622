"""Ruin and recreate on whole strings of visits, between two OR-Tools searches.

Why: on generated 25 x 150 field days (two-hour and AM/PM windows, lunch
breaks, skills) guided local search stops improving after 5-9 s of a 20 s
budget. Its operators move one or two visits at a time, and with tight windows
nearly every such move is infeasible: of 19 million neighbours in 20 s the
filters rejected all but 427. Removing strings of neighbouring visits from a
few routes at once and inserting them again, most important first, each where
it costs least (SISR, Christiaens & Vanden Berghe 2020), reaches plans those
single moves cannot.

Routes are simulated on the model's integer clock by ``optimiser.construct``
(breaks are pseudo-stops taken where the technician is), and priced like the
routing model's objective: travel, overtime past the shift end, SLA lateness
by priority, preferred-technician surcharges, and each left-out visit's drop
penalty. The result goes back to OR-Tools, which re-checks every hard rule,
places the breaks and times, and keeps searching from it.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import numpy as np

from optimiser.construct import BREAK, Constructor
from optimiser.eligibility import Eligibility
from optimiser.model.nodes import ModelNodes
from optimiser.problem import Problem

MAX_STRING = 10
"""Longest string of consecutive visits removed from one route (SISR's L_max)."""

MEAN_REMOVED = 10
"""Visits removed per iteration on average (SISR's c-bar)."""

BLINK = 0.01
"""Chance of skipping a position while inserting: diversity at almost no cost."""

NEIGHBOURS = 40
"""Nearest visits considered when choosing the strings to remove around a seed visit."""

START_THRESHOLD = 0.01
"""Share of the first plan's travel cost by which a worse plan is still accepted at the
start; falls linearly to zero (threshold accepting)."""


@dataclass
class LnsRoute:
    vehicle: int
    sequence: list[int]
    """Model nodes, with ``BREAK - k`` markers for break k (as in ``construct``)."""
    cost: int
    load: float
    frozen: bool = False
    """The route could not be expressed with pseudo-stop breaks: left as it is."""


class RoutePricer:
    """Feasibility and cost of one route, on the model's clock and in objective units."""

    def __init__(self, problem: Problem, nodes: ModelNodes,
                 eligibility: list[Eligibility]) -> None:
        self.constructor = Constructor(problem, nodes, eligibility)
        self.weights = self.constructor.weights
        self.travel = self.constructor.travel

    def cost(self, vehicle: int, sequence: list[int]) -> int | None:
        """The route's objective cost, or None when it breaks a hard rule."""
        return self.constructor.cost(self.constructor.routes[vehicle], sequence)

    def with_breaks(self, vehicle: int, visits: list[int]) -> tuple[list[int], int] | None:
        """``visits`` in order with each break put where it costs least; None if none fits."""
        route = self.constructor.routes[vehicle]
        sequence = list(visits)
        for k in range(len(route.breaks)):
            marker = BREAK - k
            best: tuple[int, list[int]] | None = None
            for position in range(len(sequence) + 1):
                trial = sequence[:position] + [marker] + sequence[position:]
                cost = self.cost(vehicle, trial + [BREAK - j for j in
                                                   range(k + 1, len(route.breaks))])
                if cost is not None and (best is None or cost < best[0]):
                    best = (cost, trial)
            if best is None:
                return None
            sequence = best[1]
        cost = self.cost(vehicle, sequence)
        return None if cost is None else (sequence, cost)


class RuinRecreate:
    """The search state: routes, left-out visits, and the moves on them."""

    def __init__(self, problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility],
                 penalties: dict[int, int], routes: list[list[int]], seed: int) -> None:
        self.pricer = RoutePricer(problem, nodes, eligibility)
        self.random = random.Random(seed)
        request = problem.request
        self.priority: dict[int, int] = {}
        self.penalty: dict[int, int] = {}
        self.vehicles: dict[int, tuple[int, ...]] = {}
        self.demand = self.pricer.constructor.demand
        for position, appointment in enumerate(nodes.appointments):
            node = nodes.node_of(position)
            self.priority[node] = request.appointments[appointment].priority
            self.penalty[node] = penalties[self.priority[node]]
            self.vehicles[node] = eligibility[appointment].vehicles
        self.capacity = [r.capacity for r in self.pricer.constructor.routes]
        visit_nodes = np.arange(nodes.num_depots, nodes.size)
        closeness = nodes.travel_s[np.ix_(visit_nodes, visit_nodes)]
        closeness = closeness + closeness.T
        order = np.argsort(closeness, axis=1, kind="stable")[:, :NEIGHBOURS + 1]
        self.near = {int(visit_nodes[i]): [int(visit_nodes[j]) for j in order[i]]
                     for i in range(len(visit_nodes))}
        self.routes: list[LnsRoute] = []
        for vehicle, visits in enumerate(routes):
            placed = self.pricer.with_breaks(vehicle, visits)
            load = sum(self.demand[n] for n in visits)
            if placed is None:
                self.routes.append(LnsRoute(vehicle, list(visits), 0, load, frozen=True))
            else:
                self.routes.append(LnsRoute(vehicle, placed[0], placed[1], load))
        routed = {n for r in self.routes for n in r.sequence if n > BREAK}
        self.unassigned = {n for n in self.penalty if n not in routed}
        self.route_of = {n: r.vehicle for r in self.routes for n in r.sequence if n > BREAK}

    def total(self, routes: list[LnsRoute], unassigned: set[int]) -> int:
        return sum(r.cost for r in routes) + sum(self.penalty[n] for n in unassigned)

    # ------------------------------------------------------------------ moves

    def _ruin(self, routes: dict[int, LnsRoute], unassigned: set[int],
              route_of: dict[int, int]) -> tuple[int | None, list[int]]:
        """Remove strings of visits around a random routed visit; returns it and the removed."""
        if not route_of:
            return None, []
        seed = self.random.choice(sorted(route_of))
        lengths = [sum(1 for n in r.sequence if n > BREAK) for r in self.routes
                   if not r.frozen and r.sequence]
        average = sum(lengths) / max(len(lengths), 1)
        max_string = max(1, min(MAX_STRING, int(average)))
        max_routes = max(1, int(4 * MEAN_REMOVED / (1 + max_string)) - 1)
        ruined_routes = self.random.randint(1, max_routes)
        removed: list[int] = []
        touched: set[int] = set()
        for node in self.near[seed]:
            if len(touched) >= ruined_routes:
                break
            vehicle = route_of.get(node)
            if vehicle is None or vehicle in touched or self.routes[vehicle].frozen:
                continue
            touched.add(vehicle)
            route = routes.setdefault(vehicle, self._copy(self.routes[vehicle]))
            visits = [i for i, n in enumerate(route.sequence) if n > BREAK]
            length = self.random.randint(1, min(max_string, len(visits)))
            at = visits.index(route.sequence.index(node))
            first = self.random.randint(max(0, at - length + 1), min(at, len(visits) - length))
            cut = set(visits[first:first + length])
            removed += [route.sequence[i] for i in sorted(cut)]
            route.sequence = [n for i, n in enumerate(route.sequence) if i not in cut]
        for node in removed:
            del route_of[node]
            unassigned.add(node)
        return seed, removed

    def _insert(self, node: int, routes: dict[int, LnsRoute]) -> bool:
        """Put ``node`` where it adds the least cost (positions skipped at random).

        Positions are tried in order of added travel, a lower bound of the added cost
        (a visit put in can only delay the ones after it), and the search stops once
        that bound reaches the best cost found.
        """
        c = self.pricer.constructor
        travel, per_s = self.pricer.travel, self.pricer.weights.travel_per_s
        candidates: list[tuple[int, int, int]] = []
        for vehicle in self.vehicles[node]:
            route = routes.get(vehicle) or self.routes[vehicle]
            if route.frozen:
                continue
            capacity = self.capacity[vehicle]
            if capacity is not None and route.load + self.demand[node] > capacity:
                continue
            state = c.routes[vehicle]
            fixed = c.surcharge[state.vehicle.technician_id][node] if c.surcharge else 0
            sequence = route.sequence
            following = [state.end_node] * (len(sequence) + 1)  # next visit at or after i
            for i in range(len(sequence) - 1, -1, -1):
                following[i] = sequence[i] if sequence[i] > BREAK else following[i + 1]
            if following[0] == state.end_node:  # idle: one candidate, breaks go in later
                following = following[:1]
            before = state.start_node
            for position, after in enumerate(following):
                added = travel[before][node] + travel[node][after] - travel[before][after]
                candidates.append(((added + fixed) * per_s, vehicle, position))
                if position < len(sequence) and sequence[position] > BREAK:
                    before = sequence[position]
        candidates.sort()
        best: tuple[int, int, list[int], int] | None = None
        for bound, vehicle, position in candidates:
            if best is not None and bound >= best[0]:
                break
            if self.random.random() < BLINK:
                continue
            route = routes.get(vehicle) or self.routes[vehicle]
            sequence = route.sequence
            if not any(n > BREAK for n in sequence):  # an idle technician: breaks go in too
                placed = self.pricer.with_breaks(vehicle, [node])
                if placed is not None and (best is None or placed[1] < best[0]):
                    best = (placed[1], vehicle, placed[0], placed[1])
                continue
            trial = sequence[:position] + [node] + sequence[position:]
            cost = self.pricer.cost(vehicle, trial)
            if cost is not None and (best is None or cost - route.cost < best[0]):
                best = (cost - route.cost, vehicle, trial, cost)
        if best is None:
            return False
        _, vehicle, sequence, cost = best
        route = routes.setdefault(vehicle, self._copy(self.routes[vehicle]))
        route.sequence, route.cost = sequence, cost
        route.load += self.demand[node]
        return True

    @staticmethod
    def _copy(route: LnsRoute) -> LnsRoute:
        return LnsRoute(route.vehicle, list(route.sequence), route.cost, route.load, route.frozen)

    def step(self, threshold: float) -> bool:
        """One ruin and recreate; keeps the result if it costs less than now plus
        ``threshold``. Returns True when the result was kept."""
        changed: dict[int, LnsRoute] = {}
        unassigned = set(self.unassigned)
        route_of = dict(self.route_of)
        seed, removed = self._ruin(changed, unassigned, route_of)
        for route in changed.values():
            cost = self.pricer.cost(route.vehicle, route.sequence)
            if cost is None:  # a travel matrix without the triangle inequality
                return False
            route.cost = cost
            route.load = sum(self.demand[n] for n in route.sequence if n > BREAK)
        # Left-out visits near the ruined area get their chance too; far ones could only
        # take a place the ruin did not open.
        nearby = set(removed) | (unassigned & set(self.near[seed]) if seed is not None
                                 else unassigned)
        pool = sorted(nearby, key=lambda n: (self.priority[n], self.random.random()))
        for node in pool:
            if self._insert(node, changed):
                unassigned.discard(node)
        before = sum(self.routes[v].cost for v in changed) + sum(
            self.penalty[n] for n in self.unassigned)
        after = sum(r.cost for r in changed.values()) + sum(self.penalty[n] for n in unassigned)
        if after >= before + threshold:
            return False
        for vehicle, route in changed.items():
            self.routes[vehicle] = route
        self.unassigned = unassigned
        self.route_of = {n: r.vehicle for r in self.routes for n in r.sequence if n > BREAK}
        return True

    def visits(self) -> list[list[int]]:
        return [[n for n in r.sequence if n > BREAK] for r in self.routes]


def ruin_and_recreate(problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility],
                      penalties: dict[int, int], routes: list[list[int]], *,
                      deadline: float, seed: int,
                      stop: threading.Event | None = None) -> tuple[list[list[int]], int]:
    """Improve ``routes`` (model nodes per vehicle) until ``deadline`` (perf_counter).

    Returns the best routes found and the number of iterations run.
    """
    search = RuinRecreate(problem, nodes, eligibility, penalties, routes, seed)
    best_total = search.total(search.routes, search.unassigned)
    best = search.visits()
    travel = sum(r.cost for r in search.routes)
    started = time.perf_counter()
    span = max(deadline - started, 1e-6)
    iterations = 0
    while (now := time.perf_counter()) < deadline and not (stop is not None and stop.is_set()):
        threshold = START_THRESHOLD * travel * max(0.0, 1 - (now - started) / span)
        iterations += 1
        if search.step(threshold):
            total = search.total(search.routes, search.unassigned)
            if total < best_total:
                best_total, best = total, search.visits()
    return best, iterations
