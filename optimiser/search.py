"""Running the OR-Tools search: parameters, progress reports, early stop.

First solution: PARALLEL_CHEAPEST_INSERTION (every visit is optional, so it
always succeeds; PATH_CHEAPEST_ARC with mandatory visits found none in 30 s on
R101). Then GUIDED_LOCAL_SEARCH until the time or solution limit (on fresh plans
the solver splits that time around ruin and recreate: see ``optimiser.solver``).

Threads: OR-Tools keeps the GIL while it searches, except when it calls back
into Python. The progress callback runs at each improving solution; when a
``stop`` event is given, a custom search limit also polls it continuously
(about 5 % slower search) so that another thread can set it and the search
ends with the best plan found so far. Callers that must stay responsive while
a plan is computed (a web server) should solve in a worker process or pass
``stop``: without a Python callback the search holds the GIL throughout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from optimiser.model import BuiltModel

FirstSolution = routing_enums_pb2.FirstSolutionStrategy
Metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass(frozen=True)
class Progress:
    """A snapshot of the search, passed to the ``progress`` callback."""

    elapsed_s: float
    objective: int
    assigned: int
    solutions: int


def search_parameters(time_limit_s: float, solution_limit: int | None,
                      first_solution: int = FirstSolution.PARALLEL_CHEAPEST_INSERTION,
                      ) -> pywrapcp.DefaultRoutingSearchParameters:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = first_solution
    params.local_search_metaheuristic = Metaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 1))
    # The completion search that turns initial routes into a full assignment (cumuls,
    # breaks) runs under the LNS time limit (default 0.1 s): with breaks on 100
    # vehicles it needs seconds, and the default operators use no CP-completed LNS.
    params.lns_time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 1))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    # Measured on Solomon R104, RC107, R111 (same CPU seconds): without these the
    # guided local search reached 3-7 % shorter plans. The path LNS operators re-insert
    # whole routes with a cheapest-insertion heuristic (slow per move), visit-type LNS
    # has nothing to do (no visit types), expensive-chain relocation rarely pays.
    operators = params.local_search_operators
    for name in ("use_global_cheapest_insertion_path_lns", "use_local_cheapest_insertion_path_lns",
                 "use_global_cheapest_insertion_visit_types_lns",
                 "use_local_cheapest_insertion_visit_types_lns", "use_relocate_expensive_chain"):
        setattr(operators, name, BOOL_FALSE)
    # Measured on generated 25 x 150 field days (20 s): 3 more visits planned on each
    # of two days. These make room for a left-out visit by moving or swapping another;
    # with every visit placed (Solomon) they have no moves to try.
    for name in ("use_relocate_and_make_active", "use_exchange_and_make_active",
                 "use_extended_swap_active"):
        setattr(operators, name, BOOL_TRUE)
    return params


SMALL_REQUEST = 30
"""Up to this many plannable visits the search also ends once it stalls (see ``STALL_S``):
guided local search never stops by itself, and a handful of visits is settled in
milliseconds; without this, a two-visit request would always use its whole time limit."""

STALL_S = 1.0
"""Small requests: end the search after this long without a better plan."""


class SearchWatch:
    """At-solution callback: counts solutions, reports progress, honours ``stop``.

    Also the test of the custom search limit (:meth:`should_stop`): the stop
    event, or a stalled search on a small request.
    """

    def __init__(self, built: BuiltModel, started: float,
                 progress: Callable[[Progress], None] | None,
                 stop: threading.Event | None, report_every_s: float = 0.5,
                 stall_s: float | None = None) -> None:
        self.built = built
        self.started = started
        self.progress = progress
        self.stop = stop
        self.report_every_s = report_every_s
        self.stall_s = stall_s
        self.solutions = 0
        self.last_report = -1.0
        self.best: int | None = None
        self.best_assigned = 0
        self.improved_at = time.perf_counter()

    def should_stop(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return True
        return (self.stall_s is not None and self.solutions > 0
                and time.perf_counter() - self.improved_at > self.stall_s)

    def _assigned(self) -> int:
        routing = self.built.routing
        count = 0
        for position in range(len(self.built.nodes.appointments)):
            index = self.built.index_of(position)
            if routing.NextVar(index).Value() != index:
                count += 1
        return count

    def __call__(self) -> None:
        """Called at every solution the local search accepts (under guided local
        search not always an improvement: the best so far is what is reported)."""
        self.solutions += 1
        if self.stop is not None and self.stop.is_set():
            self.built.routing.CancelSearch()
            return
        objective = int(self.built.routing.CostVar().Value())
        if self.best is not None and objective >= self.best:
            return
        self.best = objective
        now = self.improved_at = time.perf_counter()
        if self.progress is None:
            return
        self.best_assigned = self._assigned()
        if self.solutions > 1 and now - self.last_report < self.report_every_s:
            return
        self.last_report = now
        self.progress(Progress(elapsed_s=now - self.started, objective=self.best,
                               assigned=self.best_assigned, solutions=self.solutions))


def run_search(built: BuiltModel, params, *, started: float,
               progress: Callable[[Progress], None] | None = None,
               stop: threading.Event | None = None,
               seed: int = 0,
               initial_routes: list[list[int]] | None = None) -> pywrapcp.Assignment | None:
    """Search and return the best assignment (None only if the search found nothing)."""
    routing = built.routing
    small = len(built.nodes.appointments) <= SMALL_REQUEST
    watch = SearchWatch(built, started, progress, stop, stall_s=STALL_S if small else None)
    routing.AddAtSolutionCallback(watch)
    if stop is not None or small:
        routing.AddSearchMonitor(routing.solver().CustomLimit(watch.should_stop))
    routing.CloseModelWithParameters(params)
    routing.solver().ReSeed(seed)
    if initial_routes is not None:
        initial = routing.solver().Assignment()
        if routing.RoutesToAssignment(initial_routes, True, True, initial):
            solution = routing.SolveFromAssignmentWithParameters(initial, params)
            if solution is not None:
                return solution
    return routing.SolveWithParameters(params)


def continue_search(built: BuiltModel, params, routes: list[list[int]],
                    fallback: pywrapcp.Assignment) -> pywrapcp.Assignment:
    """Search on from ``routes`` (routing indices per vehicle) on a model ``run_search``
    has closed; from ``fallback`` when OR-Tools rejects the routes. Never worse than
    the better of the two starting points."""
    routing = built.routing
    initial = routing.solver().Assignment()
    start = initial if routing.RoutesToAssignment(routes, True, True, initial) else fallback
    solution = routing.SolveFromAssignmentWithParameters(start, params)
    if solution is None or solution.ObjectiveValue() > fallback.ObjectiveValue():
        return fallback
    return solution
