"""Eligibility: who may take each appointment and when, and the reason when nobody may."""

from __future__ import annotations

from optimiser.eligibility import (
    Eligibility,
    alone_start_intervals,
    assess,
    describe_coverage,
)
from optimiser.problem import BreakSpec, Vehicle, compile_problem
from tests.optimiser.conftest import (
    appt,
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


def _assess(request) -> tuple[list[Eligibility], object]:
    problem = compile_problem(request)
    return assess(problem), problem


def _only(request) -> Eligibility:
    return _assess(request)[0][0]


def _seconds(problem, clock: str, day: int = 0) -> int:
    return problem.timebase.not_before(at(clock, day))


# ------------------------------------------------------------------ skills


def test_missing_level_names_the_skill_and_the_best_level_available():
    item = _only(make_request([tech("T1", skills={"fibre": 2}), tech("T2", skills={"fibre": 1})],
                              [appt("A7", skills={"fibre": 3})]))
    assert item.blocked.reason == "no_skilled_technician"
    assert item.blocked.detail == "requires fibre>=3; best available level is 2"


def test_skill_nobody_has():
    item = _only(make_request([tech("T1")], [appt("A1", skills={"gas": 1})]))
    assert item.blocked.reason == "no_skilled_technician"
    assert "no technician has gas" in item.blocked.detail


def test_each_skill_held_but_never_together():
    item = _only(make_request([tech("T1", skills={"gas": 2}), tech("T2", skills={"hvac": 2})],
                              [appt("A1", skills={"gas": 1, "hvac": 1})]))
    assert item.blocked.reason == "no_skilled_technician"
    assert "no technician has all of them" in item.blocked.detail


def test_entitlement_level_floor_raises_the_required_level():
    techs = [tech("T1", skills={"hvac": 2})]
    ok = _only(make_request(techs, [appt("A1", skills={"hvac": 1}, entitlement_id="E1")],
                            [entitlement("E1", min_skill_level=2)]))
    assert ok.plannable and ok.vehicles == (0,)
    blocked = _only(make_request(techs, [appt("A1", skills={"hvac": 1}, entitlement_id="E1")],
                                 [entitlement("E1", min_skill_level=3)]))
    assert blocked.blocked.reason == "no_skilled_technician"
    assert blocked.blocked.detail.startswith("requires hvac>=3; best available level is 2")
    assert "entitlement E1 raises every level to at least 3" in blocked.blocked.detail


def test_only_skilled_technicians_are_eligible():
    items, _ = _assess(make_request(
        [tech("T1", skills={"hvac": 3}), tech("T2", skills={"hvac": 1}), tech("T3")],
        [appt("A1", skills={"hvac": 2})]))
    assert items[0].vehicles == (0,)


# ------------------------------------------------------------- contracts


def test_entitlement_without_onsite_cover():
    item = _only(make_request([tech()], [appt("A1", entitlement_id="E-9")],
                              [entitlement("E-9", onsite=False)]))
    assert item.blocked.reason == "not_entitled"
    assert item.blocked.detail == "entitlement E-9 has no on-site cover"


def test_expired_entitlement_names_the_expiry_date():
    item = _only(make_request([tech()], [appt("A1", entitlement_id="E-9")],
                              [entitlement("E-9", valid_until=at("07:00", day=-22))]))
    assert item.blocked.reason == "not_entitled"
    assert item.blocked.detail.startswith("entitlement E-9 expired on 2026-11-01 07:00")


def test_visit_must_start_before_valid_until():
    item, problem = None, None
    items, problem = _assess(make_request(
        [tech()], [appt("A1", entitlement_id="E1", windows=[window("09:00", "12:00")])],
        [entitlement("E1", valid_until="10:00")]))
    item = items[0]
    assert item.plannable
    assert item.start_intervals[-1][1] == _seconds(problem, "10:00") - 1


def test_suspended_entitlement_says_why():
    contract = entitlement("E-9").model_copy(update={"suspended": "the contract is inactive"})
    item = _only(make_request([tech()], [appt("A1", entitlement_id="E-9")], [contract]))
    assert item.blocked.reason == "not_entitled"
    assert item.blocked.detail == "entitlement E-9 is suspended: the contract is inactive"


def test_visit_must_start_at_or_after_valid_from():
    items, problem = _assess(make_request(
        [tech()], [appt("A1", entitlement_id="E1", windows=[window("09:00", "12:00")])],
        [entitlement("E1").model_copy(update={"valid_from": at("10:30")})]))
    assert items[0].plannable
    assert items[0].start_intervals[0][0] == _seconds(problem, "10:30")


def test_entitlement_not_yet_valid_names_the_date():
    contract = entitlement("E-9").model_copy(update={"valid_from": at("07:00", day=3)})
    item = _only(make_request([tech()], [appt("A1", entitlement_id="E-9")], [contract]))
    assert item.blocked.reason == "not_entitled"
    assert item.blocked.detail.startswith("entitlement E-9 is valid only from 2026-11-26 07:00")


def test_no_window_inside_coverage():
    item = _only(make_request(
        [tech(shifts=[shift("08:00", "22:00")])],
        [appt("A1", entitlement_id="E1", windows=[window("19:00", "20:00")])],
        [entitlement("E1", coverage=[coverage()])]))
    assert item.blocked.reason == "not_entitled"
    assert item.blocked.detail == ("no window overlaps the contract's coverage "
                                   "(Mon-Fri 08:00-18:00 Europe/London)")


def test_window_overlapping_coverage_but_too_late_for_the_whole_visit():
    item = _only(make_request(
        [tech(shifts=[shift("08:00", "22:00")])],
        [appt("A1", entitlement_id="E1", duration_min=30, windows=[window("17:45", "18:00")])],
        [entitlement("E1", coverage=[coverage()])]))
    assert item.blocked.reason == "not_entitled"
    assert "30-min visit" in item.blocked.detail


def test_whole_visit_inside_coverage_cuts_the_allowed_starts():
    items, problem = _assess(make_request(
        [tech(shifts=[shift("08:00", "22:00")])],
        [appt("A1", entitlement_id="E1", duration_min=60,
              windows=[window("16:00", "20:00")])],
        [entitlement("E1", coverage=[coverage()])]))
    assert items[0].start_intervals == ((_seconds(problem, "16:00"), _seconds(problem, "17:00")),)


def test_several_windows_keep_only_the_covered_ones():
    items, problem = _assess(make_request(
        [tech(shifts=[shift("08:00", "17:00", day=0), shift("08:00", "17:00", day=5)])],
        [appt("A1", entitlement_id="E1", windows=[window("09:00", "10:00"),
                                                  window("09:00", "10:00", day=5)])],
        [entitlement("E1", coverage=[coverage()])]))  # day 5 is a Saturday
    assert items[0].start_intervals == ((_seconds(problem, "09:00"), _seconds(problem, "10:00")),)


def test_coverage_is_described_in_dispatcher_words():
    e = entitlement("E1", coverage=[coverage(("mon", "tue", "wed", "fri"), "07:00", "19:00"),
                                    coverage(("sat",), "09:00", "13:00")])
    assert describe_coverage(e) == "Mon-Wed,Fri 07:00-19:00; Sat 09:00-13:00 Europe/London"


# ----------------------------------------------------- territory, exclusion


def test_territory_names_the_territory():
    item = _only(make_request([tech("T1", territories=["south"]), tech("T2", territories=["east"])],
                              [appt("A1", territory="north")]))
    assert item.blocked.reason == "territory"
    assert item.blocked.detail.startswith("only technicians in territory 'north' may go")


def test_technicians_without_territories_may_go_anywhere():
    items, _ = _assess(make_request([tech("T1", territories=["south"]), tech("T2")],
                                    [appt("A1", territory="north")]))
    assert items[0].vehicles == (1,)


def test_everybody_excluded():
    item = _only(make_request([tech("T1"), tech("T2", skills={"gas": 1})],
                              [appt("A1", excluded=["T1", "T2"])]))
    assert item.blocked.reason == "excluded"
    assert "T1, T2" in item.blocked.detail


def test_demand_above_every_capacity():
    item = _only(make_request([tech("T1", capacity=2), tech("T2", capacity=1)],
                              [appt("A1", demand=3)]))
    assert item.blocked.reason == "capacity"
    assert "largest: 2, T1" in item.blocked.detail


# ------------------------------------------------------------------ pinned


def test_pinned_technician_lacking_the_skill():
    item = _only(make_request([tech("T1", skills={"hvac": 3}), tech("T3", skills={"hvac": 2})],
                              [appt("A1", skills={"hvac": 3}, pinned="T3")]))
    assert item.blocked.reason == "pinned_infeasible"
    assert item.blocked.detail == "pinned technician T3 lacks hvac>=3"


def test_pinned_visit_may_only_go_to_its_technician():
    items, _ = _assess(make_request([tech("T1"), tech("T2"), tech("T3")],
                                    [appt("A1", pinned="T2")]))
    assert items[0].vehicles == (1,)


def test_pinned_technician_who_cannot_get_there_in_time():
    item = _only(make_request([tech("T1"), tech("T2", location=near(60, 0))],
                              [appt("A1", pinned="T2", windows=[window("08:00", "08:10")])]))
    assert item.blocked.reason == "pinned_infeasible"
    assert item.blocked.detail.startswith("pinned technician T2 cannot do it")


# --------------------------------------------------------------- reaching


def test_window_outside_every_shift():
    item = _only(make_request([tech()], [appt("A1", windows=[window("06:00", "07:00")])]))
    assert item.blocked.reason == "window_unreachable"
    assert "fall outside every eligible technician's shifts" in item.blocked.detail


def test_too_far_to_reach_inside_the_window():
    early = [window("08:00", "08:30")]
    item = _only(make_request([tech("T1")], [appt("A1", location=near(40, 0), windows=early)]))
    assert item.blocked.reason == "window_unreachable"
    assert "nearest: T1" in item.blocked.detail


def test_travel_back_must_fit_before_shift_end_plus_overtime():
    far = near(30, 0)  # 39 road km: 58.5 min at 40 km/h; 15:45 + 30 min + 58.5 min > 17:00
    late = [window("15:45", "15:45")]
    blocked = _only(make_request([tech("T1")], [appt("A1", location=far, windows=late)]))
    assert blocked.blocked.reason == "window_unreachable"
    allowed = _only(make_request([tech("T1", max_overtime_min=60)],
                                 [appt("A1", location=far, windows=late)]))
    assert allowed.plannable


def test_visit_may_not_cut_through_a_fixed_break():
    fixed = lunch("12:00", "12:30", 30)
    blocked = _only(make_request([tech(breaks=[fixed])],
                                 [appt("A1", duration_min=30, windows=[window("11:40", "11:50")])]))
    assert blocked.blocked.reason == "window_unreachable"
    fine = _only(make_request([tech(breaks=[fixed])],
                              [appt("A1", duration_min=30, windows=[window("11:00", "11:20")])]))
    assert fine.plannable


def test_other_shift_day_makes_the_window_reachable():
    items, problem = _assess(make_request(
        [tech(shifts=[shift("08:00", "17:00", day=1)])],
        [appt("A1", windows=[window("09:00", "10:00", day=0)]),
         appt("A2", windows=[window("09:00", "10:00", day=1)])]))
    assert items[0].blocked.reason == "window_unreachable"
    assert items[1].plannable


def _vehicle(start: int, hard_end: int, *breaks: BreakSpec) -> Vehicle:
    return Vehicle(index=0, technician=0, technician_id="T1", shift_index=0, shift=shift(),
                   start=start, end=hard_end, hard_end=hard_end, breaks=tuple(breaks),
                   start_point=0, end_point=0)


def test_alone_start_intervals_without_breaks():
    vehicle = _vehicle(0, 1000)
    assert alone_start_intervals(vehicle, 100, 50, 200, [(0, 5000)]) == [(100, 750)]
    assert alone_start_intervals(vehicle, 100, 50, 200, [(800, 900)]) == []


def test_alone_start_intervals_keep_the_break_out_of_the_visit():
    brk = BreakSpec(start_min=400, start_max=400, duration=100)  # fixed 400-500
    vehicle = _vehicle(0, 1000, brk)
    starts = alone_start_intervals(vehicle, 50, 50, 100, [(0, 1000)])
    # before the break: start 50..300 (visit ends by 400); after: 500..850
    assert starts == [(50, 300), (500, 850)]


def test_alone_start_intervals_break_taken_during_the_drive():
    early = BreakSpec(start_min=0, start_max=100, duration=100)  # must start by 100
    assert alone_start_intervals(_vehicle(0, 1000, early), 200, 200, 100,
                                 [(0, 1000)]) == [(300, 700)]
    anytime = BreakSpec(start_min=0, start_max=1000, duration=100)  # before or after
    assert alone_start_intervals(_vehicle(0, 1000, anytime), 200, 200, 100,
                                 [(0, 1000)]) == [(200, 700)]


# -------------------------------------------------------------- precedence


def test_contract_reasons_come_before_skills():
    item = _only(make_request([tech()], [appt("A1", skills={"gas": 5}, entitlement_id="E1")],
                              [entitlement("E1", onsite=False)]))
    assert item.blocked.reason == "not_entitled"


def test_skills_come_before_territory_and_exclusion():
    item = _only(make_request([tech("T1", territories=["south"])],
                              [appt("A1", skills={"gas": 1}, territory="north",
                                    excluded=["T1"])]))
    assert item.blocked.reason == "no_skilled_technician"


def test_eligible_appointment_has_its_allowed_start_times():
    items, problem = _assess(make_request([tech()], [appt("A1", windows=[
        window("09:00", "10:00"), window("14:00", "15:00")])]))
    assert items[0].blocked is None
    assert items[0].start_intervals == (
        (_seconds(problem, "09:00"), _seconds(problem, "10:00")),
        (_seconds(problem, "14:00"), _seconds(problem, "15:00")))
