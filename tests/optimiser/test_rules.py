"""One small hand-made instance per rule: its effect on the plan, and the reason when it blocks.

Every plan is checked by the independent referee (``optimiser.validate``).
Searches stop after a few improving solutions so the tests are fast and
reproducible.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from optimiser import solve
from optimiser.eligibility import assess
from optimiser.model.capacity import load_scale
from optimiser.model.costs import cost_weights
from optimiser.model.nodes import select_nodes
from optimiser.model.penalties import BUDGET, priority_penalties
from optimiser.model.technician_costs import surcharges
from optimiser.model.time import soft_start_bounds
from optimiser.problem import compile_problem
from optimiser.schema import Location, Plan, Stop, Travel
from tests.optimiser.conftest import (
    appt,
    assert_valid,
    at,
    coverage,
    entitlement,
    lunch,
    make_request,
    near,
    shift,
    tech,
    window,
)

FAST = {"solution_limit": 40, "time_limit_s": 10}


def plan_of(technicians, appointments, entitlements=(), **options) -> tuple[Plan, object]:
    request = make_request(technicians, appointments, entitlements, **{**FAST, **options})
    plan = solve(request)
    assert_valid(request, plan)
    return plan, request


def where(plan: Plan) -> dict[str, tuple[str, int, Stop]]:
    return {s.appointment_id: (r.technician_id, r.shift_index, s)
            for r in plan.routes for s in r.stops}


def reasons(plan: Plan) -> dict[str, tuple[str, str]]:
    return {u.appointment_id: (u.reason, u.detail) for u in plan.unassigned}


# ------------------------------------------------------------- who may go


def test_skills_send_the_visit_to_the_qualified_technician():
    plan, _ = plan_of([tech("T1", skills={"hvac": 3}, location=near(10, 0)),
                       tech("T2", skills={"hvac": 1}, location=near(5, 0))],
                      [appt("A1", skills={"hvac": 3}), appt("A2", skills={"fibre": 3})])
    assert where(plan)["A1"][0] == "T1"
    assert reasons(plan)["A2"] == ("no_skilled_technician",
                                   "requires fibre>=3; no technician has fibre")


def test_entitlement_level_floor_picks_the_senior_technician():
    plan, _ = plan_of([tech("T1", skills={"hvac": 2}, location=near(5, 0)),
                       tech("T2", skills={"hvac": 3}, location=near(-10, 0))],
                      [appt("A1", skills={"hvac": 1}, entitlement_id="E1")],
                      [entitlement("E1", min_skill_level=3)])
    assert where(plan)["A1"][0] == "T2"


def test_territory_keeps_visits_with_local_technicians():
    plan, _ = plan_of([tech("T1", territories=["south"], location=near(5, 0)),
                       tech("T2", territories=["north"], location=near(-10, 0))],
                      [appt("A1", territory="north"), appt("A2", territory="west")])
    assert where(plan)["A1"][0] == "T2"
    assert reasons(plan)["A2"][0] == "territory"


def test_excluded_technician_is_never_sent():
    plan, _ = plan_of([tech("T1", location=near(5, 0)), tech("T2", location=near(-10, 0))],
                      [appt("A1", excluded=["T1"]), appt("A2", excluded=["T1", "T2"])])
    assert where(plan)["A1"][0] == "T2"
    assert reasons(plan)["A2"][0] == "excluded"


def test_preferred_technician_wins_when_equally_placed():
    # East and west of both homes: one tour or two drive the same; only preferences differ.
    plan, _ = plan_of([tech("T1"), tech("T2")],
                      [appt("A1", location=near(5, 0), preferred=["T2"]),
                       appt("A2", location=near(-5, 0), preferred=["T1"])])
    assert where(plan)["A1"][0] == "T2"
    assert where(plan)["A2"][0] == "T1"


def test_pinned_visit_goes_to_its_technician_or_says_why_not():
    plan, _ = plan_of([tech("T1", location=near(5, 0)), tech("T2", location=near(-10, 0))],
                      [appt("A1", pinned="T2"),
                       appt("A2", pinned="T1", skills={"gas": 2})])
    assert where(plan)["A1"][0] == "T2"
    assert reasons(plan)["A2"] == ("pinned_infeasible", "pinned technician T1 lacks gas>=2")


# ---------------------------------------------------------------- contracts


def test_coverage_keeps_the_whole_visit_inside_contract_hours():
    plan, _ = plan_of([tech(shifts=[shift("07:00", "19:00")])],
                      [appt("A1", entitlement_id="E1", windows=[window("07:00", "09:00")]),
                       appt("A2", entitlement_id="E1", duration_min=60, location=near(4, 1),
                            windows=[window("16:30", "17:50")])],
                      [entitlement("E1", coverage=[coverage(start="08:30", end="18:00")])])
    stops = where(plan)
    assert stops["A1"][2].start >= at("08:30")
    assert stops["A2"][2].end <= at("18:00")


def test_expiry_and_onsite_cover():
    plan, _ = plan_of([tech()],
                      [appt("A1", entitlement_id="OK", windows=[window("08:00", "12:00")]),
                       appt("A2", entitlement_id="OLD"), appt("A3", entitlement_id="REMOTE")],
                      [entitlement("OK", valid_until="09:00"),
                       entitlement("OLD", valid_until=at("08:00", day=-30)),
                       entitlement("REMOTE", onsite=False)])
    assert where(plan)["A1"][2].start < at("09:00")
    assert reasons(plan)["A2"][0] == "not_entitled"
    assert "expired" in reasons(plan)["A2"][1]
    assert reasons(plan)["A3"] == ("not_entitled", "entitlement REMOTE has no on-site cover")


# ------------------------------------------------------------------- time


def test_window_start_with_waiting_on_site():
    plan, _ = plan_of([tech()], [appt("A1", windows=[window("10:00", "10:30")])])
    _, _, stop = where(plan)["A1"]
    assert at("10:00") <= stop.start <= at("10:30")
    assert stop.arrival <= stop.start


def test_several_windows_any_one_of_them():
    far = near(30, 0)  # about an hour away: the early window cannot be reached
    plan, _ = plan_of([tech()], [appt("A1", location=far, windows=[
        window("08:00", "08:10"), window("14:00", "15:00")])])
    assert at("14:00") <= where(plan)["A1"][2].start <= at("15:00")


def test_sla_deadline_puts_urgent_work_first():
    plan, _ = plan_of([tech()], [appt("A1", location=near(5, 0), duration_min=120),
                                 appt("A2", location=near(5, 0.5), duration_min=120,
                                      sla_due="09:00")])
    stops = where(plan)
    assert stops["A2"][2].sla_met is True
    assert stops["A2"][2].start < stops["A1"][2].start


def test_sla_cost_scales_with_priority():
    # Both due at 09:00, two hours each: only one can be on time; the P1 one is.
    plan, _ = plan_of([tech()], [appt("A1", duration_min=120, sla_due="09:00", priority=4),
                                 appt("A2", duration_min=120, sla_due="09:00", priority=1,
                                      location=near(5, 0.5))])
    stops = where(plan)
    assert stops["A2"][2].sla_met is True
    assert stops["A1"][2].sla_met is False
    assert stops["A1"][2].lateness_min > 0


def test_lunch_break_is_taken_and_never_inside_a_visit():
    plan, request = plan_of([tech(breaks=[lunch("12:00", "13:00", 30)])],
                            [appt("A1", duration_min=90, windows=[window("11:00", "11:30")]),
                             appt("A2", duration_min=60, location=near(6, 1),
                                  windows=[window("13:00", "13:10")])])
    route = plan.routes[0]
    assert len(route.breaks) == 1
    brk = route.breaks[0]
    assert at("12:00") <= brk.start and brk.end <= at("13:00")
    assert brk.end - brk.start == timedelta(minutes=30)
    for stop in route.stops:
        assert brk.end <= stop.start or brk.start >= stop.end


def test_overtime_is_allowed_up_to_the_maximum_and_reported():
    late_far = [appt("A1", location=near(30, 0), windows=[window("15:45", "15:45")])]
    plan, _ = plan_of([tech(max_overtime_min=60)], late_far)
    route = plan.routes[0]
    assert 0 < route.overtime_min <= 60
    plan, _ = plan_of([tech()], late_far)
    assert reasons(plan)["A1"][0] == "window_unreachable"


def test_no_overtime_when_the_day_can_end_on_time():
    plan, _ = plan_of([tech(max_overtime_min=120)],
                      [appt(f"A{i}", location=near(i, 1), duration_min=60) for i in range(6)])
    assert all(r.overtime_min == 0 for r in plan.routes)


def test_multi_day_shifts_use_the_right_day():
    plan, _ = plan_of([tech(shifts=[shift(day=0), shift(day=1)])],
                      [appt("A1", windows=[window("09:00", "10:00", day=1)]),
                       appt("A2", windows=[window("09:00", "10:00", day=0)])])
    stops = where(plan)
    assert stops["A1"][1] == 1 and stops["A2"][1] == 0
    assert at("09:00", day=1) <= stops["A1"][2].start <= at("10:00", day=1)


# --------------------------------------------------------------- capacity


def test_capacity_limits_the_load_and_explains_the_rest():
    plan, _ = plan_of([tech("T1", capacity=2)],
                      [appt(f"A{i}", demand=1, location=near(i, 0)) for i in range(1, 4)])
    assert len(plan.routes[0].stops) == 2
    (left,) = plan.unassigned
    assert left.reason == "capacity"
    assert left.detail.startswith("fits alone in T1's day but not")


def test_day_too_short_for_everything_is_capacity():
    plan, _ = plan_of([tech()], [appt(f"A{i}", duration_min=240, location=near(1, i))
                                 for i in range(3)])
    assert len(plan.routes[0].stops) == 2
    assert plan.unassigned[0].reason == "capacity"


def test_one_higher_priority_visit_outranks_many_lower_ones():
    long_p1 = appt("P1", duration_min=480, priority=1, location=near(3, 0))
    small_p5 = [appt(f"L{i}", duration_min=60, priority=5, location=near(3, 0.2 * i))
                for i in range(5)]
    plan, _ = plan_of([tech()], [long_p1, *small_p5])
    assert "P1" in where(plan)
    assert all(reasons(plan)[f"L{i}"][0] == "capacity" for i in range(5))
    assert "higher-priority" in reasons(plan)["L0"][1]


# ------------------------------------------------------------------ travel


def test_matrix_travel_is_used_as_given():
    durations = [[0, 30, 45], [30, 0, 20], [45, 20, 0]]
    distances = [[0, 10, 15], [10, 0, 7], [15, 7, 0]]
    request = make_request([tech("T1", location=Location(index=0))],
                           [appt("A1", location=Location(index=1)),
                            appt("A2", location=Location(index=2))],
                           travel=Travel(model="matrix", durations_min=durations,
                                         distances_km=distances), **FAST)
    plan = solve(request)
    assert_valid(request, plan)
    route = plan.routes[0]
    assert route.travel_min == pytest.approx(95)
    assert route.distance_km == pytest.approx(32)
    legs = {s.appointment_id: s.travel_min for s in route.stops}
    assert legs in ({"A1": 30, "A2": 20}, {"A2": 45, "A1": 20})


# -------------------------------------------------------------- re-planning


def test_dispatched_visit_stays_with_its_technician_unless_moving_pays():
    plan, _ = plan_of([tech("T1", location=near(4, 0)), tech("T2", location=near(-2, 0))],
                      [appt("A1", planned_technician="T2")])
    assert where(plan)["A1"][0] == "T2"
    plan, _ = plan_of([tech("T1", location=near(4, 0)), tech("T2", location=near(-2, 0))],
                      [appt("A1", planned_technician="T2")], move_cost_min=0)
    assert where(plan)["A1"][0] == "T1"


def test_planned_start_is_kept_within_the_tolerance():
    plan, _ = plan_of([tech()], [appt("A1", planned_start="14:00")], shift_tolerance_min=30)
    start = where(plan)["A1"][2].start
    assert at("13:30") <= start <= at("14:30")


# ------------------------------------------------------- builder functions


def test_penalties_make_one_visit_outweigh_all_lower_ones():
    penalties, mode = priority_penalties({1: 1, 3: 4, 5: 3}, bound=10, route_capacity=5)
    assert mode == "strict"
    assert penalties[5] == 11
    assert penalties[3] == 11 + 3 * 11
    assert penalties[1] == 11 + 3 * 11 + 4 * penalties[3]
    assert penalties[1] > 4 * penalties[3] + 3 * penalties[5] + 10


def test_penalties_never_overflow():
    counts = {p: 400 for p in range(1, 6)}
    penalties, mode = priority_penalties(counts, bound=10**9, route_capacity=20)
    assert mode == "per_route"
    assert penalties[1] > 20 * penalties[2] > 0
    assert sum(counts[p] * penalties[p] for p in counts) + 10**9 < BUDGET
    penalties, mode = priority_penalties(counts, bound=10**13, route_capacity=400)
    assert mode == "scaled"
    assert penalties[1] > penalties[2] > penalties[3] > penalties[4] > penalties[5] > 0
    assert sum(counts[p] * penalties[p] for p in counts) < BUDGET


def test_technician_surcharges_for_preferences_and_moves():
    request = make_request([tech("T1"), tech("T2")],
                           [appt("A1", preferred=["T1"]), appt("A2", planned_technician="T2"),
                            appt("A3")], move_cost_min=10, preferred_bonus_min=30)
    problem = compile_problem(request)
    nodes = select_nodes(problem, assess(problem))
    depots = [0] * nodes.num_depots
    assert surcharges(problem, nodes, "T1") == depots + [0, 600, 0]
    assert surcharges(problem, nodes, "T2") == depots + [1800, 0, 0]


def test_soft_start_bounds_for_sla_and_planned_start():
    request = make_request([tech()], [appt("A1", sla_due="10:00", priority=2),
                                      appt("A2", planned_start="11:00"),
                                      appt("A3", sla_due="10:00", planned_start="11:00")],
                           shift_tolerance_min=30)
    problem = compile_problem(request)
    ten = problem.timebase.not_after(at("10:00"))
    eleven = problem.timebase.not_after(at("11:00"))
    weights = cost_weights(request.options)
    assert soft_start_bounds(problem, 0) == ((ten, weights.sla_per_s[2]), None)
    assert soft_start_bounds(problem, 1) == ((eleven + 1800, weights.drift_per_s),
                                             (eleven - 1800, weights.drift_per_s))
    upper, _ = soft_start_bounds(problem, 2)
    assert upper == (ten, max(weights.sla_per_s[3], weights.drift_per_s))


def test_load_scale_keeps_fractional_demands_exact_enough():
    assert load_scale([1, 2.0, 5]) == 1
    assert load_scale([0.5, 2]) == 1000


def _built(request):
    from optimiser.model import build_model

    problem = compile_problem(request)
    eligibility = assess(problem)
    return build_model(problem, eligibility), problem, eligibility


def test_visit_starts_become_cumul_domains_with_holes():
    built, problem, _ = _built(make_request([tech()], [appt("A1", windows=[
        window("09:00", "10:00"), window("14:00", "15:00")])]))
    cumul = built.time.CumulVar(built.index_of(0))
    nine, ten = (problem.timebase.not_before(at(c)) for c in ("09:00", "10:00"))
    two, three = (problem.timebase.not_before(at(c)) for c in ("14:00", "15:00"))
    assert (cumul.Min(), cumul.Max()) == (nine, three)
    assert cumul.Contains(ten) and cumul.Contains(two)
    assert not cumul.Contains(ten + 1) and not cumul.Contains(two - 1)


def test_shift_bounds_and_breaks_per_vehicle():
    built, problem, _ = _built(make_request(
        [tech("T1", breaks=[lunch()], max_overtime_min=30), tech("T2")], [appt("A1")]))
    vehicle = problem.vehicles[0]
    start = built.time.CumulVar(built.routing.Start(0))
    end = built.time.CumulVar(built.routing.End(0))
    assert (start.Min(), end.Max()) == (vehicle.start, vehicle.end + 1800)
    assert list(built.breaks) == [0]  # only T1 has a break
    (interval,) = built.breaks[0]
    assert (interval.StartMin(), interval.StartMax(), interval.DurationMin()) == (
        problem.timebase.not_before(at("12:00")),
        problem.timebase.not_before(at("14:00")) - 1800, 1800)
    # with breaks, soft costs live on the break-free twin clock
    assert "cost_time" in built.routing.GetAllDimensionNames()


def test_ineligible_vehicles_are_removed_from_the_visit():
    built, _, _ = _built(make_request([tech("T1", skills={"gas": 2}), tech("T2")],
                                      [appt("A1", skills={"gas": 1}), appt("A2")]))
    gas = built.routing.VehicleVar(built.index_of(0))
    anyone = built.routing.VehicleVar(built.index_of(1))
    assert gas.Contains(0) and not gas.Contains(1)
    assert anyone.Contains(0) and anyone.Contains(1)


def test_blocked_appointments_never_enter_the_model():
    built, _, _ = _built(make_request([tech()], [appt("A1", skills={"gas": 1}), appt("A2")]))
    assert built.nodes.appointments == (1,)


def test_drop_penalties_follow_priorities_and_exceed_every_other_cost():
    built, _, _ = _built(make_request([tech()], [appt("A1", priority=1), appt("A2", priority=4),
                                                 appt("A3", priority=4)]))
    assert built.penalty_mode == "strict"
    assert built.penalties[4] > built.cost_bound
    assert built.penalties[1] > 2 * built.penalties[4] + built.cost_bound
