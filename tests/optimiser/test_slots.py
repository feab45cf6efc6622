"""Slot offering on tiny instances whose answers are computed by hand.

Travel is a matrix in whole minutes so every figure can be checked on paper.
Day: Monday 2026-11-23, Europe/London = UTC in November; shifts 08:00-17:00.
Point 0 is every technician's home unless a test says otherwise.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from optimiser.schema import (
    BreakTaken,
    Location,
    Plan,
    Route,
    Shift,
    Stop,
    TimeWindow,
    Travel,
)
from optimiser.slots import (
    SlotIndex,
    SlotOptions,
    SlotWeights,
    arrive_after_breaks,
    leave_before_breaks,
    offer_slots,
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
    validate_plan,
)
from tests.optimiser.conftest import window as _w


def matrix(minutes: list[list[float]]) -> Travel:
    """Travel in minutes; distances (km) are half the minutes (30 km/h)."""
    return Travel(model="matrix", durations_min=minutes,
                  distances_km=[[m / 2 for m in row] for row in minutes])


def P(index: int) -> Location:  # noqa: N802 (reads like a point name)
    return Location(index=index)


def windows(offer) -> list[tuple[str, str]]:
    """Offered windows as ("HH:MM", technician), in the offer's order."""
    return [(s.start.strftime("%H:%M"), s.technician_id) for s in offer.slots]


def options(**kwargs) -> SlotOptions:
    kwargs.setdefault("not_before", at("07:00"))
    kwargs.setdefault("horizon_days", 1)
    return SlotOptions(**kwargs)


# Point 0 home, 1 committed visit A, 2 the draft. home-A 20, A-draft 10, home-draft 25.
THREE = matrix([[0, 20, 25], [20, 0, 10], [25, 10, 0]])


def committed_a(**kwargs):
    kwargs.setdefault("duration_min", 60)
    kwargs.setdefault("planned_start", "10:00")
    return appt("A", location=P(1), planned_technician="T1", **kwargs)


# ------------------------------------------------------------------ leg arithmetic


def test_break_on_a_leg_is_taken_where_it_costs_least():
    # Leave 11:50 (710), drive 20, break 12:00-14:00 window (start 720..810), 30 long:
    # the break starts at 12:00 mid-drive, arrival 11:50 + 20 + 30 = 12:40.
    arrival, ok = arrive_after_breaks(710, 20, [(720, 810, 30)])
    assert (int(arrival), bool(ok)) == (760, True)
    # Leaving 13:50 is too late to start the break by 13:30.
    _, ok = arrive_after_breaks(830, 20, [(720, 810, 30)])
    assert not ok
    # To arrive by 13:00 with the break on the way: latest departure 12:10
    # (drive 20 + break 30 before 13:00) and the break itself must start by 12:30.
    leave, ok = leave_before_breaks(780, 20, [(720, 810, 30)])
    assert (int(leave), bool(ok)) == (730, True)
    # Arriving by 12:20 leaves no room for a break that starts at 12:00 at the earliest.
    _, ok = leave_before_breaks(740, 20, [(720, 810, 30)])
    assert not ok


# --------------------------------------------------------------------- the offer


def test_empty_day_offers_every_window_the_shift_can_reach_asap_first():
    # Draft 60 min, 25 min from home: starts 08:25 .. 17:00 - 25 - 60 = 15:35.
    request = make_request([tech("T1", location=P(0))], [], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=60), options())
    assert windows(offer) == [("08:00", "T1"), ("10:00", "T1"), ("12:00", "T1"),
                              ("14:00", "T1")]
    first, last = offer.slots[0], offer.slots[-1]
    assert first.planned_start == at("08:25")
    assert last.planned_start == at("14:00")
    assert first.end == at("10:00")
    assert first.travel_added_min == 50 and first.distance_added_km == 25
    # Load = (60 service + 50 travel) / 540 available minutes.
    assert first.load == pytest.approx(110 / 540, abs=1e-4)
    assert (first.grade, last.grade) == (100, 0)
    assert first.insert_after is None and first.insert_before is None
    # Cost = travel 50 + load 60 x 110/540 + 10 per day of wait (1 h from 07:00).
    assert first.cost == pytest.approx(50 + 60 * 110 / 540 + 10 / 24, abs=1e-3)


