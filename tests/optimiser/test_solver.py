"""The public entry point: determinism, progress, early stop, limits, odd requests, big days."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta, timezone
from pathlib import Path

import pytest

import optimiser.solver as solver_module
from optimiser import Progress, solve
from optimiser.schema import PlanRequest
from tests.optimiser.conftest import (
    appt,
    assert_valid,
    lunch,
    make_request,
    near,
    shift,
    tech,
    window,
)

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def _sample(name: str, **options) -> PlanRequest:
    data = json.loads((SAMPLES / name / "request.json").read_text())
    data["options"] = {**data.get("options", {}), **options}
    return PlanRequest.model_validate(data)


def _medium_request(**options) -> PlanRequest:
    techs = [tech(f"T{k}", location=near(3 * k, -2 * k), breaks=[lunch()],
                  skills={"hvac": 1 + k % 3}) for k in range(3)]
    visits = [appt(f"A{i:02d}", location=near((i * 7) % 11 - 5, (i * 5) % 9 - 4),
                   duration_min=20 + (i % 4) * 15, priority=1 + i % 5,
                   skills={"hvac": 1 + i % 2},
                   windows=[window("09:00", "12:00")] if i % 3 == 0 else [],
                   sla_due="11:00" if i % 4 == 0 else None)
              for i in range(24)]
    return make_request(techs, visits, **options)


def _without_timing(plan) -> dict:
    data = plan.to_json_dict()
    data.pop("solve_time_s")
    return data


def test_same_request_seed_and_solution_limit_give_the_same_plan():
    request = _medium_request(solution_limit=60, time_limit_s=60)
    first, second = solve(request, seed=3), solve(request, seed=3)
    assert_valid(request, first)
    assert _without_timing(first) == _without_timing(second)


def test_progress_reports_improving_plans():
    request = _medium_request(solution_limit=60, time_limit_s=60)
    seen: list[Progress] = []
    plan = solve(request, progress=seen.append)
    assert seen and all(isinstance(p, Progress) for p in seen)
    objectives = [p.objective for p in seen]
    assert objectives == sorted(objectives, reverse=True)
    assert seen[-1].objective >= plan.objective
    assert all(0 <= p.assigned <= len(request.appointments) for p in seen)


def test_stop_event_ends_the_search_with_the_best_plan_so_far():
    request = _sample("day-25x150", time_limit_s=120)
    stop = threading.Event()
    threading.Timer(1.5, stop.set).start()
    started = time.perf_counter()
    plan = solve(request, stop=stop)
    assert time.perf_counter() - started < 20
    assert plan.status == "feasible" and plan.routes
    assert_valid(request, plan)


def test_time_limit_argument_overrides_the_request():
    request = _sample("day-25x150", time_limit_s=300)
    started = time.perf_counter()
    plan = solve(request, time_limit_s=2)
    assert time.perf_counter() - started < 10
    assert_valid(request, plan)


def test_big_day_path_own_first_plan_with_breaks(monkeypatch):
    """The greedy first plan (used from 10,000 visit-vehicle pairs on) with lunch breaks,
    windows, skills, capacities and contracts must give OR-Tools a valid start."""
    monkeypatch.setattr(solver_module, "CONSTRUCT_FROM_PAIRS", 0)
    request = _sample("day-25x150", solution_limit=20, time_limit_s=60)
    plan = solve(request)
    assert_valid(request, plan)
    assert sum(len(r.stops) for r in plan.routes) >= 100


def test_no_technicians_every_appointment_explained():
    request = make_request([], [appt("A1"), appt("A2", skills={"gas": 1})])
    plan = solve(request)
    assert plan.status == "feasible" and not plan.routes
    assert {u.appointment_id for u in plan.unassigned} == {"A1", "A2"}
    assert_valid(request, plan)


def test_no_appointments_is_an_empty_plan():
    request = make_request([tech()], [])
    plan = solve(request)
    assert plan.status == "feasible" and not plan.routes and not plan.unassigned
    assert_valid(request, plan)


def test_times_are_given_in_the_offset_of_the_shift():
    plus_one = timezone(timedelta(hours=1))
    day_shift = shift()
    local = day_shift.model_copy(update={"start": day_shift.start.astimezone(plus_one),
                                         "end": day_shift.end.astimezone(plus_one)})
    request = make_request([tech(shifts=[local])], [appt("A1")], solution_limit=10)
    plan = solve(request)
    route = plan.routes[0]
    assert route.departure.utcoffset() == timedelta(hours=1)
    assert route.stops[0].start.utcoffset() == timedelta(hours=1)
    assert_valid(request, plan)


def test_starts_are_not_delayed_without_reason():
    request = make_request([tech()], [appt("A1", location=near(2, 0)),
                                      appt("A2", location=near(4, 0))], solution_limit=20)
    plan = solve(request)
    for stop in plan.routes[0].stops:
        assert (stop.start - stop.arrival).total_seconds() <= 1


@pytest.mark.slow
def test_thousand_visits_hundred_technicians_within_a_minute(tmp_path):
    from data.generate import main as generate  # noqa: PLC0415

    generate(["--technicians", "100", "--appointments", "1000", "--days", "1", "--seed", "3",
              "--out", str(tmp_path)])
    request = PlanRequest.model_validate_json((tmp_path / "request.json").read_text())
    started = time.perf_counter()
    plan = solve(request, time_limit_s=60)
    assert time.perf_counter() - started < 65
    assert_valid(request, plan)
    assert sum(len(r.stops) for r in plan.routes) > 500
