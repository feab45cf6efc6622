"""The optimiser's entry point: a plan request in, a plan out.

compile (clock, travel, vehicles) -> eligibility (hard rules decided up front)
-> routing model -> search -> routes read back -> reasons for what was left out.

The search on a fresh plan is OR-Tools' guided local search, then ruin and recreate
(``optimiser.ruin_recreate``), then guided local search again from its plan. Measured
on generated 25 x 150 field days at 20 s: the first search stops improving after 5-9 s,
and ruin and recreate then takes the routes' cost (travel, lateness, overtime) down by
a further 10-15 % (measured at 1,000 iterations a second in Python; the compiled loop
now runs 10,000-20,000); on eight Solomon instances at 10 s the mean gap to the
distance-only reference fell from 2.8-3.0 % to 1.0 %.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ortools.constraint_solver.routing_enums_pb2 import RoutingSearchStatus

from optimiser.construct import construct_routes, routes_as_indices
from optimiser.eligibility import Eligibility, assess
from optimiser.explain import explain_unassigned
from optimiser.extract import build_routes, route_indices, route_of
from optimiser.first_solution import first_solution_strategy
from optimiser.kpis import compute_kpis
from optimiser.model import build_model
from optimiser.problem import Problem, compile_problem
from optimiser.ruin_recreate import kernel_ready, ruin_and_recreate
from optimiser.schema import Plan, PlanRequest
from optimiser.search import (
    SMALL_REQUEST,
    Progress,
    continue_search,
    run_search,
    search_parameters,
)
from optimiser.warm_start import has_published_plan, published_routes

__all__ = ["Progress", "SolverFailure", "solve"]

MIN_SEARCH_S = 0.2
"""The search always gets at least this long, even if building the model used the budget."""

FINISH_RESERVE = 0.02
"""Share of the time limit (at least 0.1 s) kept for reading the plan back and its KPIs."""

CONSTRUCT_FROM_PAIRS = 10_000
"""From this many (visit, vehicle) pairs on, the first plan comes from our own greedy
insertion (``optimiser.construct``): OR-Tools' insertion heuristics take minutes there."""


FIRST_SEARCH_SHARE = 0.4
"""Share of the search time OR-Tools gets before ruin and recreate (``optimiser.ruin_recreate``);
measured on generated 25 x 150 days, its guided local search stops improving after 5-9 s of 20."""

RUIN_RECREATE_SHARE = 0.45
"""Share of the search time for ruin and recreate; OR-Tools searches on from its plan after."""

KERNEL_WAIT_SHARE = 0.1
"""Share of the time limit a solve may wait for ruin and recreate's compiled kernel to load
(the first solve in a process); if it is still compiling, OR-Tools searches on alone."""


class SolverFailure(RuntimeError):
    """OR-Tools returned no plan at all for a valid request.

    Every visit is optional, so an empty plan always exists: no assignment means
    rejected search parameters or a model fault, never "nothing fits". An empty
    plan here would read as a feasible plan that unassigns the whole day.
    """


def _raise_unless_stopped_or_timed_out(routing, stop: threading.Event | None) -> None:
    """No first plan is expected only when ``stop`` was set or the time limit ran out."""
    if stop is not None and stop.is_set():
        return
    status = routing.status()
    if status == RoutingSearchStatus.ROUTING_FAIL_TIMEOUT:
        return
    raise SolverFailure(f"OR-Tools returned no plan at all (routing status "
                        f"{RoutingSearchStatus.Value.Name(status)})")


def _attach_kpis(request: PlanRequest, plan: Plan) -> Plan:
    plan.kpis = compute_kpis(request, plan)
    return plan


def _plan_without_search(problem: Problem, eligibility: list[Eligibility],
                         started: float) -> Plan:
    unassigned = explain_unassigned(problem, eligibility, {})
    return Plan(status="feasible", routes=[], unassigned=unassigned,
                solve_time_s=time.perf_counter() - started, objective=0)


def _uses_ruin_recreate(built, solution_limit: int | None, *, replanning: bool) -> bool:
    """Ruin and recreate runs on fresh plans of more than a handful of visits, in time-limited
    searches: a re-plan should move as little as it must, and a solution limit asks for a
    run that does not depend on the machine's speed (this phase runs by the clock)."""
    return (not replanning and solution_limit is None
            and len(built.nodes.appointments) > SMALL_REQUEST and len(built.problem.vehicles) > 1)


