"""The plan referee: a valid hand-made plan passes, and each broken rule is caught by its code.

Every case starts from the same valid plan, breaks ONE rule, and checks the
violation's code (and, where the breach cannot spill over, that it is the only
one). ``test_every_rule_has_a_case`` keeps ``RULES`` and the cases in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from geopy.distance import great_circle

from optimiser.kpis import compute_kpis
from optimiser.schema import (
    BreakTaken,
    Location,
    Plan,
    PlanRequest,
    Route,
    Stop,
    Travel,
    Unassigned,
)
from optimiser.validate import (
    EARTH_RADIUS_KM,
    RULES,
    Violation,
    assert_valid,
    haversine_km,
    reference_leg,
    validate_plan,
)
from tests.optimiser.conftest import (
    appt,
    at,
    coverage,
    entitlement,
    lunch,
    make_plan,
    make_request,
    near,
    shift,
    tech,
    timed_route,
    window,
)


def scenario(kpis: bool = False) -> tuple[PlanRequest, Plan]:
    """Two technicians, four appointments, one left out; every rule is in play."""
    gold = entitlement("E1", coverage=[coverage()], valid_until="23:59", min_skill_level=2)
    t1 = tech("T1", skills={"hvac": 3}, territories=["north"], capacity=5,
              breaks=[lunch()], max_overtime_min=30)
    t2 = tech("T2", skills={"hvac": 1}, location=near(-5, 0), territories=["south"])
    request = make_request(
        [t1, t2],
        [
            appt("A1", skills={"hvac": 2}, entitlement_id="E1",
                 windows=[window("09:00", "11:00")], sla_due="10:00", territory="north",
                 demand=2, excluded=["T2"]),
            appt("A2", location=near(0, 6), duration_min=60, priority=1,
                 windows=[window("07:00", "08:00"), window("13:00", "15:00")], sla_due="13:00"),
            appt("A3", location=near(10, 10), skills={"hvac": 1}, territory="south"),
            appt("A4", windows=[window("06:00", "07:00")]),
        ],
        [gold],
    )
    # T1: A1 at 09:00 (waits for its window), A2 at 13:00 with lunch 12:00-12:30 while waiting.
    plan = make_plan(
        request,
        timed_route(request, "T1", ["A1", "A2"], breaks=[("12:00", "12:30")]),
        timed_route(request, "T2", ["A3"]),
        unassigned={"A4": "window_unreachable"},
        kpis=kpis,
    )
    return request, plan


def codes(request: PlanRequest, plan: Plan) -> set[str]:
    return {v.rule for v in validate_plan(request, plan)}


def route_of(plan: Plan, technician_id: str) -> Route:
    return next(r for r in plan.routes if r.technician_id == technician_id)


def stop_of(plan: Plan, appointment_id: str) -> Stop:
    return next(s for r in plan.routes for s in r.stops if s.appointment_id == appointment_id)


def appt_of(request: PlanRequest, appointment_id: str):
    return next(a for a in request.appointments if a.id == appointment_id)


# ----------------------------------------------------------------- valid plans


def test_scenario_is_valid_and_exercises_the_rules():
    request, plan = scenario(kpis=True)
    assert validate_plan(request, plan) == []
    assert_valid(request, plan)
    a2 = stop_of(plan, "A2")
    assert a2.arrival < at("12:00") and a2.start == at("13:00")  # waited, lunch in between
    assert route_of(plan, "T1").breaks[0].start == at("12:00")


def test_break_taken_on_the_road_delays_arrival():
    request = make_request([tech(breaks=[lunch()])], [appt("A1", location=near(0, 6))])
    route = timed_route(request, "T1", ["A1"], departure="11:55", breaks=[("12:00", "12:30")])
    plan = make_plan(request, route)
    assert_valid(request, plan)
    drive_min = reference_leg(request.travel, request.technicians[0].start_location,
                              request.appointments[0].location)[0]
    assert route.stops[0].arrival >= at("11:55") + timedelta(minutes=30 + drive_min)
    # Same plan, but arriving as if no break had been taken on the way:
    route.stops[0].arrival -= timedelta(minutes=30)
    route.stops[0].start -= timedelta(minutes=30)
    route.stops[0].end -= timedelta(minutes=30)
    assert "travel_time" in codes(request, make_plan(request, route))


def test_one_second_rounding_is_tolerated_but_more_is_not():
    request, plan = scenario()
    a2 = stop_of(plan, "A2")
    a2.travel_min += 0.9 / 60
    assert codes(request, plan) == set()
    a2.travel_min += 1.0 / 60
    assert codes(request, plan) == {"stop_travel"}


@pytest.mark.parametrize(("early_s", "caught"), [(0.5, False), (2, True)])
def test_window_start_has_one_second_tolerance(early_s, caught):
    request, plan = scenario()
    a1 = stop_of(plan, "A1")  # starts exactly at its window's 09:00 opening
    a1.start -= timedelta(seconds=early_s)
    a1.end -= timedelta(seconds=early_s)
    assert ("window" in codes(request, plan)) is caught


@pytest.mark.parametrize(("window_start", "ok"), [("17:30", True), ("17:31", False)])
def test_visit_may_end_exactly_when_coverage_ends(window_start, ok):
    request = make_request(
        [tech(shifts=[shift("17:00", "19:00")])],
        [appt("A1", entitlement_id="E1", location=near(1, 0), duration_min=30,
              windows=[window(window_start, "17:50")])],
        [entitlement("E1", coverage=[coverage(end="18:00")])])
    plan = make_plan(request, timed_route(request, "T1", ["A1"]))
    assert (codes(request, plan) == set()) is ok


def test_matrix_travel_model():
    travel = Travel(model="matrix", durations_min=[[0, 20, 30], [20, 0, 15], [30, 15, 0]],
                    distances_km=[[0, 10, 18], [10, 0, 9], [18, 9, 0]])
    request = make_request([tech(location=Location(index=0))],
                           [appt("A1", location=Location(index=1)),
                            appt("A2", location=Location(index=2))], travel=travel)
    route = timed_route(request, "T1", ["A1", "A2"])
    assert [s.travel_min for s in route.stops] == [20, 15]
    assert (route.travel_min, route.distance_km) == (65, 37)
    plan = make_plan(request, route)
    assert_valid(request, plan)
    route.stops[1].distance_km = 10
    assert codes(request, plan) == {"stop_travel"}


def test_haversine_agrees_with_geopy_and_the_road_factor_applies():
    london, paris = Location(lat=51.5074, lon=-0.1278), Location(lat=48.8566, lon=2.3522)
    expected = great_circle((51.5074, -0.1278), (48.8566, 2.3522), radius=EARTH_RADIUS_KM).km
    assert haversine_km(london, paris) == pytest.approx(expected, rel=1e-9)
    assert 343 < expected < 344
    minutes, km = reference_leg(Travel(speed_kmh=60, road_factor=1.5), london, paris)
    assert km == pytest.approx(expected * 1.5)
    assert minutes == pytest.approx(expected * 1.5)  # 60 km/h: one minute per km


def test_visit_running_past_coverage_end_is_caught():
    request = make_request(
        [tech(shifts=[shift("17:00", "19:00")])],
        [appt("A1", entitlement_id="E1", location=near(1, 0), duration_min=30,
              windows=[window("17:45", "17:50")])],
        [entitlement("E1", coverage=[coverage(end="18:00")])])
    plan = make_plan(request, timed_route(request, "T1", ["A1"]))
    assert codes(request, plan) == {"coverage"}


@pytest.mark.parametrize(("change", "reachable"), [
    ({}, True),
    ({"windows": [window("06:00", "07:50")]}, False),  # shift starts 08:00, 9.75 min away
    ({"windows": [window("06:00", "08:10")]}, True),
    ({"windows": [window("16:40", "18:00")]}, False),  # 30 min + 9.75 home > 17:00
    ({"windows": [window("16:15", "18:00")]}, True),
    ({"duration_min": 520}, False),  # 08:10 + 520 min + drive home is past 17:00
    ({"duration_min": 500}, False),  # fits the shift, but lunch (12-14) cannot be taken
    ({"duration_min": 200}, True),
    ({"skills": {"gas": 1}}, False),
    ({"excluded": ["T1"]}, False),
    ({"entitlement_id": "E-EVENING"}, False),  # covered 18:00-22:00 only
    ({"entitlement_id": "E-LATE-SHIFT"}, True),
])
def test_window_unreachable_is_refuted_only_when_an_empty_day_clearly_reaches_it(change,
                                                                                reachable):
    fields = {"windows": [], **change}
    entitlements = [entitlement("E-EVENING", coverage=[coverage(start="18:00", end="22:00")]),
                    entitlement("E-LATE-SHIFT", coverage=[coverage(start="14:00", end="22:00")])]
    request = make_request([tech(breaks=[lunch()])], [appt("A1", **fields)], entitlements)
    plan = make_plan(request, unassigned={"A1": "window_unreachable"})
    assert (codes(request, plan) == {"unassigned_reason"}) is reachable


def test_pinned_appointment_may_be_reported_unassigned():
    request = make_request([tech("T1"), tech("T2")], [appt("A1", pinned="T2", excluded=["T2"])])
    plan = make_plan(request, unassigned={"A1": "pinned_infeasible"})
    assert_valid(request, plan)


def test_empty_route_is_allowed_and_owes_no_break():
    request = make_request([tech(breaks=[lunch()])], [appt("A1")])
    plan = make_plan(request, timed_route(request, "T1", []))
    assert_valid(request, plan)


def test_assert_valid_lists_the_violations():
    request, plan = scenario()
    stop_of(plan, "A1").start -= timedelta(hours=1)
    with pytest.raises(AssertionError, match=r"\[window\] T1, A1: starts"):
        assert_valid(request, plan)


def test_violation_is_a_frozen_value():
    v = Violation("skill", "requires hvac>=2", "A1", "T1")
    with pytest.raises(AttributeError):
        v.rule = "other"  # type: ignore[misc]
    assert str(v) == "[skill] T1, A1: requires hvac>=2"


# ------------------------------------------------------ one broken rule per case


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    breaks: Callable[[PlanRequest, Plan], None]
    only: bool  # True when the breach must be the plan's only violation


CASES: list[Case] = []


def case(rule: str, only: bool = True):
    def register(function: Callable[[PlanRequest, Plan], None]):
        CASES.append(Case(rule, function.__name__, function, only))
        return function
    return register


@case("status", only=False)
def infeasible_status_with_routes(request, plan):
    plan.status = "infeasible_request"


@case("unknown_appointment")
def unassigned_names_unknown_id(request, plan):
    plan.unassigned.append(Unassigned(appointment_id="ZZ", reason="capacity", detail="x"))


@case("duplicate_appointment")
def scheduled_and_unassigned(request, plan):
    plan.unassigned.append(Unassigned(appointment_id="A1", reason="capacity", detail="x"))


@case("missing_appointment")
def left_out_silently(request, plan):
    plan.unassigned.clear()


@case("unknown_technician")
def route_for_stranger(request, plan):
    route_of(plan, "T2").technician_id = "T9"


@case("shift_index")
def shift_out_of_range(request, plan):
    route_of(plan, "T2").shift_index = 1


@case("duplicate_route", only=False)
def two_routes_one_shift(request, plan):
    plan.routes.append(timed_route(request, "T2", []))


@case("route_overlap")
def overlapping_shifts_both_used(request, plan):
    t2 = request.technicians[1]
    t2.shifts.append(shift("08:30", "18:00"))  # T2's first route is out until about 09:40
    plan.routes.append(timed_route(request, "T2", [], shift_index=1))


@case("naive_datetime")
def arrival_without_offset(request, plan):
    stop_of(plan, "A2").arrival = stop_of(plan, "A2").arrival.replace(tzinfo=None)


@case("skill")
def lacks_required_skill(request, plan):
    appt_of(request, "A2").required_skills = {"fibre": 1}


@case("skill")
def below_entitlement_floor(request, plan):
    request.entitlements[0].min_skill_level = 4  # A1 asks hvac 2, T1 has 3


@case("not_onsite")
def entitlement_without_onsite(request, plan):
    request.entitlements[0].onsite = False


@case("coverage")
def visit_before_coverage_opens(request, plan):
    request.entitlements[0].coverage = [coverage(start="10:00")]


@case("entitlement_expired")
def expired_before_visit(request, plan):
    request.entitlements[0].valid_until = at("08:30")


@case("entitlement_not_yet_valid")
def contract_starts_after_visit(request, plan):
    request.entitlements[0].valid_from = at("12:00")


@case("entitlement_suspended")
def contract_suspended(request, plan):
    request.entitlements[0].suspended = "usage cap of 10 visits used up"


@case("territory")
def wrong_territory(request, plan):
    appt_of(request, "A1").territory = "south"


@case("excluded")
def excluded_technician(request, plan):
    appt_of(request, "A2").excluded_technicians = ["T1"]


@case("pinned")
def pinned_elsewhere(request, plan):
    appt_of(request, "A2").pinned_technician = "T2"


@case("window")
def start_outside_windows(request, plan):
    appt_of(request, "A1").windows[0].start = at("09:10")


@case("duration")
def visit_too_short(request, plan):
    appt_of(request, "A1").duration_min = 45


@case("start_before_arrival")
def starts_before_arriving(request, plan):
    stop_of(plan, "A2").arrival = at("13:10")


@case("travel_time")
def arrives_too_soon(request, plan):
    stop_of(plan, "A2").arrival = stop_of(plan, "A1").end + timedelta(minutes=1)


@case("departure_before_shift")
def leaves_early(request, plan):
    route_of(plan, "T1").departure = at("07:00")


@case("return_travel")
def home_too_soon(request, plan):
    route_of(plan, "T1").return_ = stop_of(plan, "A2").end + timedelta(minutes=1)


@case("late_return")
def past_overtime(request, plan):
    route = route_of(plan, "T1")
    route.return_ = at("17:31")
    route.overtime_min = 31


@case("overtime_figure")
def overtime_reported_without_cause(request, plan):
    route_of(plan, "T1").overtime_min = 5


@case("break_missing")
def lunch_skipped(request, plan):
    route_of(plan, "T1").breaks.clear()


@case("break_extra")
def second_lunch(request, plan):
    route_of(plan, "T1").breaks.append(BreakTaken(start=at("15:00"), end=at("15:30")))


@case("break_duration")
def lunch_too_short(request, plan):
    route_of(plan, "T1").breaks[0].end = at("12:20")


@case("break_window")
def lunch_too_early(request, plan):
    route_of(plan, "T1").breaks[0] = BreakTaken(start=at("11:00"), end=at("11:30"))


@case("break_overlap")
def lunch_during_visit(request, plan):
    route_of(plan, "T1").breaks[0] = BreakTaken(start=at("13:10"), end=at("13:40"))


@case("capacity")
def overloaded(request, plan):
    request.technicians[0].capacity = 1


@case("stop_travel")
def stop_distance_misreported(request, plan):
    stop_of(plan, "A1").distance_km += 0.5


@case("route_travel")
def route_total_misses_way_home(request, plan):
    route = route_of(plan, "T1")
    route.travel_min = sum(s.travel_min for s in route.stops)


@case("sla_flag")
def sla_flag_wrong(request, plan):
    stop_of(plan, "A1").sla_met = False  # starts 09:00, due 10:00


@case("sla_flag")
def sla_flag_missing(request, plan):
    stop_of(plan, "A2").sla_met = None


@case("lateness_figure")
def lateness_invented(request, plan):
    stop_of(plan, "A2").lateness_min = 5


@case("unassigned_reason")
def reason_excluded_without_exclusion(request, plan):
    plan.unassigned[0].reason = "excluded"


@case("unassigned_reason")
def reason_no_skill_while_someone_has_it(request, plan):
    plan.unassigned[0].reason = "no_skilled_technician"


@case("unassigned_reason")
def reason_territory_without_territory(request, plan):
    plan.unassigned[0].reason = "territory"


@case("unassigned_reason")
def reason_pinned_without_pin(request, plan):
    plan.unassigned[0].reason = "pinned_infeasible"


@case("unassigned_reason")
def reason_not_entitled_without_entitlement(request, plan):
    plan.unassigned[0].reason = "not_entitled"


@case("unassigned_reason")
def reason_not_entitled_with_unrestricted_entitlement(request, plan):
    request.entitlements.append(entitlement("E-ANY"))
    appt_of(request, "A4").entitlement_id = "E-ANY"
    plan.unassigned[0].reason = "not_entitled"


@case("unassigned_reason")
def reason_window_unreachable_but_an_empty_day_reaches_it(request, plan):
    appt_of(request, "A4").windows = [window("15:00", "16:00")]


@case("unassigned_reason")
def reason_detail_empty(request, plan):
    plan.unassigned[0].detail = "  "


@case("unassigned_reason")
def reason_unknown_code(request, plan):
    plan.unassigned[0] = Unassigned.model_construct(appointment_id="A4", reason="bad_luck",
                                                    detail="x")


@case("kpis")
def kpis_overstate_assigned(request, plan):
    plan.kpis = compute_kpis(request, plan)
    plan.kpis.assigned += 1


@pytest.mark.parametrize("item", CASES, ids=lambda c: f"{c.rule}-{c.name}")
def test_broken_rule_is_caught(item: Case):
    request, plan = scenario()
    assert codes(request, plan) == set()
    item.breaks(request, plan)
    found = codes(request, plan)
    assert item.rule in found
    if item.only:
        assert found == {item.rule}


def test_every_rule_has_a_case():
    assert {c.rule for c in CASES} == set(RULES)


def test_referee_never_crashes_on_scrambled_plans():
    """Random damage (moved times, swapped ids, dropped or repeated stops) gives violations,
    never an exception: the referee must survive any plan a buggy solver could emit."""
    rng = random.Random(7)
    for _ in range(300):
        request, plan = scenario(kpis=True)
        stops = [s for r in plan.routes for s in r.stops]
        for _ in range(rng.randint(1, 4)):
            stop, route = rng.choice(stops), rng.choice(plan.routes)
            damage = rng.randrange(7)
            if damage == 0:
                stop.start += timedelta(minutes=rng.uniform(-300, 300))
            elif damage == 1:
                stop.appointment_id = rng.choice(["A1", "A2", "A3", "A4", "ZZ"])
            elif damage == 2 and route.stops:
                route.stops.pop(rng.randrange(len(route.stops)))
            elif damage == 3:
                route.stops.append(stop.model_copy())
            elif damage == 4:
                route.technician_id = rng.choice(["T1", "T2", "T3"])
                route.shift_index = rng.choice([0, 1, -1])
            elif damage == 5:
                stop.end = stop.end.replace(tzinfo=None)
            else:
                route.breaks.append(BreakTaken(start=stop.start, end=stop.start))
        found = validate_plan(request, plan)
        assert all(v.rule in RULES and v.message for v in found)


def test_infeasible_request_plan():
    request, _ = scenario()
    assert codes(request, Plan(status="infeasible_request", error="no technicians")) == set()
    assert codes(request, Plan(status="infeasible_request")) == {"status"}


def test_violation_names_who_and_why():
    request, plan = scenario()
    appt_of(request, "A1").required_skills = {"hvac": 4}
    (violation,) = validate_plan(request, plan)
    assert (violation.rule, violation.technician_id, violation.appointment_id) == \
        ("skill", "T1", "A1")
    assert violation.message == "requires hvac>=4; the technician has hvac=3"
