"""The optimiser's entry point: a plan request in, a plan out.

compile (clock, travel, vehicles) -> eligibility (hard rules decided up front)
-> routing model -> search -> routes read back -> reasons for what was left out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ortools.constraint_solver.routing_enums_pb2 import RoutingSearchStatus

from optimiser.construct import construct_routes, routes_as_indices
from optimiser.eligibility import Eligibility, assess
from optimiser.explain import explain_unassigned
from optimiser.extract import build_routes, route_of
from optimiser.first_solution import first_solution_strategy
from optimiser.kpis import compute_kpis
from optimiser.model import build_model
from optimiser.problem import Problem, compile_problem
from optimiser.schema import Plan, PlanRequest
from optimiser.search import Progress, run_search, search_parameters
from optimiser.warm_start import has_published_plan, published_routes

__all__ = ["Progress", "SolverFailure", "solve"]

MIN_SEARCH_S = 0.2
"""The search always gets at least this long, even if building the model used the budget."""

FINISH_RESERVE = 0.02
"""Share of the time limit (at least 0.1 s) kept for reading the plan back and its KPIs."""

CONSTRUCT_FROM_PAIRS = 10_000
"""From this many (visit, vehicle) pairs on, the first plan comes from our own greedy
insertion (``optimiser.construct``): OR-Tools' insertion heuristics take minutes there."""


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
    remaining = max(limit - reserve - (time.perf_counter() - started), MIN_SEARCH_S)
    params = search_parameters(remaining, options.solution_limit,
                               first_solution=first_solution_strategy(problem))
    solution = run_search(built, params, started=started, progress=progress, stop=stop,
                          seed=seed, initial_routes=initial)
    if solution is None:
        _raise_unless_stopped_or_timed_out(built.routing, stop)
        return _attach_kpis(request, _plan_without_search(problem, eligibility, started))

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