def test_last_window_needs_a_start_before_its_end():
    # Latest start 15:35: the 14:00-16:00 window is offered, 16:00-18:00 is not.
    # With 30-minute windows, 15:30-16:00 (start 15:30) is the last one.
    request = make_request([tech("T1", location=P(0))], [], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=60),
                        options(slot_min=30))
    starts = sorted(s.start for s in offer.slots)
    assert starts[0] == at("08:00") and starts[-1] == at("15:30")
    assert len(starts) == 16


def test_committed_visit_may_slip_only_by_the_delay_allowance():
    # A at 10:00 (60 min). Before A: leave 08:00, arrive 08:25; the draft (30 min)
    # must leave by A's latest start minus 10 min of travel.
    #   delay 0   -> A latest 10:00 -> draft starts 08:25 .. 09:20
    #   after A   -> leave 11:00, arrive 11:10 .. 17:00 - 25 - 30 = 16:05
    request = make_request([tech("T1", location=P(0))], [committed_a()], travel=THREE)
    draft = appt("D", location=P(2), duration_min=30)
    offer = offer_slots(request, draft, options(slot_min=30, existing_delay_min=0))
    got = {s.start.strftime("%H:%M"): s for s in offer.slots}
    assert {"08:00", "08:30", "09:00"} <= set(got)
    assert not {"09:30", "10:00", "10:30"} & set(got)
    assert got["11:00"].planned_start == at("11:10")
    assert got["16:00"].planned_start == at("16:00")
    assert "16:30" not in got
    assert got["09:00"].insert_before == "A" and got["11:00"].insert_after == "A"
    # Added travel: 25 + 10 - 20 = 15 min either side of A.
    assert {s.travel_added_min for s in offer.slots} == {15}

    # The default allowance (request.options.shift_tolerance_min = 60): A may
    # start as late as 11:00, so the draft may start before A until 10:20.
    offer = offer_slots(request, draft, options(slot_min=30))
    got = {s.start.strftime("%H:%M"): s for s in offer.slots}
    assert got["10:00"].planned_start == at("10:00") and got["10:00"].insert_before == "A"
    assert "10:30" not in got


def test_committed_visit_keeps_its_own_window():
    # A booked 10:00-10:15: even with 60 min allowance it may start by 10:15 only,
    # so a draft before A must start by 10:15 - 10 - 30 = 09:35.
    request = make_request(
        [tech("T1", location=P(0))],
        [committed_a(windows=[_w("10:00", "10:15")])], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=30),
                        options(slot_min=30))
    got = {s.start.strftime("%H:%M"): s for s in offer.slots}
    assert got["09:30"].planned_start == at("09:30")
    assert "10:00" not in got and "10:30" not in got


def test_committed_visit_keeps_its_contract_coverage():
    # A's contract covers 08:00-11:00: A (60 min) must start by 10:00, i.e. not slip.
    cover = entitlement("E1", coverage=[coverage(start="08:00", end="11:00")])
    request = make_request(
        [tech("T1", location=P(0))], [committed_a(entitlement_id="E1")], [cover],
        travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=30),
                        options(slot_min=30))
    got = {s.start.strftime("%H:%M") for s in offer.slots}
    assert "09:00" in got and "09:30" not in got


def test_committed_visit_keeps_a_met_sla():
    # A's SLA is 10:30: it may slip from 10:00 to 10:30 only -> draft by 09:50.
    request = make_request([tech("T1", location=P(0))],
                           [committed_a(sla_due="10:30")], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=30),
                        options(slot_min=30))
    got = {s.start.strftime("%H:%M"): s for s in offer.slots}
    assert got["09:30"].planned_start == at("09:30")
    assert "10:00" not in got


