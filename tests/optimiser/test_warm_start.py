"""In-day re-planning starts from the published routes (``optimiser.warm_start``)."""

from __future__ import annotations

from datetime import timedelta

from optimiser import solve
from optimiser.eligibility import assess
from optimiser.model.nodes import select_nodes
from optimiser.problem import compile_problem
from optimiser.schema import Plan, PlanRequest
from optimiser.warm_start import has_published_plan, published_routes
from tests.optimiser.conftest import appt, assert_valid, lunch, make_request, near, tech, window

EMERGENCY = "P1"


def _day() -> PlanRequest:
    """Four technicians around town, 28 visits, lunch breaks, some windows and SLAs."""
    techs = [tech(f"T{k}", location=near(6 * (k % 2) - 3, 6 * (k // 2) - 3), breaks=[lunch()])
             for k in range(4)]
    visits = [appt(f"A{i:02d}", location=near((i * 7) % 13 - 6, (i * 5) % 11 - 5),
                   duration_min=30 + (i % 3) * 15, priority=2 + i % 4,
                   windows=[window("09:00", "12:00")] if i % 5 == 0 else [],
                   sla_due="13:00" if i % 4 == 0 else None)
              for i in range(28)]
    return make_request(techs, visits, time_limit_s=5)


def _where(plan: Plan) -> dict:
    return {s.appointment_id: (r.technician_id, s.start) for r in plan.routes for s in r.stops}


def _published(request: PlanRequest, plan: Plan) -> PlanRequest:
    placed = _where(plan)
    return request.model_copy(update={"appointments": [
        a.model_copy(update={"planned_technician": placed[a.id][0],
                             "planned_start": placed[a.id][1]}) if a.id in placed else a
        for a in request.appointments]})


def _with_emergency(request: PlanRequest, near_to, opens: str = "10:00",
                    closes: str = "12:00") -> PlanRequest:
    emergency = appt(EMERGENCY, location=near_to, priority=1, duration_min=45,
                     windows=[window(opens, closes)], sla_due="11:00")
    return request.model_copy(update={"appointments": [*request.appointments, emergency]})


def _published_day() -> tuple[PlanRequest, Plan]:
    request = _day()
    plan = solve(request)
    assert_valid(request, plan)
    return _published(request, plan), plan


def test_first_plan_is_the_published_plan_plus_the_new_visit():
    day, plan = _published_day()
    busiest = max(plan.routes, key=lambda r: len(r.stops))
    # A wide window: the greedy insertion itself finds it a place (a tight one may need
    # the local search to make room, which the next test covers).
    request = _with_emergency(day, near(0, 0), "10:00", "16:30")
    problem = compile_problem(request)
    eligibility = assess(problem)
    nodes = select_nodes(problem, eligibility)
    assert has_published_plan(problem, nodes)
    routes = published_routes(problem, nodes, eligibility)
    ids = [a.id for a in request.appointments]
    as_ids = {problem.vehicles[v].technician_id:
              [ids[nodes.appointments[n - nodes.num_depots]] for n in route]
              for v, route in enumerate(routes)}
    emergency_on = [t for t, visits in as_ids.items() if EMERGENCY in visits]
    assert len(emergency_on) == 1
    for route in plan.routes:
        kept = [v for v in as_ids[route.technician_id] if v != EMERGENCY]
        assert kept == [s.appointment_id for s in route.stops], route.technician_id
    assert busiest.technician_id in as_ids


def test_a_visit_no_longer_allowed_leaves_its_published_route():
    day, plan = _published_day()
    route = max(plan.routes, key=lambda r: len(r.stops))
    moved = route.stops[0].appointment_id
    request = day.model_copy(update={"appointments": [
        a.model_copy(update={"excluded_technicians": [route.technician_id]}) if a.id == moved
        else a for a in day.appointments]})
    problem = compile_problem(request)
    eligibility = assess(problem)
    nodes = select_nodes(problem, eligibility)
    routes = published_routes(problem, nodes, eligibility)
    owner = {nodes.appointments[n - nodes.num_depots]: problem.vehicles[v].technician_id
             for v, r in enumerate(routes) for n in r}
    position = next(i for i, a in enumerate(request.appointments) if a.id == moved)
    assert owner.get(position) not in (None, route.technician_id)


def test_replanning_after_an_emergency_keeps_the_rest_of_the_day():
    day, plan = _published_day()
    busiest = max(plan.routes, key=lambda r: len(r.stops))
    beside = next(a for a in day.appointments
                  if a.id == busiest.stops[len(busiest.stops) // 2].appointment_id)
    location = beside.location.model_copy(update={"lat": beside.location.lat + 0.003})
    request = _with_emergency(day, location)
    replanned = solve(request, time_limit_s=3)
    assert_valid(request, replanned)
    after = _where(replanned)
    assert EMERGENCY in after
    tolerance = timedelta(minutes=request.options.shift_tolerance_min)
    # Visits away from the emergency: not on the route that takes it.
    taker = after[EMERGENCY][0]
    away = [a for a in request.appointments
            if a.planned_technician is not None and a.planned_technician != taker]
    kept = [a for a in away if a.id in after and after[a.id][0] == a.planned_technician
            and abs(after[a.id][1] - a.planned_start) <= tolerance]
    assert len(away) >= 12
    assert len(kept) >= 0.9 * len(away), (len(kept), len(away))
    # The whole day: at most two visits change technician (room made for the emergency).
    reassigned = [a.id for a in request.appointments if a.planned_technician is not None
                  and a.id in after and after[a.id][0] != a.planned_technician]
    assert len(reassigned) <= 2, reassigned


def test_a_planned_technician_without_a_start_goes_through_the_warm_start():
    request = make_request([tech("T1", location=near(4, 0)), tech("T2", location=near(-2, 0))],
                           [appt("A1", planned_technician="T2"), appt("A2")], time_limit_s=2)
    problem = compile_problem(request)
    eligibility = assess(problem)
    nodes = select_nodes(problem, eligibility)
    assert has_published_plan(problem, nodes)
    routes = published_routes(problem, nodes, eligibility)
    assert sorted(len(r) for r in routes) in ([0, 2], [1, 1])
    plan = solve(request)
    assert_valid(request, plan)
    assert _where(plan)["A1"][0] == "T2"