def _route_nodes(built, solution) -> list[list[int]]:
    """Model nodes of each vehicle's route in ``solution``."""
    return [[built.manager.IndexToNode(index) for index in route_indices(built, solution, v)]
            for v in range(len(built.problem.vehicles))]


def _ruin_recreate_then_search(built, solution, *, deadline: float, seed: int,
                               stop: threading.Event | None):
    """Improve OR-Tools' plan by ruin and recreate, then let OR-Tools search on from it.

    While the compiled kernel is not ready yet (the first solve after an install compiles
    it in the background), OR-Tools searches on alone."""
    kept = built.routing.solver().Assignment(solution)  # the next search reuses ``solution``
    routes = _route_nodes(built, kept)
    if kernel_ready():
        now = time.perf_counter()
        share = RUIN_RECREATE_SHARE / (1 - FIRST_SEARCH_SHARE)
        routes, _ = ruin_and_recreate(built.problem, built.nodes, built.eligibility,
                                      built.penalties, routes,
                                      deadline=now + share * max(deadline - now, 0), seed=seed,
                                      stop=stop)
    params = search_parameters(max(deadline - time.perf_counter(), MIN_SEARCH_S), None,
                               first_solution=first_solution_strategy(built.problem))
    return continue_search(built, params, routes_as_indices(built.manager, routes), kept)


def solve(request: PlanRequest, *, time_limit_s: float | None = None, seed: int | None = None,
          progress: Callable[[Progress], None] | None = None,
          stop: threading.Event | None = None) -> Plan:
    """Plan ``request``; always returns a plan that honours every hard rule.

    ``time_limit_s`` and ``seed`` override ``request.options``; ``progress`` is
    called with a :class:`Progress` as better plans are found; setting ``stop``
    ends the search early with the best plan so far.
    """
    started = time.perf_counter()
    options = request.options
    limit = options.time_limit_s if time_limit_s is None else time_limit_s
    seed = options.seed if seed is None else seed

    problem = compile_problem(request)
    eligibility = assess(problem)
    if not problem.vehicles or not any(e.plannable for e in eligibility):
        return _attach_kpis(request, _plan_without_search(problem, eligibility, started))

    built = build_model(problem, eligibility)
    initial = None
    if has_published_plan(problem, built.nodes):  # re-planning: start from the published routes
        initial = routes_as_indices(built.manager,
                                    published_routes(problem, built.nodes, eligibility))
    elif len(built.nodes.appointments) * len(problem.vehicles) >= CONSTRUCT_FROM_PAIRS:
        initial = routes_as_indices(built.manager,
                                    construct_routes(problem, built.nodes, eligibility))
    reserve = max(0.1, FINISH_RESERVE * limit)
    phased = _uses_ruin_recreate(built, options.solution_limit, replanning=initial is not None
                                 and has_published_plan(problem, built.nodes))
    if phased:  # load the compiled kernel now (cached: well under a second)
        kernel_ready(wait_s=KERNEL_WAIT_SHARE * limit)
    remaining = max(limit - reserve - (time.perf_counter() - started), MIN_SEARCH_S)
    first = remaining * FIRST_SEARCH_SHARE if phased else remaining
    params = search_parameters(first, options.solution_limit,
                               first_solution=first_solution_strategy(problem))
    solution = run_search(built, params, started=started, progress=progress, stop=stop,
                          seed=seed, initial_routes=initial)
    if solution is None:
        _raise_unless_stopped_or_timed_out(built.routing, stop)
        return _attach_kpis(request, _plan_without_search(problem, eligibility, started))
    if phased and not (stop is not None and stop.is_set()):
        deadline = started + limit - reserve
        solution = _ruin_recreate_then_search(built, solution, deadline=deadline, seed=seed,
                                              stop=stop)

    routed = {v.index: [visit.appointment for visit in route_of(built, solution, v.index)]
              for v in problem.vehicles}
    plan = Plan(
        status="feasible",
        routes=build_routes(built, solution),
        unassigned=explain_unassigned(problem, eligibility, routed),
        solve_time_s=time.perf_counter() - started,
        objective=int(solution.ObjectiveValue()),
    )
    return _attach_kpis(request, plan)