def test_breaks_stay_hard_and_may_go_either_side_of_the_new_visit():
    # Points: 0 home, 1 A, 2 B, 3 draft. A 11:00-13:00, B at 13:40 (60 min).
    # Lunch 30 min inside 12:00-14:00: only between A and B (13:00-13:30, then
    # drive 10 -> 13:40). Draft (30 min) 5 min from A and from B.
    travel = matrix([[0, 20, 20, 30], [20, 0, 10, 5], [20, 10, 0, 5], [30, 5, 5, 0]])
    a = appt("A", location=P(1), duration_min=120, planned_technician="T1",
             planned_start="11:00")
    b = appt("B", location=P(2), duration_min=60, planned_technician="T1",
             planned_start="13:40")
    request = make_request([tech("T1", location=P(0), breaks=[lunch()])], [a, b],
                           travel=travel)
    draft = appt("D", location=P(3), duration_min=30)
    # B may slip to 14:40 (60 min allowance). Between A and B:
    # - break after the draft: the draft would start 13:05 at the earliest and end
    #   13:35, past the break's latest start (13:30): impossible;
    # - break first: leave A 13:00, break 13:00-13:30 (the 5-min drive fits around
    #   it): the draft starts 13:35 at the earliest and by 14:40 - 5 - 30 = 14:05.
    offer = offer_slots(request, draft, options(slot_min=30))
    between = [s for s in offer.slots if s.insert_after == "A"]
    assert sorted(s.start.strftime("%H:%M") for s in between) == ["13:30", "14:00"]
    assert {s.planned_start for s in between} == {at("13:35"), at("14:00")}
    # With no slip allowed for B (must start 13:40), nothing fits between A and B.
    offer = offer_slots(request, draft, options(slot_min=30, existing_delay_min=0))
    assert not [s for s in offer.slots if s.insert_after == "A"]


def test_a_visit_the_route_already_runs_late_for_is_not_delayed_at_all():
    # A is booked 08:00-16:30 at home: the lunch (12:00-14:00) cannot be kept, so the
    # committed route is already wrong. Nothing may go before A (it would push A
    # further), and nothing fits after it (16:30 + 25 + 30 + 25 > 17:00).
    request = make_request(
        [tech("T1", location=P(0), breaks=[lunch()])],
        [appt("A", location=P(0), duration_min=510, planned_technician="T1",
              planned_start="08:00")], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=30), options())
    assert offer.slots == [] and offer.blocked is None


def test_plan_routes_are_the_committed_work_when_given():
    # Same day as the delay test, but A's time comes from a plan, not planned_start.
    request = make_request([tech("T1", location=P(0))],
                           [appt("A", location=P(1), duration_min=60,
                                 windows=[_w("10:00", "10:00")])], travel=THREE)
    plan = make_plan(request, timed_route(request, "T1", ["A"]))
    offer = offer_slots(request, appt("D", location=P(2), duration_min=30),
                        options(slot_min=30, existing_delay_min=60), plan=plan)
    got = {s.start.strftime("%H:%M"): s for s in offer.slots}
    # A's window pins it to 10:00 exactly: the draft before it must start by 09:20.
    assert "09:00" in got and "09:30" not in got
    assert got["11:00"].insert_after == "A"


def test_only_eligible_technicians_are_offered_and_a_blocked_draft_says_why():
    techs = [tech("T1", location=P(0), skills={"hvac": 1}),
             tech("T2", location=P(0), skills={"hvac": 3}),
             tech("T3", location=P(0), skills={"hvac": 3})]
    request = make_request(techs, [], travel=THREE)
    draft = appt("D", location=P(2), duration_min=60, skills={"hvac": 2}, excluded=["T3"])
    offer = offer_slots(request, draft, options())
    assert {s.technician_id for s in offer.slots} == {"T2"}
    assert offer.routes_considered == 1

    offer = offer_slots(request, appt("D", location=P(2), skills={"fibre": 1}), options())
    assert offer.slots == [] and offer.blocked is not None
    assert offer.blocked.reason == "no_skilled_technician"


def test_draft_contract_coverage_limits_the_windows():
    # Coverage 12:00-14:00: a 60-minute visit may start 12:00 .. 13:00.
    cover = entitlement("E1", coverage=[coverage(start="12:00", end="14:00")])
    request = make_request([tech("T1", location=P(0))], [], [cover], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=60,
                                      entitlement_id="E1"), options(slot_min=60))
    assert [(s.start, s.planned_start) for s in offer.slots] == [
        (at("12:00"), at("12:00")), (at("13:00"), at("13:00"))]


