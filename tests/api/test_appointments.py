"""Appointments through the HTTP API: create, read, list, update, cancel, access, exchange."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.appointments import service
from api.appointments.models import Appointment
from api.events import Event
from optimiser import schema as exchange
from tests.api.appointment_helpers import (
    BODY,
    WINDOW,
    count_appointments,
    make_customer,
    make_entitlement,
    make_technician,
)

URL = "/api/v1/appointments"


def _create(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post(URL, json={**BODY, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# ---------------------------------------------------------------------- create


def test_create_standalone_with_coordinates(client: TestClient, app: FastAPI,
                                            api_key_headers: dict[str, str]) -> None:
    response = client.post(URL, json=BODY, headers=api_key_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"] == {"lat": 51.52, "lon": -0.10}
    assert body["status"] == "unscheduled" and body["version"] == 1
    assert body["priority"] == 2 and body["required_skills"] == {"hvac": 2}
    assert body["windows"] == [{"start": "2026-11-23T09:00:00Z", "end": "2026-11-23T12:00:00Z"}]
    assert body["ticket_id"] is None and body["sla_due"] is None
    assert body["created_by"].startswith("api_key:")
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    with app.state.sessionmaker() as session:
        events = session.scalars(select(Event).where(Event.entity_type == "appointment")).all()
    assert [(e.entity_id, e.action) for e in events] == [(str(body["id"]), "created")]


def test_priority_defaults_to_three_and_windows_are_sorted(
        client: TestClient, api_key_headers: dict[str, str]) -> None:
    late = {"start": "2026-11-24T09:00:00+01:00", "end": "2026-11-24T10:00:00+01:00"}
    body = {key: value for key, value in BODY.items() if key != "priority"}
    response = client.post(URL, json={**body, "windows": [late, WINDOW]},
                           headers=api_key_headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["priority"] == 3
    assert created["windows"][0]["start"] == "2026-11-23T09:00:00Z"
    assert created["windows"][1]["start"] == "2026-11-24T08:00:00Z"


@pytest.mark.parametrize(("changes", "field"), [
    ({"windows": [{"start": "2026-11-23T09:00:00", "end": "2026-11-23T10:00:00Z"}]},
     "body.windows.0.start"),
    ({"windows": [{"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T10:00:00Z"}]},
     "body.windows.0.end"),
    ({"windows": [{"start": 1795424400, "end": "2026-11-23T10:00:00Z"}]},
     "body.windows.0.start"),  # ISO 8601 only: a Unix timestamp is a client bug
    ({"sla_due": 1795424400}, "body.sla_due"),
    ({"required_skills": {"hvac": 6}}, "body.required_skills.hvac"),
    ({"duration_min": 0}, "body.duration_min"),
    ({"location": {"lat": 91, "lon": 0}}, "body.location.lat"),
    ({"pinned_technician_id": 4, "excluded_technician_ids": [4]},
     "body.excluded_technician_ids"),
    ({"colour": "red"}, "body.colour"),
    ({"ticket_id": 1, "sla_due": "2026-11-23T10:00:00Z"}, "body.sla_due"),
    ({"excluded_technician_ids": [12345]}, "body.excluded_technician_ids"),
    ({"customer_id": 9999}, "body.customer_id"),
    ({"entitlement_id": 9999}, "body.entitlement_id"),
])
def test_bad_input_names_the_field(client: TestClient, app: FastAPI,
                                   api_key_headers: dict[str, str], changes: dict[str, Any],
                                   field: str) -> None:
    response = client.post(URL, json={**BODY, **changes}, headers=api_key_headers)
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert count_appointments(app) == 0


def test_without_location_or_address_names_address(client: TestClient,
                                                   api_key_headers: dict[str, str]) -> None:
    body = {key: value for key, value in BODY.items() if key != "location"}
    response = client.post(URL, json=body, headers=api_key_headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.address"


def test_standalone_with_customer_site_and_entitlement(client: TestClient, app: FastAPI,
                                                       api_key_headers: dict[str, str]) -> None:
    customer = make_customer(app, lat=51.55, lon=-0.05, address="1 Site Road, London E8 1AA")
    other = make_customer(app, name="Other")
    entitlement = make_entitlement(app, customer)
    body = {key: value for key, value in BODY.items() if key != "location"}
    response = client.post(URL, headers=api_key_headers, json={
        **body, "entitlement_id": entitlement, "sla_due": "2026-11-23T13:00:00+00:00"})
    assert response.status_code == 201, response.text
    created = response.json()
    # The customer comes from the entitlement, the location from the customer's site.
    assert created["customer_id"] == customer and created["entitlement_id"] == entitlement
    assert created["location"] == {"lat": 51.55, "lon": -0.05}
    assert created["address"] == "1 Site Road, London E8 1AA"
    assert created["sla_due"] == "2026-11-23T13:00:00Z"
    mismatch = client.post(URL, json={**BODY, "customer_id": other,
                                      "entitlement_id": entitlement}, headers=api_key_headers)
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["details"][0]["field"] == "body.entitlement_id"


def test_standalone_contract_sets_the_sla_through_its_calendar(
        client: TestClient, app: FastAPI, api_key_headers: dict[str, str]) -> None:
    customer = make_customer(app)
    entitlement = make_entitlement(app, customer)  # 24x7, P2 on-site 480 minutes
    response = client.post(URL, json={**BODY, "entitlement_id": entitlement},
                           headers=api_key_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    created = datetime.fromisoformat(body["created_at"])
    assert datetime.fromisoformat(body["sla_due"]) == created + timedelta(minutes=480)
    # A Mon-Fri 08:00-18:00 contract: the due time lands inside business hours.
    office = make_entitlement(app, customer, coverage=[{
        "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}])
    body = client.post(URL, json={**BODY, "entitlement_id": office},
                       headers=api_key_headers).json()
    due = datetime.fromisoformat(body["sla_due"])
    local = due.astimezone(ZoneInfo("Europe/London"))
    assert local.weekday() < 5 and 8 <= local.hour + local.minute / 60 <= 18
    remote = make_entitlement(app, customer, onsite=False)
    body = client.post(URL, json={**BODY, "entitlement_id": remote},
                       headers=api_key_headers).json()
    assert body["sla_due"] is None


# ----------------------------------------------------------------------- access


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 201), ("dispatcher", 201), ("agent", 403), ("technician", 403)])
def test_who_may_create_standalone(client: TestClient, headers_for: Any, role: str,
                                   expected: int) -> None:
    response = client.post(URL, json=BODY, headers=headers_for(role))
    assert response.status_code == expected, response.text


def test_unauthenticated_is_401(client: TestClient) -> None:
    assert client.post(URL, json=BODY).status_code == 401
    assert client.get(URL).status_code == 401


def test_technician_sees_only_its_own(client: TestClient, app: FastAPI, headers_for: Any,
                                      api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    mine_tech = make_technician(app)
    other_tech = make_technician(app, name="Ben Oduya")
    me = headers_for("technician", technician_id=mine_tech)
    mine = _create(client, api_key_headers)
    theirs = _create(client, api_key_headers)
    unassigned = _create(client, api_key_headers)
    for appointment, technician in ((mine, mine_tech), (theirs, other_tech)):
        response = client.patch(f"{URL}/{appointment['id']}", headers=dispatcher, json={
            "version": 1, "status": "scheduled", "technician_id": technician,
            "scheduled_start": "2026-11-23T09:30:00Z", "scheduled_end": "2026-11-23T10:15:00Z"})
        assert response.status_code == 200, response.text
    assert client.get(f"{URL}/{mine['id']}", headers=me).status_code == 200
    for hidden in (theirs, unassigned):
        response = client.get(f"{URL}/{hidden['id']}", headers=me)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    listed = client.get(URL, headers=me).json()
    assert [a["id"] for a in listed["items"]] == [mine["id"]] and listed["total"] == 1
    # Asking for someone else's list does not widen the view.
    other = client.get(URL, params={"technician_id": other_tech}, headers=me).json()
    assert other["items"] == []


@pytest.mark.parametrize("role", ["agent", "technician", "integration"])
def test_only_the_office_updates_and_cancels(client: TestClient, headers_for: Any,
                                             api_key_headers: dict[str, str], role: str) -> None:
    created = _create(client, api_key_headers)
    headers = api_key_headers if role == "integration" else headers_for(role)
    patched = client.patch(f"{URL}/{created['id']}", json={"version": 1, "notes": "x"},
                           headers=headers)
    cancelled = client.post(f"{URL}/{created['id']}/cancel", json={"version": 1},
                            headers=headers)
    # A technician does not learn that someone else's appointment exists.
    expected = 403
    assert patched.status_code == expected and cancelled.status_code == expected


# ------------------------------------------------------------------------ reads


def test_get_and_list_filters(client: TestClient, app: FastAPI, headers_for: Any,
                              api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    technician = make_technician(app)
    north = _create(client, api_key_headers)
    south = _create(client, api_key_headers, territory="south", priority=4, external_ref="E2",
                    windows=[{"start": "2026-11-24T09:00:00Z", "end": "2026-11-24T11:00:00Z"}])
    scheduled = _create(client, api_key_headers, windows=[])
    client.patch(f"{URL}/{scheduled['id']}", headers=dispatcher, json={
        "version": 1, "status": "scheduled", "technician_id": technician,
        "scheduled_start": "2026-11-24T23:30:00Z", "scheduled_end": "2026-11-25T00:30:00Z"})

    def ids(**params: Any) -> list[int]:
        response = client.get(URL, params=params, headers=dispatcher)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert ids() == [north["id"], south["id"], scheduled["id"]]
    assert ids(territory="south") == [south["id"]]
    assert ids(priority=[2]) == [north["id"], scheduled["id"]]
    assert ids(priority=[2, 4]) == [north["id"], south["id"], scheduled["id"]]
    assert ids(status="scheduled") == [scheduled["id"]]
    assert ids(status=["unscheduled"]) == [north["id"], south["id"]]
    assert ids(technician_id=technician) == [scheduled["id"]]
    assert ids(external_ref="E2") == [south["id"]]
    assert ids(date="2026-11-23") == [north["id"]]
    assert ids(date="2026-11-24") == [south["id"], scheduled["id"]]
    # 23:30 UTC on the 24th is 00:30 on the 25th in Berlin.
    assert ids(date="2026-11-25", tz="Europe/Berlin") == [scheduled["id"]]
    assert ids(limit=1, offset=1) == [south["id"]]
    page = client.get(URL, params={"limit": 1}, headers=dispatcher).json()
    assert page["total"] == 3 and page["limit"] == 1 and page["offset"] == 0
    bad = client.get(URL, params={"tz": "Mars/Olympus"}, headers=dispatcher)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.tz"
    bad = client.get(URL, params={"status": "lost"}, headers=dispatcher)
    assert bad.status_code == 422
    one = client.get(f"{URL}/{south['id']}", headers=headers_for("agent"))
    assert one.status_code == 200 and one.json() == south and one.headers["ETag"] == '"1"'
    assert client.get(f"{URL}/999999", headers=dispatcher).status_code == 404


# ---------------------------------------------------------------------- updates


def _schedule(technician: int, version: int = 1) -> dict[str, Any]:
    return {"version": version, "status": "scheduled", "technician_id": technician,
            "scheduled_start": "2026-11-23T09:30:00Z", "scheduled_end": "2026-11-23T10:15:00Z"}


def test_patch_changes_fields_and_bumps_the_version(client: TestClient, app: FastAPI,
                                                    headers_for: Any,
                                                    api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    created = _create(client, api_key_headers)
    response = client.patch(f"{URL}/{created['id']}", headers=dispatcher, json={
        "version": 1, "duration_min": 60, "notes": "gate code 1234", "territory": None,
        "windows": [{"start": "2026-11-23T13:00:00Z", "end": "2026-11-23T15:00:00Z"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and response.headers["ETag"] == '"2"'
    assert body["duration_min"] == 60 and body["notes"] == "gate code 1234"
    assert body["territory"] is None
    assert body["windows"][0]["start"] == "2026-11-23T13:00:00Z"
    with app.state.sessionmaker() as session:
        row = session.get(Appointment, created["id"])
        assert row is not None and row.window_start.hour == 13
        events = session.scalars(select(Event).where(Event.entity_id == str(created["id"]),
                                                     Event.action == "updated")).all()
    assert events[0].data["changes"]["duration_min"] == 60


def test_stale_version_is_409_with_the_current_one(client: TestClient, headers_for: Any,
                                                   api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    created = _create(client, api_key_headers)
    url = f"{URL}/{created['id']}"
    assert client.patch(url, headers=dispatcher, json={"version": 1, "notes": "a"}
                        ).status_code == 200
    stale = client.patch(url, headers=dispatcher, json={"version": 1, "notes": "b"})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_version"
    assert stale.json()["error"]["meta"]["current_version"] == 2
    missing = client.patch(url, headers=dispatcher, json={"notes": "c"})
    assert missing.status_code == 422


def test_lifecycle_through_patch(client: TestClient, app: FastAPI, headers_for: Any,
                                 api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    technician = make_technician(app)
    created = _create(client, api_key_headers)
    url = f"{URL}/{created['id']}"
    jump = client.patch(url, headers=dispatcher, json={"version": 1, "status": "completed"})
    assert jump.status_code == 409
    error = jump.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["meta"]["allowed"] == ["cancelled", "scheduled"]
    assert "scheduled" in error["message"]
    no_tech = client.patch(url, headers=dispatcher, json={"version": 1, "status": "scheduled"})
    assert no_tech.status_code == 422
    assert no_tech.json()["error"]["details"][0]["field"] == "body.technician_id"
    unscheduled_with_tech = client.patch(url, headers=dispatcher,
                                         json={"version": 1, "technician_id": technician})
    assert unscheduled_with_tech.status_code == 422
    scheduled = client.patch(url, headers=dispatcher, json=_schedule(technician))
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["technician_id"] == technician
    version = scheduled.json()["version"]
    for target in ("dispatched", "en_route", "on_site"):
        moved = client.patch(url, headers=dispatcher, json={"version": version,
                                                             "status": target})
        assert moved.status_code == 200, moved.text
        version = moved.json()["version"]
    no_reason = client.patch(url, headers=dispatcher, json={"version": version,
                                                             "status": "cannot_complete"})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["details"][0]["field"] == "body.cannot_complete_reason"
    done = client.patch(url, headers=dispatcher, json={
        "version": version, "status": "completed", "completion_notes": "replaced valve"})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    version = done.json()["version"]
    frozen = client.patch(url, headers=dispatcher, json={"version": version,
                                                         "duration_min": 10})
    assert frozen.status_code == 409
    notes = client.patch(url, headers=dispatcher, json={"version": version, "notes": "ok"})
    assert notes.status_code == 200
    with app.state.sessionmaker() as session:
        actions = session.scalars(select(Event.action).where(
            Event.entity_type == "appointment", Event.entity_id == str(created["id"]))).all()
    assert actions.count("updated") == 6


def test_unscheduling_clears_the_assignment(client: TestClient, app: FastAPI,
                                            headers_for: Any,
                                            api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    technician = make_technician(app)
    created = _create(client, api_key_headers)
    url = f"{URL}/{created['id']}"
    scheduled = client.patch(url, headers=dispatcher,
                             json={**_schedule(technician), "plan_id": 7}).json()
    back = client.patch(url, headers=dispatcher, json={"version": scheduled["version"],
                                                       "status": "unscheduled"})
    assert back.status_code == 200
    body = back.json()
    assert body["technician_id"] is None and body["scheduled_start"] is None
    assert body["plan_id"] is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"technician_id": 999999}, "body.technician_id"),
    ({"scheduled_end": "2026-11-23T09:00:00Z"}, "body.scheduled_end"),
    ({"excluded_technician_ids": ["TECH"]}, "body.excluded_technician_ids.0"),
])
def test_bad_assignment_names_the_field(client: TestClient, app: FastAPI, headers_for: Any,
                                        api_key_headers: dict[str, str],
                                        changes: dict[str, Any], field: str) -> None:
    technician = make_technician(app)
    created = _create(client, api_key_headers)
    response = client.patch(f"{URL}/{created['id']}", headers=headers_for("dispatcher"),
                            json={**_schedule(technician), **changes})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


def test_pinned_and_excluded_technicians_bind_the_assignment(
        client: TestClient, app: FastAPI, headers_for: Any,
        api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    pinned, other = make_technician(app), make_technician(app, name="Other")
    created = _create(client, api_key_headers, pinned_technician_id=pinned,
                      excluded_technician_ids=[other])
    url = f"{URL}/{created['id']}"
    wrong = client.patch(url, headers=dispatcher, json=_schedule(other))
    assert wrong.status_code == 422
    assert "pinned" in wrong.json()["error"]["details"][0]["message"]
    contradiction = client.patch(url, headers=dispatcher,
                                 json={"version": 1, "preferred_technician_ids": [other]})
    assert contradiction.status_code == 422
    assert client.patch(url, headers=dispatcher, json=_schedule(pinned)).status_code == 200


def test_cancel(client: TestClient, app: FastAPI, headers_for: Any,
                api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    created = _create(client, api_key_headers)
    url = f"{URL}/{created['id']}/cancel"
    stale = client.post(url, headers=dispatcher, json={"version": 5})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    done = client.post(url, headers=dispatcher, json={"version": 1, "reason": "customer away"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "cancelled"
    assert done.json()["cancel_reason"] == "customer away"
    again = client.post(url, headers=dispatcher, json={"version": 2})
    assert again.status_code == 409
    assert again.json()["error"]["meta"]["allowed"] == []
    assert client.post(f"{URL}/424242/cancel", headers=dispatcher,
                       json={"version": 1}).status_code == 404


# --------------------------------------------------------------------- exchange


def test_to_exchange_feeds_a_valid_plan_request(client: TestClient, app: FastAPI,
                                                headers_for: Any,
                                                api_key_headers: dict[str, str]) -> None:
    dispatcher = headers_for("dispatcher")
    technician = make_technician(app)
    plain = _create(client, api_key_headers, preferred_technician_ids=[technician])
    dispatched = _create(client, api_key_headers)
    url = f"{URL}/{dispatched['id']}"
    version = client.patch(url, headers=dispatcher, json=_schedule(technician)).json()["version"]
    client.patch(url, headers=dispatcher, json={"version": version, "status": "dispatched"})
    with app.state.sessionmaker() as session:
        rows = [session.get(Appointment, plain["id"]), session.get(Appointment, dispatched["id"])]
        converted = [service.to_exchange(row) for row in rows if row is not None]
        unpinned = service.to_exchange(rows[1], pin_committed=False)  # type: ignore[arg-type]
    first, second = converted
    assert first.id == str(plain["id"]) and first.preferred_technicians == [str(technician)]
    assert first.location.lat == 51.52 and first.windows[0].start.hour == 9
    assert first.pinned_technician is None and first.planned_technician is None
    assert second.pinned_technician == str(technician)
    assert second.planned_technician == str(technician)
    assert second.planned_start is not None and second.planned_start.minute == 30
    assert unpinned.pinned_technician is None
    request = exchange.PlanRequest(
        technicians=[exchange.Technician(
            id=str(technician), skills={"hvac": 3},
            start_location=exchange.Location(lat=51.5, lon=-0.12),
            shifts=[exchange.Shift(start="2026-11-23T08:00:00Z", end="2026-11-23T17:00:00Z")])],
        appointments=converted)
    assert len(request.appointments) == 2


def test_an_unlinked_technician_login_sees_nothing(client: TestClient, app: FastAPI,
                                                   api_key_headers: dict[str, str]) -> None:
    from api.auth.dependencies import Principal, Role
    from api.errors import NotFound

    created = _create(client, api_key_headers)  # unassigned: technician_id is NULL
    unlinked = Principal(kind="user", id=1, name="t", role=Role.technician, technician_id=None)
    with app.state.sessionmaker() as session:
        assert session.scalars(service.list_statement(principal=unlinked)).all() == []
        with pytest.raises(NotFound):
            service.get(db=session, appointment_id=created["id"], principal=unlinked)
