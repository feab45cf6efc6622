"""Slot offering and booking through the API, with hand-computed figures.

Geometry (``dispatch_support``): T1 lives at 51.50 N, T2 at 51.80 N, the draft
visit is at 51.55 N: one leg (10.842 min) from T1, five from T2. Day: Monday
2030-01-07 (UTC), shifts 08:00-17:00 with a 30-minute lunch between 12 and 14.
The optimiser rounds each leg up to whole seconds: 650.49 s -> 651 s.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.api.dispatch_support import add_technician, add_visit, at, leg_min, parse

LEG_S = 651
DRAFT = {
    "location": {"lat": 51.55, "lon": -0.12},
    "duration_min": 60,
    "required_skills": {"hvac": 2},
    "not_before": "2030-01-07T07:00:00+00:00",
    "days": 1,
}


@pytest.fixture
def crew(app, client):
    return {"T1": add_technician(app, name="Ana Ruiz", home_lat=51.50),
            "T2": add_technician(app, name="Ben Cole", home_lat=51.80)}


def slots(client, headers, **changes):
    return client.post("/api/v1/slots", headers=headers, json={**DRAFT, **changes})


def book(client, headers, window, **changes):
    return client.post("/api/v1/slots/book", headers=headers,
                       json={**DRAFT, "window": window, **changes})


def test_slots_are_graded_best_first_each_with_a_technician(client, headers_for, crew):
    response = slots(client, headers_for("agent"), per_window=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["blocked"] is None
    items = body["items"]
    costs = [item["cost"] for item in items]
    assert costs == sorted(costs)
    assert items[0]["grade"] == 100 and items[-1]["grade"] == 0
    first = items[0]
    assert (first["technician_id"], first["technician_name"]) == (crew["T1"], "Ana Ruiz")
    assert (parse(first["start"]), parse(first["end"])) == (at("08:00"), at("10:00"))
    assert parse(first["planned_start"]) == at("08:00") + timedelta(seconds=LEG_S)
    assert first["travel_added_min"] == pytest.approx(2 * LEG_S / 60, abs=0.01)
    assert first["insert_after"] is None and first["insert_before"] is None
    # T1 is closer, so in every window T1 comes before T2.
    by_window: dict[str, list[int]] = {}
    for item in items:
        by_window.setdefault(item["start"], []).append(item["technician_id"])
    assert all(techs == [crew["T1"], crew["T2"]] for techs in by_window.values())
    # Last start T1 can make: 17:00 - leg - 60 min = 15:49, so the 14:00 window is the last.
    assert sorted(parse(w) for w in by_window) == [at("08:00"), at("10:00"), at("12:00"),
                                                   at("14:00")]
    assert body["technicians_considered"] == 2


def test_committed_work_shapes_the_offer(client, headers_for, app, crew):
    # T1 is booked 08:00-17:00 solid: only T2 is offered.
    add_visit(app, crew["T1"], at("08:00"), lat=51.50, duration_min=9 * 60 - 30)
    items = slots(client, headers_for("dispatcher")).json()["items"]
    assert {item["technician_id"] for item in items} == {crew["T2"]}
    first = items[0]
    far_s = math.ceil(leg_min(51.80, 51.55) * 60)  # 3252.9 s -> 3253 s
    assert parse(first["planned_start"]) == at("08:00") + timedelta(seconds=far_s)


def test_sla_fit_is_reported(client, headers_for, crew):
    body = slots(client, headers_for("agent"), sla_due="2030-01-07T09:00:00+00:00").json()
    fit = {parse(item["start"]): item["sla"] for item in body["items"]}
    assert fit[at("08:00")] == "at_risk"  # starts 08:10:51, but the window runs to 10:00
    assert fit[at("10:00")] == "missed"
    assert parse(body["sla_due"]) == at("09:00")


def test_a_draft_nobody_can_take_says_why(client, headers_for, crew):
    body = slots(client, headers_for("agent"), required_skills={"fibre": 1}).json()
    assert body["items"] == []
    assert body["blocked"]["reason"] == "no_skilled_technician"
    assert "fibre" in body["blocked"]["detail"]


def test_bad_drafts_are_refused_naming_the_field(client, headers_for, crew):
    agent = headers_for("agent")
    response = slots(client, agent, duration_min=0)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.duration_min"
    assert slots(client, agent, colour="red").status_code == 422
    no_place = client.post("/api/v1/slots", headers=agent,
                           json={k: v for k, v in DRAFT.items() if k != "location"})
    assert no_place.status_code == 422
    assert no_place.json()["error"]["details"][0]["field"] == "body.address"
    assert slots(client, agent, days=0).status_code == 422
    # Numbers are JSON numbers and instants ISO 8601 (no lax coercion).
    for field, value in (("days", "3"), ("per_window", True), ("not_before", "1893999600")):
        response = slots(client, agent, **{field: value})
        assert response.status_code == 422, field
        assert response.json()["error"]["details"][0]["field"] == f"body.{field}"


@pytest.mark.parametrize("role,expected", [("agent", 200), ("dispatcher", 200),
                                           ("admin", 200), ("technician", 403)])
def test_slot_roles(client, headers_for, crew, role, expected):
    assert slots(client, headers_for(role)).status_code == expected


def test_slots_refuse_integration_keys_and_anonymous_callers(client, api_key_headers, crew):
    assert slots(client, api_key_headers).status_code == 403
    assert slots(client, {}).status_code == 401
    window = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T10:00:00+00:00"}
    assert book(client, api_key_headers, window).status_code == 403
    assert book(client, {}, window).status_code == 401


# ---------------------------------------------------------------------- booking


@pytest.fixture
def short_day(app, client):
    """One technician, 08:00-10:00: room for exactly one 60-minute visit at 51.55."""
    return add_technician(app, name="Ana Ruiz", home_lat=51.50, shift=("08:00", "10:00"),
                          lunch=False)


def test_booking_creates_a_scheduled_appointment_with_the_window(client, headers_for,
                                                                 short_day):
    agent = headers_for("dispatcher")
    offered = slots(client, agent).json()["items"]
    assert len(offered) == 1
    window = {"start": offered[0]["start"], "end": offered[0]["end"]}
    response = book(client, agent, window, technician_id=short_day)
    assert response.status_code == 201, response.text
    body = response.json()
    appointment = body["appointment"]
    assert appointment["status"] == "scheduled"
    assert appointment["technician_id"] == short_day
    assert [(parse(w["start"]), parse(w["end"])) for w in appointment["windows"]] == \
        [(at("08:00"), at("10:00"))]
    assert parse(appointment["scheduled_start"]) == at("08:00") + timedelta(seconds=LEG_S)
    assert parse(appointment["scheduled_end"]) == \
        at("09:00") + timedelta(seconds=LEG_S)
    assert appointment["preferred_technician_ids"] == [short_day]
    assert appointment["pinned_technician_id"] is None
    assert response.headers["ETag"] == f'"{appointment["version"]}"'
    assert body["slot"]["technician_id"] == short_day
    stored = client.get(f"/api/v1/appointments/{appointment['id']}", headers=agent)
    assert stored.status_code == 200 and stored.json()["status"] == "scheduled"
    # The day is now full: nothing is offered and the same booking is refused.
    assert slots(client, agent).json()["items"] == []
    again = book(client, agent, window)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "slot_unavailable"


def test_booking_can_pin_the_technician(client, headers_for, short_day):
    window = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T10:00:00+00:00"}
    response = book(client, headers_for("dispatcher"), window, pin_technician=True)
    assert response.status_code == 201, response.text
    appointment = response.json()["appointment"]
    assert appointment["pinned_technician_id"] == short_day
    assert appointment["technician_id"] == short_day


def test_booking_a_window_that_cannot_be_kept_is_a_conflict(client, headers_for, app,
                                                            short_day):
    agent = headers_for("dispatcher")
    other = add_technician(app, name="Ben Cole", home_lat=51.50, shift=None)
    # Too late in the day (the visit could not start before 10:00 and be home by it).
    late = {"start": "2030-01-07T09:00:00+00:00", "end": "2030-01-07T10:00:00+00:00"}
    response = book(client, agent, late)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"
    # A technician without a shift that day cannot take the window either.
    early = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T09:00:00+00:00"}
    assert book(client, agent, early, technician_id=other).status_code == 409
    # Nothing was written.
    assert client.get("/api/v1/appointments", headers=agent).json()["total"] == 0


def test_booking_window_must_be_well_formed(client, headers_for, short_day):
    bad = {"start": "2030-01-07T10:00:00+00:00", "end": "2030-01-07T08:00:00+00:00"}
    response = book(client, headers_for("agent"), bad)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.window.end"


def test_leg_arithmetic_of_the_fixture():
    assert round(leg_min(51.50, 51.55) * 60, 2) == 650.49


def test_agents_book_for_tickets_and_the_ticket_sets_contract_and_sla(client, headers_for,
                                                                     app, short_day):
    from tests.api.appointment_helpers import make_customer, make_entitlement, make_ticket

    customer = make_customer(app)
    entitlement = make_entitlement(app, customer)
    ticket = make_ticket(app, customer)
    agent = headers_for("agent")
    window = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T10:00:00+00:00"}
    refused = book(client, agent, window)
    assert refused.status_code == 403
    offered = slots(client, agent, ticket_id=ticket).json()
    assert len(offered["items"]) == 1
    response = book(client, agent, window, ticket_id=ticket)
    assert response.status_code == 201, response.text
    appointment = response.json()["appointment"]
    assert (appointment["ticket_id"], appointment["customer_id"],
            appointment["entitlement_id"]) == (ticket, customer, entitlement)
    assert appointment["sla_due"] == offered["sla_due"] is not None


def test_a_retried_booking_with_the_same_idempotency_key_replays_the_first(
        client, headers_for, short_day):
    dispatcher = headers_for("dispatcher")
    dispatcher["Idempotency-Key"] = "booking-1"
    window = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T10:00:00+00:00"}
    first = book(client, dispatcher, window)
    again = book(client, dispatcher, window)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert client.get("/api/v1/appointments", headers=dispatcher).json()["total"] == 1


def test_booking_before_a_committed_visit_stores_its_pushed_start(client, headers_for, app):
    # T1: A at 51.60 (two legs from home) booked for 08:22, 60 min. The draft (51.55,
    # 60 min) in the 08:00-09:00 window can only go before A: start 08:10:51, end
    # 09:10:51, one leg on to A: A now starts 09:21:42 (59 min 42 s later, within
    # the 60-minute allowance), and its stored times say so.
    tech = add_technician(app, name="Ana Ruiz", home_lat=51.50, lunch=False)
    a = add_visit(app, tech, at("08:22"), lat=51.60)
    dispatcher = headers_for("dispatcher")
    window = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T09:00:00+00:00"}
    response = book(client, dispatcher, window)
    assert response.status_code == 201, response.text
    assert response.json()["slot"]["insert_before"] == a
    booked_start = parse(response.json()["appointment"]["scheduled_start"])
    assert booked_start == at("08:00") + timedelta(seconds=LEG_S)
    pushed = client.get(f"/api/v1/appointments/{a}", headers=dispatcher).json()
    expected = booked_start + timedelta(minutes=60, seconds=LEG_S)
    assert parse(pushed["scheduled_start"]) == expected
    assert parse(pushed["scheduled_end"]) == expected + timedelta(minutes=60)
    assert pushed["version"] == 2