def test_sla_fit_grades_met_at_risk_and_missed():
    # Due 11:00, priority 1. 08-10: met. 10-12: starts 10:00 but the window runs
    # past 11:00 (at risk). 12-14: starts 12:00, 60 min late.
    request = make_request([tech("T1", location=P(0))], [], travel=THREE)
    draft = appt("D", location=P(2), duration_min=60, sla_due="11:00", priority=1)
    offer = offer_slots(request, draft, options())
    fit = {s.start.strftime("%H:%M"): (s.sla, s.lateness_min) for s in offer.slots}
    assert fit == {"08:00": ("met", 0), "10:00": ("at_risk", 0), "12:00": ("missed", 60),
                   "14:00": ("missed", 180)}
    assert [s.start.strftime("%H:%M") for s in offer.slots] == ["08:00", "10:00", "12:00",
                                                                  "14:00"]
    costs = {s.start.strftime("%H:%M"): s.cost for s in offer.slots}
    # 12:00 vs 10:00: 2 h more wait (10/24 x 2), 60 late min x priority factor 4,
    # minus the 15 at-risk cost of the 10:00 window.
    assert costs["12:00"] - costs["10:00"] == pytest.approx(10 * 2 / 24 + 240 - 15, abs=1e-3)


def test_preferred_technician_wins_the_window_and_per_window_shows_both():
    techs = [tech("T1", location=P(0)), tech("T2", location=P(0))]
    request = make_request(techs, [], travel=THREE)
    draft = appt("D", location=P(2), duration_min=60, preferred=["T2"])
    offer = offer_slots(request, draft, options())
    assert {s.technician_id for s in offer.slots} == {"T2"}
    assert all(s.preferred for s in offer.slots)
    offer = offer_slots(request, draft, options(per_window=2))
    at_eight = [s for s in offer.slots if s.start == at("08:00")]
    assert [s.technician_id for s in at_eight] == ["T2", "T1"]
    assert at_eight[1].cost - at_eight[0].cost == pytest.approx(30)
    # Best first overall: every T2 window (wait differs by 10/12 per window) beats T1's.
    assert [s.technician_id for s in offer.slots] == ["T2"] * 4 + ["T1"] * 4


def test_lighter_day_wins_when_travel_is_equal():
    # T1 has a 2-hour visit at home (no travel) at 14:00: load 120/540 higher.
    request = make_request(
        [tech("T1", location=P(0)), tech("T2", location=P(0))],
        [appt("A", location=P(0), duration_min=120, planned_technician="T1",
              planned_start="14:00")],
        travel=matrix([[0, 25], [25, 0]]))
    draft = appt("D", location=P(1), duration_min=60)
    offer = offer_slots(request, draft, options(per_window=2))
    at_eight = [s for s in offer.slots if s.start == at("08:00")]
    assert [s.technician_id for s in at_eight] == ["T2", "T1"]
    assert at_eight[1].load - at_eight[0].load == pytest.approx(120 / 540, abs=1e-4)
    assert at_eight[1].cost - at_eight[0].cost == pytest.approx(60 * 120 / 540, abs=1e-3)


def test_route_capacity_is_kept():
    techs = [tech("T1", location=P(0), capacity=1), tech("T2", location=P(0), capacity=2)]
    request = make_request(techs, [committed_a(demand=1)], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), demand=1), options(per_window=2))
    assert {s.technician_id for s in offer.slots} == {"T2"}


def test_not_before_drops_started_windows_and_visits_already_under_way():
    # Now 10:30: A (10:00-11:00) is under way, nothing can go before it.
    request = make_request([tech("T1", location=P(0))], [committed_a()], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=30),
                        options(not_before=at("10:30"), slot_min=30))
    assert all(s.insert_after == "A" for s in offer.slots)
    assert offer.slots[0].start == at("11:00")
    assert offer.slots[0].planned_start == at("11:10")


def test_horizon_counts_local_days_and_a_second_shift_is_a_second_route():
    two_days = [shift(), Shift(start=at("08:00", day=1), end=at("17:00", day=1))]
    request = make_request([tech("T1", location=P(0), shifts=two_days)], [], travel=THREE)
    draft = appt("D", location=P(2), duration_min=60)
    one = offer_slots(request, draft, options(horizon_days=1))
    two = offer_slots(request, draft, options(horizon_days=2))
    assert {s.start.date() for s in one.slots} == {at("08:00").date()}
    assert len(two.slots) == 2 * len(one.slots)
    assert {s.shift_index for s in two.slots} == {0, 1}
    # Same insertion on both days: tomorrow costs one more day of wait.
    today = next(s for s in two.slots if s.start == at("08:00"))
    tomorrow = next(s for s in two.slots if s.start == at("08:00", day=1))
    assert tomorrow.cost - today.cost == pytest.approx(10)


