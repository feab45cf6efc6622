"""The objective weights are request options: each one moves the plan the way it says.

Every instance is tiny and built so that the two plans on either side of a weight
differ by a known number of travel minutes; every plan is checked by the
independent referee (``assert_valid``).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from optimiser import solve
from optimiser.model.costs import cost_weights, units_per_s
from optimiser.schema import DEFAULT_SLA_COST_PER_MIN, Options, Plan, PlanRequest, Stop
from tests.optimiser.conftest import appt, assert_valid, make_request, near, shift, tech, window

FAST = {"solution_limit": 40, "time_limit_s": 10}


def plan_of(technicians, appointments, **options) -> Plan:
    request = make_request(technicians, appointments, **{**FAST, **options})
    plan = solve(request)
    assert_valid(request, plan)
    return plan


def stops(plan: Plan) -> dict[str, tuple[str, Stop]]:
    return {s.appointment_id: (r.technician_id, s) for r in plan.routes for s in r.stops}


def test_weights_default_and_fractions_are_exact():
    weights = cost_weights(Options(sla_cost_per_min={5: 0.5}, overtime_cost_per_min=1.5))
    assert weights.travel_per_s == 2  # the coarsest unit that keeps 0.5 and 1.5 whole
    assert weights.sla_per_s[5] == 1
    assert weights.overtime_per_s == 3
    tenths = cost_weights(Options(drift_cost_per_min=0.3))
    assert (tenths.travel_per_s, tenths.drift_per_s) == (10, 3)
    assert Options().sla_costs() == DEFAULT_SLA_COST_PER_MIN
    whole = cost_weights(Options(sla_cost_per_min={p: 1 for p in range(1, 6)},
                                 overtime_cost_per_min=3, drift_cost_per_min=0))
    assert (whole.travel_per_s, whole.overtime_per_s, whole.sla_per_s[1]) == (1, 3, 1)
    assert units_per_s([0.123]) == 10  # finer than 0.1: rounded to the nearest tenth


@pytest.mark.parametrize(("options", "field"), [
    ({"sla_cost_per_min": {"6": 1}}, "sla_cost_per_min"),
    ({"sla_cost_per_min": {"2": -1}}, "sla_cost_per_min"),
    ({"overtime_cost_per_min": -0.5}, "overtime_cost_per_min"),
    ({"preferred_bonus_min": -1}, "preferred_bonus_min"),
    ({"drift_cost_per_min": 1e9}, "drift_cost_per_min"),
    ({"preferred_bonus_min": float("nan")}, "preferred_bonus_min"),
])
def test_bad_weights_are_request_errors_naming_the_field(options, field):
    body = make_request().model_dump(mode="json", by_alias=True)
    body["options"] = options
    with pytest.raises(ValidationError, match=field):
        PlanRequest.model_validate(body)


def test_preferred_bonus_is_how_far_a_preferred_technician_may_come():
    # T2 lives next door; preferring T1 (8 km away) costs about 23 more travel minutes.
    technicians = [tech("T1", location=near(0, 0)), tech("T2", location=near(10, 0))]
    visits = [appt("A1", location=near(8, 0), preferred=["T1"])]
    assert stops(plan_of(technicians, visits, preferred_bonus_min=60))["A1"][0] == "T1"
    assert stops(plan_of(technicians, visits, preferred_bonus_min=5))["A1"][0] == "T2"


def test_overtime_cost_weighs_against_a_longer_drive():
    # T1 lives at the visit but would finish 30 min after a 16:00 shift end; T2 has time
    # left but drives about 39 minutes there and back.
    technicians = [tech("T1", location=near(5, 0), shifts=[shift("08:00", "16:00")],
                        max_overtime_min=120),
                   tech("T2", location=near(-5, 0), shifts=[shift("08:00", "18:00")])]
    visits = [appt("A1", location=near(5, 0), duration_min=60,
                   windows=[window("15:30", "15:30")])]
    expensive = plan_of(technicians, visits, overtime_cost_per_min=2)
    assert stops(expensive)["A1"][0] == "T2"
    assert expensive.kpis.overtime_min == 0
    cheap = plan_of(technicians, visits, overtime_cost_per_min=0.5)
    assert stops(cheap)["A1"][0] == "T1"
    assert cheap.kpis.overtime_min == pytest.approx(30, abs=1)


def test_sla_cost_per_priority_decides_who_is_on_time():
    # Both due at 09:00, two hours each: only one can be on time.
    visits = [appt("A1", duration_min=120, sla_due="09:00", priority=4),
              appt("A2", duration_min=120, sla_due="09:00", priority=1, location=near(5, 0.5))]
    by_default = stops(plan_of([tech()], visits))
    assert by_default["A2"][1].sla_met and not by_default["A1"][1].sla_met
    reversed_ = stops(plan_of([tech()], visits, sla_cost_per_min={1: 1, 4: 10}))
    assert reversed_["A1"][1].sla_met and not reversed_["A2"][1].sla_met


def test_sla_cost_trades_lateness_against_travel():
    # A2 (due 08:30) is the far corner of a square whose shortest round trip visits it
    # second: going there first drives about 11 minutes more, doing it second is about an
    # hour late.
    visits = [appt("A1", location=near(-5, 5), duration_min=60),
              appt("A2", location=near(0, 10), duration_min=60, sla_due="08:30", priority=3),
              appt("A3", location=near(5, 5), duration_min=60)]
    costly = plan_of([tech(location=near(0, 0))], visits, sla_cost_per_min={3: 10})
    first = min(costly.routes[0].stops, key=lambda s: s.start)
    assert first.appointment_id == "A2" and first.sla_met
    token = plan_of([tech(location=near(0, 0))], visits, sla_cost_per_min={3: 0.1})
    assert min(token.routes[0].stops, key=lambda s: s.start).appointment_id != "A2"
    assert token.kpis.sla_missed == 1
    assert token.kpis.travel_min < costly.kpis.travel_min - 5


def test_drift_cost_decides_between_a_planned_start_and_an_sla():
    visits = [appt("A1", duration_min=120, planned_start="08:15"),
              appt("A2", duration_min=120, sla_due="09:00", priority=3, location=near(5, 0.5))]
    loose = stops(plan_of([tech()], visits, shift_tolerance_min=0, drift_cost_per_min=1))
    assert loose["A2"][1].start < loose["A1"][1].start
    tight = stops(plan_of([tech()], visits, shift_tolerance_min=0, drift_cost_per_min=10))
    assert tight["A1"][1].start < tight["A2"][1].start


def test_pure_travel_requests_ignore_the_weights():
    # No SLA, preference, overtime or planned start (a Solomon-style day): the weights
    # have nothing to price, so the plan is the same whatever they are.
    technicians = [tech("T1", location=near(0, 0)), tech("T2", location=near(8, 4))]
    visits = [appt(f"A{i}", location=near(i * 1.5 - 4, (i % 3) - 1), duration_min=45)
              for i in range(8)]
    weights = {"sla_cost_per_min": {1: 0, 2: 50, 3: 0.3}, "overtime_cost_per_min": 9,
               "preferred_bonus_min": 0, "drift_cost_per_min": 7}
    plain, weighted = plan_of(technicians, visits), plan_of(technicians, visits, **weights)
    assert [[s.appointment_id for s in r.stops] for r in plain.routes] == \
        [[s.appointment_id for s in r.stops] for r in weighted.routes]
    # Same travel, priced in each request's objective unit (0.3 needs tenths of a second).
    assert plain.objective * cost_weights(Options(**weights)).travel_per_s == \
        weighted.objective * cost_weights(Options()).travel_per_s
