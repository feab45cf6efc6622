"""The benchmark scripts' own machinery: parsing, exact re-checks, the VROOM encoding.

The benchmarks themselves print figures and are not run here; these tests keep
the yardsticks honest (a wrong parser or encoding would make every figure lie).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from data.generate import generate_day
from optimiser.schema import Appointment, Entitlement, Location, PlanRequest, TimeWindow
from optimiser.validate import validate_plan
from tests.benchmarks import solomon

pytest.importorskip("optimiser.travel")  # the model's travel matrices (fieldday uses them)
from tests.benchmarks import fieldday  # noqa: E402


def test_solomon_instance_parses_and_becomes_a_matrix_request() -> None:
    inst = solomon.parse_instance(solomon.BENCH / "solomon" / "C101.txt")
    assert (inst.name, inst.vehicles, inst.capacity, inst.size) == ("C101", 25, 200, 101)
    assert (inst.x[0], inst.y[0], inst.due[0]) == (40, 50, 1236)
    assert (inst.demand[1], inst.ready[1], inst.due[1], inst.service[1]) == (10, 912, 967, 90)
    request = solomon.to_request(inst, time_limit_s=5, seed=1)
    assert len(request.technicians) == 25 and len(request.appointments) == 100
    assert request.travel.durations_min[0][1] == pytest.approx(inst.dist(0, 1))
    window = request.appointments[0].windows[0]
    assert (window.end - window.start).total_seconds() == (967 - 912) * 60


def test_homberger_names_map_to_lower_case_files() -> None:
    (path,) = solomon.instance_paths("200", ["C1_2_1"])
    assert path.name == "c1_2_1.txt"
    assert solomon.parse_instance(path).size == 201


def test_exact_check_catches_late_customers_and_overfull_routes() -> None:
    inst = solomon.parse_instance(solomon.BENCH / "solomon" / "R101.txt")
    one_each = [[c] for c in range(1, 101)]
    outcome = solomon.check_routes(inst, one_each, 0.0)
    assert outcome.served_all and not outcome.feasible  # 100 routes > 25 vehicles
    late = solomon.check_routes(inst, [list(range(1, 101))], 0.0)
    assert not late.feasible and "late" in late.problems
    back_and_forth = 2 * inst.dist(0, 1)
    assert solomon.check_routes(inst, [[1]], 0.0).distance == pytest.approx(back_and_forth)


def test_reference_solvers_serve_a_solomon_instance_feasibly() -> None:
    inst = solomon.parse_instance(solomon.BENCH / "solomon" / "C101.txt")
    # Iteration-bounded PyVRP and a generous VROOM timeout: independent of machine load.
    for outcome in (solomon.solve_pyvrp(inst, 0, seed=1, max_iterations=800),
                    solomon.solve_vroom(inst, 60.0, 1)):
        assert outcome.served_all and outcome.feasible, outcome.problems
        assert outcome.distance == pytest.approx(828.94, abs=30)


def _bronze_request(window: tuple[str, str], duration: float) -> PlanRequest:
    day = generate_day(1, 0, seed=0).request
    return PlanRequest(
        technicians=day.technicians,
        entitlements=[Entitlement.model_validate({
            "id": "E1", "timezone": "Europe/London",
            "coverage": [{"days": ["mon", "tue", "wed", "thu", "fri"],
                          "from": "09:00", "to": "17:00"}]})],
        appointments=[Appointment(
            id="A1", entitlement_id="E1", location=Location(lat=51.5, lon=-0.1),
            duration_min=duration,
            windows=[TimeWindow(start=datetime.fromisoformat(window[0]),
                                end=datetime.fromisoformat(window[1]))])],
    )


@pytest.mark.parametrize(("window", "duration", "expected"), [
    (("2026-11-23T08:00:00+00:00", "2026-11-23T10:00:00+00:00"), 60, [("09:00", "10:00")]),
    (("2026-11-23T14:00:00+00:00", "2026-11-23T16:00:00+00:00"), 120, [("14:00", "15:00")]),
    (("2026-11-23T16:00:00+00:00", "2026-11-23T16:30:00+00:00"), 90, []),
])
def test_contract_cover_is_pre_intersected_into_start_windows(window, duration,
                                                              expected) -> None:
    request = _bronze_request(window, duration)
    horizon = (request.technicians[0].shifts[0].start, request.technicians[0].shifts[0].end)
    starts = fieldday._start_intervals(request, request.appointments[0], horizon)
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in starts] == expected


def test_vroom_plan_of_a_sample_day_is_valid_and_leaves_the_impossible_out() -> None:
    dataset = generate_day(6, 40, seed=4)
    run = fieldday.solve_vroom(dataset.request, 30.0, exploration=3, threads=1,
                               priority_mode="work")
    assert validate_plan(dataset.request, run.plan) == []
    unassigned = {u.appointment_id: u.reason for u in run.plan.unassigned}
    for appointment_id, info in dataset.appointments.items():
        if info.designed_as in ("unstaffed_skill", "expired_contract", "no_onsite_cover"):
            assert appointment_id in unassigned
    assert any(info.designed_as == "unstaffed_skill" and
               unassigned[a] == "no_skilled_technician"
               for a, info in dataset.appointments.items())
    assert sum(len(r.stops) for r in run.plan.routes) >= 20


def test_skill_levels_are_nested_in_the_vroom_encoding() -> None:
    """Level 3 serves level 1-3 visits; a level-4 visit (or one raised by a gold floor) not."""
    tech = generate_day(1, 0, seed=0).request.technicians[0].model_copy(
        update={"skills": {"hvac": 3}, "territories": []})
    near = Location(lat=tech.start_location.lat + 0.01, lon=tech.start_location.lon)

    def visit(appointment_id: str, level: int, entitlement: str | None = None) -> Appointment:
        return Appointment(id=appointment_id, location=near, duration_min=30,
                           required_skills={"hvac": level}, entitlement_id=entitlement)

    request = PlanRequest(
        technicians=[tech],
        entitlements=[Entitlement(id="GOLD", min_skill_level=4)],
        appointments=[visit("L1", 1), visit("L3", 3), visit("L4", 4), visit("G2", 2, "GOLD")],
    )
    run = fieldday.solve_vroom(request, 30.0, exploration=1, threads=1, priority_mode="weight")
    assert validate_plan(request, run.plan) == []
    assigned = {s.appointment_id for r in run.plan.routes for s in r.stops}
    assert assigned == {"L1", "L3"}
    assert {u.reason for u in run.plan.unassigned} == {"no_skilled_technician"}