def test_overtime_only_when_allowed():
    # 90-min draft 25 min away: latest start 17:00 - 25 - 90 = 15:05 without
    # overtime, 16:05 with the technician's 60 minutes.
    request = make_request([tech("T1", location=P(0), max_overtime_min=60)], [], travel=THREE)
    draft = appt("D", location=P(2), duration_min=90)
    normal = offer_slots(request, draft, options(slot_min=60))
    extra = offer_slots(request, draft, options(slot_min=60, allow_overtime=True))
    assert max(s.start for s in normal.slots) == at("15:00")
    assert max(s.start for s in extra.slots) == at("16:00")


def test_given_windows_recheck_one_booking():
    request = make_request([tech("T1", location=P(0))], [committed_a()], travel=THREE)
    draft = appt("D", location=P(2), duration_min=30)
    index = SlotIndex(request, options(existing_delay_min=0))
    ok = index.offer(draft, windows=[(at("11:00"), at("12:00"))])
    assert [(s.start, s.planned_start) for s in ok.slots] == [(at("11:00"), at("11:10"))]
    gone = index.offer(draft, windows=[(at("09:30"), at("10:30"))])
    assert gone.slots == []


def test_limit_and_weights_are_honoured():
    request = make_request([tech("T1", location=P(0))], [], travel=THREE)
    draft = appt("D", location=P(2), duration_min=60)
    late_first = SlotWeights(wait_per_day=-100)
    offer = offer_slots(request, draft, options(limit=2, weights=late_first))
    assert [s.start for s in offer.slots] == [at("14:00"), at("12:00")]


def test_bad_input_is_refused_with_the_field_named():
    request = make_request([tech("T1", location=P(0))], [committed_a()], travel=THREE)
    with pytest.raises(ValueError, match="already an appointment"):
        offer_slots(request, appt("A", location=P(2)), options())
    with pytest.raises(ValueError, match="entitlement_id"):
        offer_slots(request, appt("D", location=P(2), entitlement_id="nope"), options())
    with pytest.raises(ValueError, match="not_before"):
        SlotOptions(not_before=at("07:00").replace(tzinfo=None))
    with pytest.raises(ValueError, match="horizon_days"):
        options(horizon_days=0)


def test_a_drafts_own_planned_fields_are_not_committed_work():
    request = make_request([tech("T1", location=P(0))], [committed_a()], travel=THREE)
    plain = appt("D", location=P(2), duration_min=30)
    planned = appt("D", location=P(2), duration_min=30, planned_technician="T1",
                   planned_start="08:00")
    assert offer_slots(request, planned, options()) == offer_slots(request, plain, options())


def test_same_input_same_offer():
    request = make_request([tech("T1", location=P(0)), tech("T2", location=P(0))],
                           [committed_a()], travel=THREE)
    draft = appt("D", location=P(2), duration_min=45)
    assert offer_slots(request, draft, options(per_window=2)) == \
        offer_slots(request, draft, options(per_window=2))


def test_dst_day_windows_stay_on_the_local_clock():
    # Sunday 2027-03-28: London springs forward at 01:00 UTC, so 08:00 local is 07:00 UTC.
    day = (date(2027, 3, 28) - at("08:00").date()).days
    shift_day = Shift(start=at("08:00", day=day), end=at("17:00", day=day))
    request = make_request([tech("T1", location=P(0), shifts=[shift_day])], [], travel=THREE)
    offer = offer_slots(request, appt("D", location=P(2), duration_min=60),
                        options(not_before=at("00:00", day=day), timezone="Europe/London"))
    local = sorted(s.start.astimezone(shift_day.start.tzinfo).strftime("%H:%M")
                   for s in offer.slots)
    assert local == ["08:00", "10:00", "12:00", "14:00"]
    assert offer.slots[0].start.utcoffset().total_seconds() == 0  # reported in UTC
    assert min(s.start for s in offer.slots).hour == 7


# ------------------------------------------------------- booked work stays valid


