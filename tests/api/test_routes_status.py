"""A technician's day route and field status updates, with hand-computed ETAs.

Layout (see ``dispatch_support``): technician T lives at 51.50 N; its visits
lie 0.05 degrees apart going north (one leg = 10.842 min, 7.228 km):

    A1 51.55  09:00  45 min  dispatched  window 08:00-09:30  (ticket, customer)
    A2 51.60  10:00  60 min  scheduled   window 10:00-12:00
    A3 51.65  11:30  60 min  scheduled   no window
    A4 51.70  13:00  90 min  scheduled   window 12:25-15:00
    lunch 30 min between 12:00 and 14:00

Someone else's visit, T's visit the next day and a cancelled one stay out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.api.appointment_helpers import make_customer, make_entitlement, make_ticket
from tests.api.dispatch_support import (
    DAY,
    add_technician,
    add_visit,
    at,
    ceil_second,
    leg_km,
    leg_min,
    parse,
)

LEG = leg_min(51.50, 51.55)


@pytest.fixture
def day(app, client):
    customer = make_customer(app, name="Acme Ltd", phone="+44 20 7946 0000")
    make_entitlement(app, customer)
    ticket = make_ticket(app, customer)
    tech = add_technician(app, name="Ana Ruiz")
    other = add_technician(app, name="Ben Cole", home_lat=51.40)
    ids = {
        "tech": tech, "other": other, "ticket": ticket,
        "A1": add_visit(app, tech, at("09:00"), lat=51.55, duration_min=45,
                        status="dispatched", windows=[(at("08:00"), at("09:30"))],
                        ticket_id=ticket, customer_id=customer, address="1 High St"),
        "A2": add_visit(app, tech, at("10:00"), lat=51.60, windows=[(at("10:00"),
                                                                    at("12:00"))]),
        "A3": add_visit(app, tech, at("11:30"), lat=51.65),
        "A4": add_visit(app, tech, at("13:00"), lat=51.70, duration_min=90,
                        windows=[(at("12:25"), at("15:00"))]),
        "theirs": add_visit(app, other, at("10:30"), lat=51.45),
        "tomorrow": add_visit(app, tech, at("09:00", day=1), lat=51.55),
        "cancelled": add_visit(app, tech, at("15:30"), lat=51.55, status="cancelled"),
    }
    return ids


def route(client, headers, tech, day=DAY):
    return client.get(f"/api/v1/technicians/{tech}/route", params={"date": day},
                      headers=headers)


# ------------------------------------------------------------------------ route


def test_route_lists_the_days_stops_in_order_with_legs_breaks_and_totals(
        client, headers_for, day):
    response = route(client, headers_for("dispatcher"), day["tech"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["appointment_id"] for s in body["stops"]] == [day[k] for k in
                                                            ("A1", "A2", "A3", "A4")]
    assert [s["sequence"] for s in body["stops"]] == [1, 2, 3, 4]
    first, _, third, _ = body["stops"]
    assert parse(first["eta"]) == at("09:00")
    assert first["status"] == "dispatched"
    assert first["customer"]["name"] == "Acme Ltd"
    assert first["ticket"]["summary"] == "No heating"
    assert first["address"] == "1 High St"
    assert first["duration_min"] == 45
    assert first["map_url"] == ("https://www.openstreetmap.org/?mlat=51.550000&mlon=-0.120000"
                                "#map=17/51.550000/-0.120000")
    # ETA window: the booking window when the planned start lies in one, else +-30 min.
    assert (parse(first["eta_window"]["start"]), parse(first["eta_window"]["end"]),
            first["eta_window"]["source"]) == (at("08:00"), at("09:30"), "booking_window")
    assert (parse(third["eta_window"]["start"]), parse(third["eta_window"]["end"]),
            third["eta_window"]["source"]) == (at("11:00"), at("12:00"), "tolerance")
    for stop in body["stops"]:
        assert stop["travel_min"] == pytest.approx(LEG, abs=0.01)
        assert stop["distance_km"] == pytest.approx(leg_km(51.50, 51.55), abs=0.001)
    # Home -> 4 legs north -> 0.20 degrees back home: eight legs' worth of driving.
    totals = body["totals"]
    assert totals["visits"] == 4
    assert totals["service_min"] == 45 + 60 + 60 + 90
    assert totals["travel_min"] == pytest.approx(8 * LEG, abs=0.02)
    assert totals["travel_km"] == pytest.approx(8 * leg_km(51.50, 51.55), abs=0.005)
    assert totals["working_min"] == pytest.approx(255 + 8 * LEG, abs=0.02)
    assert totals["break_min"] == 30
    assert [(parse(b["earliest_start"]), parse(b["latest_end"]), b["duration_min"])
            for b in body["breaks"]] == [(at("12:00"), at("14:00"), 30)]
    assert len(body["shifts"]) == 1 and parse(body["shifts"][0]["start"]) == at("08:00")


def test_route_of_another_day_is_empty_and_the_default_day_is_today(client, headers_for, day):
    body = route(client, headers_for("dispatcher"), day["tech"], "2030-01-09").json()
    assert body["stops"] == [] and body["totals"]["visits"] == 0
    assert body["totals"]["travel_min"] == 0
    today = client.get(f"/api/v1/technicians/{day['tech']}/route",
                       headers=headers_for("dispatcher"))
    assert today.status_code == 200
    assert today.json()["date"] == datetime.now(UTC).date().isoformat()  # planning tz: UTC


def test_technician_reads_only_its_own_route(client, headers_for, day):
    own = headers_for("technician", technician_id=day["tech"])
    assert route(client, own, day["tech"]).status_code == 200
    stranger = headers_for("technician", technician_id=day["other"])
    response = route(client, stranger, day["tech"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert route(client, stranger, day["other"]).json()["stops"][0]["appointment_id"] == \
        day["theirs"]


@pytest.mark.parametrize("role,expected", [("admin", 200), ("dispatcher", 200),
                                           ("agent", 403)])
def test_route_roles(client, headers_for, day, role, expected):
    assert route(client, headers_for(role), day["tech"]).status_code == expected


def test_route_refuses_integration_keys_anonymous_callers_and_bad_dates(
        client, headers_for, api_key_headers, day):
    assert route(client, api_key_headers, day["tech"]).status_code == 403
    assert route(client, {}, day["tech"]).status_code == 401
    bad = route(client, headers_for("dispatcher"), day["tech"], "2030-13-01")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "query.date"
    assert route(client, headers_for("dispatcher"), 999_999).status_code == 404


# ----------------------------------------------------------------------- status


def post_status(client, headers, appointment, status, version, **extra):
    return client.post(f"/api/v1/appointments/{appointment}/status", headers=headers,
                       json={"status": status, "version": version, **extra})


def version_of(client, headers, appointment) -> int:
    return client.get(f"/api/v1/appointments/{appointment}", headers=headers).json()["version"]


def test_en_route_re_times_the_later_stops_through_windows_and_the_lunch_break(
        client, headers_for, day):
    tech = headers_for("technician", technician_id=day["tech"])
    response = post_status(client, tech, day["A1"], "en_route",
                           version_of(client, tech, day["A1"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["appointment"]["status"] == "en_route"
    later = {e["appointment_id"]: e for e in body["later_stops"]}
    assert list(later) == [day["A2"], day["A3"], day["A4"]]
    # A1: set off now (long before), waits for its window 08:00, done 08:45.
    # A2: 08:45 + one leg = 08:55:51, waits for its window: 10:00.
    assert parse(later[day["A2"]]["eta"]) == at("10:00")
    assert later[day["A2"]]["previous_eta"] == later[day["A2"]]["eta"]
    # A3 (no window): 11:00 + one leg.
    a3 = ceil_second(at("11:00") + timedelta(minutes=LEG))
    assert parse(later[day["A3"]]["eta"]) == a3
    assert parse(later[day["A3"]]["previous_eta"]) == at("11:30")
    # A4 (window from 12:25, 90 min): after it, the lunch break could no longer start by
    # 13:30, so it is taken on the way: A3 end + leg + 30 min.
    a4 = ceil_second(a3 + timedelta(minutes=60 + LEG + 30))
    assert parse(later[day["A4"]]["eta"]) == a4
    assert parse(later[day["A4"]]["scheduled_end"]) == a4 + timedelta(minutes=90)
    assert not any(e["late"] for e in later.values())
    # Stored: the appointment reads back with the new planned start and a new version.
    dispatcher = headers_for("dispatcher")
    stored = client.get(f"/api/v1/appointments/{day['A3']}", headers=dispatcher).json()
    assert parse(stored["scheduled_start"]) == a3
    assert stored["version"] == later[day["A3"]]["version"] > 1
    unchanged = client.get(f"/api/v1/appointments/{day['A2']}", headers=dispatcher).json()
    assert unchanged["version"] == 1
    events = client.get("/api/v1/events", params={"entity_type": "appointment",
                                                  "entity_id": day["A3"]},
                        headers=dispatcher).json()
    assert "eta_updated" in [e["action"] for e in events["items"]]
    # The route shows the new order of times.
    stops = route(client, dispatcher, day["tech"]).json()["stops"]
    assert [parse(s["eta"]) for s in stops[1:]] == [at("10:00"), a3, a4]


def test_completion_re_times_from_now_and_resolves_the_onsite_sla_clock(
        client, headers_for, app, day):
    from api.tickets.models import SlaClock

    # A second technician's morning: B1 under way (on site, its ticket's on-site clock
    # still running), then B2 with no window.
    tech_id = add_technician(app, name="Cai Dunn", home_lat=51.50)
    b1 = add_visit(app, tech_id, at("09:00"), lat=51.55, duration_min=30, status="on_site",
                   ticket_id=day["ticket"])
    b2 = add_visit(app, tech_id, at("10:00"), lat=51.60)
    tech = headers_for("technician", technician_id=tech_id)
    with app.state.sessionmaker() as session:
        clock = session.scalars(select(SlaClock).where(
            SlaClock.ticket_id == day["ticket"], SlaClock.kind == "onsite")).one()
        assert clock.met_at is None
    response = post_status(client, tech, b1, "completed", version_of(client, tech, b1),
                           notes="Replaced the valve")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["appointment"]["status"] == "completed"
    assert body["appointment"]["completion_notes"] == "Replaced the valve"
    done_at = parse(body["appointment"]["updated_at"])  # = the status change instant
    (eta,) = body["later_stops"]
    # From now (the completion) at B1, one leg north to B2 (no window to wait for).
    expected = ceil_second(done_at + timedelta(minutes=LEG))
    assert abs((parse(eta["eta"]) - expected).total_seconds()) <= 1
    assert eta["appointment_id"] == b2
    with app.state.sessionmaker() as session:
        clock = session.scalars(select(SlaClock).where(
            SlaClock.ticket_id == day["ticket"], SlaClock.kind == "onsite")).one()
        assert clock.met_at == done_at
        assert clock.stage == ("met" if done_at <= clock.due_at else "breached")


def test_status_transitions_follow_the_lifecycle_table(client, headers_for, day):
    tech = headers_for("technician", technician_id=day["tech"])
    # dispatched -> completed skips arrival: refused with the allowed moves.
    response = post_status(client, tech, day["A1"], "completed", 1)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "on_site" in error["meta"]["allowed"]
    # A stale version is refused.
    stale = post_status(client, tech, day["A1"], "en_route", 99)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    # cannot_complete needs a reason.
    no_reason = post_status(client, tech, day["A1"], "cannot_complete", 1)
    assert no_reason.status_code == 422
    ok = post_status(client, tech, day["A1"], "cannot_complete", 1, reason="No access")
    assert ok.status_code == 200
    assert ok.json()["appointment"]["cannot_complete_reason"] == "No access"
    # A scheduled (not dispatched) visit cannot be started from the field.
    assert post_status(client, tech, day["A2"], "en_route", 1).status_code == 409


def test_only_the_own_technician_or_the_office_may_update_status(
        client, headers_for, api_key_headers, day):
    stranger = headers_for("technician", technician_id=day["other"])
    assert post_status(client, stranger, day["A1"], "en_route", 1).status_code == 404
    assert post_status(client, headers_for("agent"), day["A1"], "en_route", 1
                       ).status_code == 403
    assert post_status(client, api_key_headers, day["A1"], "en_route", 1).status_code == 403
    assert post_status(client, {}, day["A1"], "en_route", 1).status_code == 401
    assert post_status(client, headers_for("dispatcher"), day["A1"], "en_route", 1
                       ).status_code == 200


def test_status_body_is_validated(client, headers_for, day):
    dispatcher = headers_for("dispatcher")
    bad = post_status(client, dispatcher, day["A1"], "cancelled", 1)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "body.status"
    extra = post_status(client, dispatcher, day["A1"], "en_route", 1, colour="red")
    assert extra.status_code == 422
