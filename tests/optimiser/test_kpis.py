"""KPIs on a hand-timed plan with a travel matrix, so every figure is known exactly."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from optimiser.kpis import (
    PRIORITY_WEIGHTS,
    ROUTE_COLUMNS,
    STOP_COLUMNS,
    compute_kpis,
    plan_summary,
    route_frame,
    stop_frame,
    summary_frame,
)
from optimiser.schema import Location, Plan, PlanRequest, Travel
from tests.optimiser.conftest import (
    appt,
    assert_valid,
    at,
    lunch,
    make_plan,
    make_request,
    shift,
    tech,
    timed_route,
    window,
)


def scenario() -> tuple[PlanRequest, Plan]:
    """T1 (08:00-10:30, 60 min overtime allowed) does A1 then A2 and is back at 11:15.

    Legs: home->A1 20 min / 10 km, A1->A2 15 min / 9 km, A2->home 30 min / 18 km.
    A1 (P1, 60 min) waits for its 09:00 window, 15 min past its 08:45 SLA; A2 (P2,
    30 min) starts 10:15, inside its 12:00 SLA. A3 (P1) and A4 (P5) are left out.
    T2 (08:00-12:00) has no route.
    """
    travel = Travel(model="matrix",
                    durations_min=[[0, 20, 30, 5], [20, 0, 15, 5], [30, 15, 0, 5], [5, 5, 5, 0]],
                    distances_km=[[0, 10, 18, 3], [10, 0, 9, 3], [18, 9, 0, 3], [3, 3, 3, 0]])
    request = make_request(
        [tech("T1", location=Location(index=0), shifts=[shift("08:00", "10:30")],
              max_overtime_min=60),
         tech("T2", location=Location(index=0), shifts=[shift("08:00", "12:00")])],
        [appt("A1", location=Location(index=1), duration_min=60, priority=1,
              windows=[window("09:00", "10:00")], sla_due="08:45"),
         appt("A2", location=Location(index=2), duration_min=30, priority=2, sla_due="12:00"),
         appt("A3", location=Location(index=3), priority=1, windows=[window("06:00", "07:00")]),
         appt("A4", location=Location(index=3), priority=5, windows=[window("06:00", "07:00")])],
        travel=travel)
    plan = make_plan(request, timed_route(request, "T1", ["A1", "A2"]))
    return request, plan


def test_scenario_plan_is_valid_and_timed_as_described():
    request, plan = scenario()
    assert_valid(request, plan)
    route = plan.routes[0]
    assert [(s.arrival, s.start, s.end) for s in route.stops] == [
        (at("08:20"), at("09:00"), at("10:00")), (at("10:15"), at("10:15"), at("10:45"))]
    assert route.return_ == at("11:15")


def test_compute_kpis_by_hand():
    request, plan = scenario()
    kpis = compute_kpis(request, plan)
    assert kpis.model_dump() == {
        "appointments": 4, "assigned": 2, "unassigned": 2,
        "distance_km": 37.0, "travel_min": 65.0,
        "sla_met": 1, "sla_missed": 1, "lateness_min": 15.0,
        "overtime_min": 45.0,
        # (60 + 30 service + 65 travel) / (150 min of T1's shift + 240 of T2's)
        "utilisation": round(155 / 390, 4),
        "assigned_by_priority": {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0},
        "unassigned_by_priority": {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1},
        "routes_used": 1,
    }
    assert plan.kpis == kpis  # make_plan stores the same block


def test_breaks_are_not_available_time():
    request, plan = scenario()
    request.technicians[1].shifts[0].breaks = []
    before = compute_kpis(request, plan).utilisation
    request.technicians[1].shifts[0].breaks = [lunch("10:00", "12:00", 40)]
    assert compute_kpis(request, plan).utilisation == round(155 / 350, 4) > before


def test_kpis_come_from_times_not_from_the_plans_flags():
    request, plan = scenario()
    for stop in plan.routes[0].stops:
        stop.sla_met = True
        stop.lateness_min = 0
    kpis = compute_kpis(request, plan)
    assert (kpis.sla_met, kpis.sla_missed, kpis.lateness_min) == (1, 1, 15.0)
    plan.routes[0].overtime_min = 0
    assert compute_kpis(request, plan).overtime_min == 45.0


def test_stop_frame():
    request, plan = scenario()
    frame = stop_frame(request, plan)
    assert list(frame.columns) == STOP_COLUMNS
    assert frame["appointment"].tolist() == ["A1", "A2"]
    assert frame["priority"].tolist() == [1, 2]
    assert frame["travel_min"].tolist() == [20.0, 15.0]
    assert frame["distance_km"].tolist() == [10.0, 9.0]
    assert frame["duration_min"].tolist() == [60.0, 30.0]
    assert frame["lateness_min"].tolist() == [15.0, 0.0]
    assert frame["sla_met"].tolist() == [False, True]
    assert frame.loc[0, "start"] == pd.Timestamp("2026-11-23T09:00:00Z")
    assert str(frame["start"].dt.tz) == "UTC"


def test_stop_without_sla_has_no_flag_and_no_lateness():
    request, plan = scenario()
    request.appointments[1].sla_due = None
    frame = stop_frame(request, plan)
    assert frame["sla_met"].isna().tolist() == [False, True]
    kpis = compute_kpis(request, plan)
    assert (kpis.sla_met, kpis.sla_missed) == (0, 1)


def test_empty_plan():
    request, _ = scenario()
    plan = make_plan(request)
    assert_valid(request, plan)
    frame = stop_frame(request, plan)
    assert frame.empty and list(frame.columns) == STOP_COLUMNS
    kpis = compute_kpis(request, plan)
    assert (kpis.assigned, kpis.unassigned, kpis.utilisation, kpis.routes_used) == (0, 4, 0, 0)
    assert kpis.unassigned_by_priority == {"1": 2, "2": 1, "3": 0, "4": 0, "5": 1}
    assert plan_summary(request, plan)["weighted_share"] == 0
    assert math.isnan(plan_summary(request, plan)["km_per_visit"])


def test_empty_route_is_not_a_used_route():
    request, plan = scenario()
    plan.routes.append(timed_route(request, "T2", []))
    assert compute_kpis(request, plan).routes_used == 1


def test_route_frame():
    request, plan = scenario()
    frame = route_frame(request, plan)
    assert list(frame.columns) == ROUTE_COLUMNS
    row = frame.iloc[0]
    assert (row["technician"], row["stops"], row["service_min"], row["travel_min"]) == \
        ("T1", 2, 90.0, 65.0)
    assert (row["shift_min"], row["available_min"], row["overtime_min"]) == (150, 150, 45)
    assert row["utilisation"] == pytest.approx(155 / 150)


def test_plan_summary_weights_priorities():
    request, plan = scenario()
    summary = plan_summary(request, plan)
    assert PRIORITY_WEIGHTS == {1: 16, 2: 8, 3: 4, 4: 2, 5: 1}
    assert summary["weighted_assigned"] == 16 + 8
    assert summary["weighted_share"] == pytest.approx(24 / (16 + 8 + 16 + 1))
    assert summary["weighted_work_min"] == 16 * 60 + 8 * 30
    assert summary["km_per_visit"] == 18.5
    assert summary["travel_min_per_visit"] == 32.5
    assert (summary["assigned_p1"], summary["unassigned_p1"], summary["unassigned_p5"]) == \
        (1, 1, 1)


def test_summary_frame_has_one_row_per_run():
    request, plan = scenario()
    only_a2 = make_plan(request, timed_route(request, "T1", ["A2"]))
    frame = summary_frame({"both": (request, plan), "a2": (request, only_a2)})
    assert frame.index.tolist() == ["both", "a2"] and frame.index.name == "run"
    assert frame.loc["a2", "assigned"] == 1
    assert frame.loc["both", "weighted_assigned"] > frame.loc["a2", "weighted_assigned"]
