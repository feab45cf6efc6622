"""Appointments made from tickets: contract, priority and SLA come from the ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.appointments.models import Appointment
from api.events import Event
from api.tickets.models import SlaClock, Ticket
from api.tickets.sla import onsite_due
from tests.api.appointment_helpers import (
    BODY,
    cancel_ticket,
    count_appointments,
    make_customer,
    make_entitlement,
    make_technician,
    make_ticket,
)

URL = "/api/v1/appointments"
FIELDS = {key: value for key, value in BODY.items() if key != "priority"}


@pytest.fixture
def gold_ticket(app: FastAPI, client: TestClient) -> dict[str, int]:
    customer = make_customer(app, lat=51.53, lon=-0.08, address="9 Site Street, London N1 7AA")
    entitlement = make_entitlement(app, customer)
    ticket = make_ticket(app, customer, impact=1, urgency=2)  # ServiceNow matrix: P2
    return {"customer": customer, "entitlement": entitlement, "ticket": ticket}


def _ticket_row(app: FastAPI, ticket_id: int) -> tuple[int, datetime | None]:
    with app.state.sessionmaker() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.priority, onsite_due(db=session, ticket=ticket)


def test_ticket_route_takes_contract_priority_and_sla_from_the_ticket(
        client: TestClient, app: FastAPI, headers_for: Any, gold_ticket: dict[str, int]) -> None:
    priority, due = _ticket_row(app, gold_ticket["ticket"])
    assert due is not None  # gold covers on-site work: the ticket runs an on-site clock
    response = client.post(f"/api/v1/tickets/{gold_ticket['ticket']}/appointments",
                           json=FIELDS, headers=headers_for("agent"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ticket_id"] == gold_ticket["ticket"]
    assert body["customer_id"] == gold_ticket["customer"]
    assert body["entitlement_id"] == gold_ticket["entitlement"]
    assert body["priority"] == priority == 2
    assert datetime.fromisoformat(body["sla_due"]) == due
    # 24x7 gold contract, P2 on-site target 480 business minutes from intake.
    with app.state.sessionmaker() as session:
        clock = session.scalar(select(SlaClock).where(
            SlaClock.ticket_id == gold_ticket["ticket"], SlaClock.kind == "onsite"))
    assert clock is not None and due == clock.started_at + timedelta(minutes=480)


def test_body_ticket_id_works_the_same_and_priority_may_be_given(
        client: TestClient, app: FastAPI, headers_for: Any, gold_ticket: dict[str, int]) -> None:
    response = client.post(URL, json={**FIELDS, "ticket_id": gold_ticket["ticket"],
                                      "priority": 1}, headers=headers_for("dispatcher"))
    assert response.status_code == 201, response.text
    assert response.json()["priority"] == 1
    assert response.json()["entitlement_id"] == gold_ticket["entitlement"]


def test_location_defaults_to_the_customer_site(client: TestClient, app: FastAPI,
                                                headers_for: Any,
                                                gold_ticket: dict[str, int]) -> None:
    fields = {key: value for key, value in FIELDS.items() if key != "location"}
    response = client.post(f"/api/v1/tickets/{gold_ticket['ticket']}/appointments",
                           json=fields, headers=headers_for("agent"))
    assert response.status_code == 201, response.text
    assert response.json()["location"] == {"lat": 51.53, "lon": -0.08}
    assert response.json()["address"] == "9 Site Street, London N1 7AA"


def test_customer_site_address_is_geocoded_when_it_has_no_position(
        client: TestClient, app: FastAPI, headers_for: Any) -> None:
    customer = make_customer(app, address="Tower of London, London EC3N 4AB")
    ticket = make_ticket(app, customer)
    fields = {key: value for key, value in FIELDS.items() if key != "location"}
    response = client.post(f"/api/v1/tickets/{ticket}/appointments", json=fields,
                           headers=headers_for("agent"))
    assert response.status_code == 201, response.text
    assert response.json()["location"] == pytest.approx({"lat": 51.5081, "lon": -0.0759})
    # No contract: the tickets domain's default policy sets the on-site due time.
    assert response.json()["entitlement_id"] is None
    assert response.json()["sla_due"] is not None


def test_tickets_that_cannot_have_appointments(client: TestClient, app: FastAPI,
                                               headers_for: Any) -> None:
    agent = headers_for("agent")
    customer = make_customer(app)
    remote = make_ticket(app, customer, needs_onsite=False)
    cancelled = make_ticket(app, customer)
    cancel_ticket(app, cancelled)
    missing = client.post("/api/v1/tickets/999999/appointments", json=FIELDS, headers=agent)
    assert missing.status_code == 404
    for ticket, words in ((remote, "does not need on-site work"), (cancelled, "cancelled")):
        on_path = client.post(f"/api/v1/tickets/{ticket}/appointments", json=FIELDS,
                              headers=agent)
        assert on_path.status_code == 422
        detail = on_path.json()["error"]["details"][0]
        assert detail["field"] == "path.ticket_id" and words in detail["message"]
        in_body = client.post(URL, json={**FIELDS, "ticket_id": ticket}, headers=agent)
        assert in_body.status_code == 422
        assert in_body.json()["error"]["details"][0]["field"] == "body.ticket_id"
    unknown = client.post(URL, json={**FIELDS, "ticket_id": 999999}, headers=agent)
    assert unknown.status_code == 422
    assert count_appointments(app) == 0


def test_ticket_fields_are_not_taken_from_the_body(client: TestClient, headers_for: Any,
                                                   gold_ticket: dict[str, int]) -> None:
    url = f"/api/v1/tickets/{gold_ticket['ticket']}/appointments"
    response = client.post(url, json={**FIELDS, "entitlement_id": gold_ticket["entitlement"]},
                           headers=headers_for("agent"))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.entitlement_id"


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", 201), ("agent", 201), ("dispatcher", 201), ("technician", 403)])
def test_who_may_create_from_a_ticket(client: TestClient, headers_for: Any,
                                      gold_ticket: dict[str, int], role: str,
                                      expected: int) -> None:
    response = client.post(f"/api/v1/tickets/{gold_ticket['ticket']}/appointments",
                           json=FIELDS, headers=headers_for(role))
    assert response.status_code == expected


def test_arrival_on_site_meets_the_tickets_onsite_clock(
        client: TestClient, app: FastAPI, headers_for: Any, gold_ticket: dict[str, int]) -> None:
    dispatcher = headers_for("dispatcher")
    technician = make_technician(app)
    created = client.post(f"/api/v1/tickets/{gold_ticket['ticket']}/appointments",
                          json=FIELDS, headers=dispatcher).json()
    url = f"{URL}/{created['id']}"
    version = client.patch(url, headers=dispatcher, json={
        "version": 1, "status": "scheduled", "technician_id": technician,
        "scheduled_start": "2026-11-23T09:30:00Z", "scheduled_end": "2026-11-23T10:15:00Z",
    }).json()["version"]
    for target in ("dispatched", "on_site"):
        moved = client.patch(url, headers=dispatcher, json={"version": version,
                                                             "status": target})
        assert moved.status_code == 200, moved.text
        assert moved.json()["version"] == version + 1  # one change, one version step
        version = moved.json()["version"]
    with app.state.sessionmaker() as session:
        clock = session.scalar(select(SlaClock).where(
            SlaClock.ticket_id == gold_ticket["ticket"], SlaClock.kind == "onsite"))
        arrived = session.scalars(select(Event).where(
            Event.entity_type == "ticket", Event.action == "onsite_arrived")).all()
        row = session.get(Appointment, created["id"])
    assert clock is not None and clock.met_at is not None and clock.stage == "met"
    assert len(arrived) == 1
    assert row is not None and row.status == "on_site"