def _plan_of(index: SlotIndex) -> Plan:
    """The committed routes of ``index`` as an exchange-format plan (times as timed)."""
    problem, tb = index.problem, index.problem.timebase
    travel_min, travel_km = problem.travel.duration_min, problem.travel.distance_km
    routes = []
    for vehicle in problem.vehicles:
        route = index.route(vehicle.index)
        if not route.appointments:
            continue
        stops, taken = [], []
        for j, brks in enumerate(route.leg_breaks):
            cursor = route.departs[j]
            for b in brks:  # each break as early as the leg allows (how it was timed)
                begin = max(cursor, b.start_min)
                taken.append(BreakTaken(start=tb.instant(begin),
                                        end=tb.instant(begin + b.duration)))
                cursor = begin + b.duration
        for position, a in enumerate(route.appointments):
            appointment = problem.request.appointments[a]
            start = tb.instant(route.starts[position + 1])
            due = appointment.sla_due
            a_from, a_to = route.points[position], route.points[position + 1]
            stops.append(Stop(
                appointment_id=appointment.id, arrival=start, start=start,
                end=start + timedelta(minutes=appointment.duration_min),
                travel_min=float(travel_min[a_from, a_to]),
                distance_km=float(travel_km[a_from, a_to]),
                sla_met=None if due is None else start <= due,
                lateness_min=0 if due is None else max(0.0, (start - due).total_seconds() / 60)))
        legs = list(zip(route.points, route.points[1:], strict=False))
        back = tb.instant(route.starts[-1])
        routes.append(Route.model_validate({
            "technician_id": vehicle.technician_id, "shift_index": vehicle.shift_index,
            "departure": tb.instant(vehicle.start), "return": back, "stops": stops,
            "breaks": taken, "travel_min": float(sum(travel_min[p, q] for p, q in legs)),
            "distance_km": float(sum(travel_km[p, q] for p, q in legs)),
            "overtime_min": max(0.0, (back - vehicle.shift.end).total_seconds() / 60)}))
    return Plan(status="feasible", routes=routes, unassigned=[])


def test_booking_the_best_slot_again_and_again_keeps_every_route_valid():
    """A day filled by 40 bookings, each into the best slot offered at that moment (the
    visits it pushes keep their new times): the independent referee finds nothing wrong."""
    rng = random.Random(11)
    technicians = [
        tech(f"T{k}", location=near(rng.uniform(-6, 6), rng.uniform(-6, 6)),
             skills={"hvac": rng.choice([1, 2, 3]), "gas": rng.choice([1, 3])},
             breaks=[lunch()], max_overtime_min=30, capacity=3)
        for k in range(4)]
    contracts = [entitlement("OFFICE", coverage=[coverage(start="08:00", end="16:00")]),
                 entitlement("ANY")]
    committed: list = []
    booked = 0
    for k in range(40):
        draft = appt(f"V{k}", location=near(rng.uniform(-8, 8), rng.uniform(-8, 8)),
                     duration_min=rng.choice([30, 45, 60, 90]),
                     skills={rng.choice(["hvac", "gas"]): rng.choice([1, 2])},
                     entitlement_id=rng.choice([None, "OFFICE", "ANY"]),
                     sla_due=rng.choice([None, "11:00", "15:00"]), demand=rng.choice([0, 1]),
                     windows=rng.choice([[], [_w("08:00", "12:00")], [_w("12:00", "17:00")]]))
        request = make_request(technicians, committed, contracts)
        offer = offer_slots(request, draft, options(slot_min=60))
        if not offer.slots:
            continue
        best = offer.slots[0]
        committed.append(draft.model_copy(update={
            "windows": [TimeWindow(start=best.start, end=best.end)],
            "planned_technician": best.technician_id, "planned_start": best.planned_start}))
        booked += 1
        # Store the pushed starts of later visits, as the API does after a booking.
        index = SlotIndex(make_request(technicians, committed, contracts), options())
        starts = {}
        for vehicle in index.problem.vehicles:
            route = index.route(vehicle.index)
            for position, a in enumerate(route.appointments):
                starts[index.request.appointments[a].id] = \
                    index.problem.timebase.instant(route.starts[position + 1])
        committed = [c.model_copy(update={"planned_start": starts.get(c.id, c.planned_start)})
                     for c in committed]
    assert booked >= 25  # the day really fills up
    request = make_request(technicians, committed, contracts)
    plan = _plan_of(SlotIndex(request, options()))
    assert sum(len(r.stops) for r in plan.routes) == booked
    assert validate_plan(request, plan) == []
