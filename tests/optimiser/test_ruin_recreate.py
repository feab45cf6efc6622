"""Ruin and recreate between the OR-Tools searches (``optimiser.ruin_recreate``)."""

from __future__ import annotations

import random
import threading
import time

import pytest

from data.generate import generate_day
from optimiser import solve
from optimiser.construct import BREAK, Constructor, construct_routes
from optimiser.eligibility import assess
from optimiser.model import build_model
from optimiser.problem import compile_problem
from optimiser.ruin_recreate import CompiledSearch, kernel_ready, ruin_and_recreate
from optimiser.schema import PlanRequest
from optimiser.solver import _uses_ruin_recreate
from tests.optimiser.conftest import appt, assert_valid, lunch, make_request, near, tech, window


def _day() -> PlanRequest:
    """Five technicians, 45 visits with windows, SLAs and lunch breaks: more than the
    handful of visits below which the phase is skipped."""
    techs = [tech(f"T{k}", location=near(5 * (k % 3) - 5, 5 * (k // 3) - 2), breaks=[lunch()])
             for k in range(5)]
    visits = [appt(f"A{i:02d}", location=near((i * 7) % 17 - 8, (i * 5) % 13 - 6),
                   duration_min=30 + (i % 3) * 15, priority=1 + i % 5,
                   windows=[window("09:00", "11:00")] if i % 6 == 0 else [],
                   sla_due="12:00" if i % 4 == 0 else None)
              for i in range(45)]
    return make_request(techs, visits, time_limit_s=3)


def _state(request: PlanRequest, seed: int = 0):
    problem = compile_problem(request)
    eligibility = assess(problem)
    built = build_model(problem, eligibility)
    routes = construct_routes(problem, built.nodes, eligibility)
    search = CompiledSearch(problem, built.nodes, eligibility, built.penalties, routes, seed)
    return problem, built, eligibility, routes, search


def _pricer(request: PlanRequest) -> tuple[CompiledSearch, object]:
    problem = compile_problem(request)
    eligibility = assess(problem)
    built = build_model(problem, eligibility)
    empty = [[] for _ in problem.vehicles]
    return CompiledSearch(problem, built.nodes, eligibility, built.penalties, empty, 0), built


def test_the_pricer_refuses_a_route_that_breaks_a_window():
    request = make_request([tech("T1")], [
        appt("A1", location=near(10, 0), windows=[window("09:00", "09:30")]),
        appt("A2", location=near(-10, 0), windows=[window("09:00", "09:30")]),
    ])
    pricer, built = _pricer(request)
    a1, a2 = built.nodes.node_of(0), built.nodes.node_of(1)
    assert pricer.cost(0, [a1]) is not None
    assert pricer.cost(0, [a1, a2]) is None  # 20 km apart: the second window is missed
    assert pricer.cost(0, []) == 0


def test_the_pricer_charges_sla_lateness_by_the_minute():
    on_time = make_request([tech("T1")], [appt("A1", location=near(3, 0), sla_due="17:00")])
    late = make_request([tech("T1")], [appt("A1", location=near(3, 0), sla_due="08:05")])
    costs = []
    for request in (on_time, late):
        pricer, built = _pricer(request)
        costs.append(pricer.cost(0, [built.nodes.node_of(0)]))
    assert costs[1] > costs[0] > 0


def test_the_compiled_pricer_agrees_with_the_construction_simulation():
    """``Constructor.cost`` (plain Python, the reference) and the kernel price random
    routes, breaks included, on a generated day with SLAs, windows and lunch breaks."""
    request = generate_day(8, 60, days=1, seed=4).request
    problem = compile_problem(request)
    eligibility = assess(problem)
    built = build_model(problem, eligibility)
    reference = Constructor(problem, built.nodes, eligibility)
    search = CompiledSearch(problem, built.nodes, eligibility, built.penalties,
                            [[] for _ in problem.vehicles], 0)
    visits = [built.nodes.node_of(i) for i in range(len(built.nodes.appointments))]
    rng = random.Random(7)
    feasible = 0
    for _ in range(2000):
        vehicle = rng.randrange(len(problem.vehicles))
        sequence = rng.sample(visits, rng.randint(0, 4))
        for k in range(len(reference.routes[vehicle].breaks)):
            sequence.insert(rng.randint(0, len(sequence)), BREAK - k)
        expected = reference.cost(reference.routes[vehicle], sequence)
        assert search.cost(vehicle, sequence) == expected, (vehicle, sequence)
        feasible += expected is not None
    assert 100 < feasible < 1900  # both outcomes well exercised


def test_steps_never_lose_the_best_plan_and_keep_every_visit_once():
    problem, built, eligibility, routes, search = _state(_day())
    start = search.total
    assert kernel_ready(wait_s=120)
    best, iterations = ruin_and_recreate(problem, built.nodes, eligibility, built.penalties,
                                         routes, deadline=time.perf_counter() + 0.5, seed=3)
    assert iterations > 100
    after = CompiledSearch(problem, built.nodes, eligibility, built.penalties, best, 0)
    assert after.total < start
    placed = [n for route in best for n in route]
    assert len(placed) == len(set(placed))
    for vehicle, route in enumerate(best):
        assert all(vehicle in eligibility[built.nodes.appointments[
            n - built.nodes.num_depots]].vehicles for n in route)
    assert not after.frozen.any()  # every route takes its breaks as pseudo-stops


def test_a_set_stop_event_ends_the_phase_at_once():
    problem, built, eligibility, routes, _ = _state(_day())
    stop = threading.Event()
    stop.set()
    best, iterations = ruin_and_recreate(problem, built.nodes, eligibility, built.penalties,
                                         routes, deadline=time.perf_counter() + 30, seed=0,
                                         stop=stop)
    assert iterations == 0
    assert best == routes


def test_the_phase_runs_on_fresh_time_limited_plans_only():
    _, built, *_ = _state(_day())
    assert _uses_ruin_recreate(built, None, replanning=False)
    assert not _uses_ruin_recreate(built, 50, replanning=False)  # a reproducible run
    assert not _uses_ruin_recreate(built, None, replanning=True)  # move as little as needed
    small = make_request([tech("T1"), tech("T2")], [appt(f"A{i}") for i in range(5)])
    _, small_built, *_ = _state(small)
    assert not _uses_ruin_recreate(small_built, None, replanning=False)


@pytest.mark.parametrize("seed", [1, 2])
def test_plans_from_the_phased_search_validate(seed: int):
    request = generate_day(6, 40, days=1, seed=seed).request
    plan = solve(request, time_limit_s=3)
    assert_valid(request, plan)

