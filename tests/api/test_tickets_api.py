"""The ticket endpoints over HTTP: intake, edits, transitions, priority, tiers, events, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.tickets_support import make_customer, make_entitlement

BASE = "/api/v1/tickets"


@pytest.fixture
def agent(headers_for):
    return headers_for("agent")


@pytest.fixture
def customer(db) -> int:
    customer_id = make_customer(db)
    db.commit()
    return customer_id


def body(customer: int, **fields):
    values = {
        "request_type": "incident", "channel": "email", "customer_id": customer,
        "product": "boiler-x200", "summary": "No heating", "impact": 2, "urgency": 3,
    }  # fmt: skip
    values.update(fields)
    return values


def create(client, headers, customer_id, **fields):
    response = client.post(BASE, json=body(customer_id, **fields), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def move(client, headers, ticket, to, **extra):
    return client.post(
        f"{BASE}/{ticket['id']}/transitions",
        json={"to": to, "version": ticket["version"], **extra},
        headers=headers,
    )


def walk(client, headers, ticket, *statuses):
    for to in statuses:
        response = move(client, headers, ticket, to)
        assert response.status_code == 200, response.text
        ticket = response.json()
    return ticket


def actions(client, headers, ticket_id):
    page = client.get(f"{BASE}/{ticket_id}/events", headers=headers).json()
    return [e["action"] for e in page["items"]]


# ---------------------------------------------------------------------- intake


def test_create_derives_priority_and_falls_back_to_the_default_policy(client, agent, customer):
    ticket = create(client, agent, customer, impact=2, urgency=3)
    assert ticket["priority"] == 4 and not ticket["priority_overridden"]
    assert ticket["status"] == "received" and ticket["tier"] == "L1"
    assert ticket["entitlement_status"] == "none" and ticket["entitlement_id"] is None
    assert "default SLA policy" in ticket["entitlement_message"]
    assert ticket["sla_source"] == "default" and ticket["sla_timezone"] == "UTC"
    assert {c["kind"] for c in ticket["clocks"]} == {"response", "resolution"}
    assert ticket["allowed_transitions"] == ["cancelled", "validated"]
    assert actions(client, agent, ticket["id"]) == ["created"]


def test_create_with_a_valid_entitlement_uses_its_calendar_and_targets(client, db, agent, customer):
    entitlement = make_entitlement(db, customer, coverage=None, timezone="Europe/Paris")
    db.commit()
    received = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # a Saturday: 24x7 contract counts it
    ticket = create(
        client, agent, customer, impact=1, urgency=1, needs_onsite=True,
        received_at=received.isoformat(),
    )  # fmt: skip
    assert ticket["entitlement_status"] == "valid" and ticket["entitlement_id"] == entitlement
    assert ticket["sla_source"] == "entitlement" and ticket["sla_timezone"] == "Europe/Paris"
    clocks = {c["kind"]: c for c in ticket["clocks"]}
    # P1 targets of the test contract: response 30, on-site 120, resolution 240 (24x7).
    assert clocks["response"]["due_at"] == "2026-11-21T23:30:00Z"
    assert clocks["onsite"]["due_at"] == "2026-11-22T01:00:00Z"
    assert clocks["resolution"]["due_at"] == "2026-11-22T03:00:00Z"


def test_a_product_outside_the_contract_gets_no_entitlement(client, db, agent, customer):
    make_entitlement(db, customer, products=["chiller-c1"])
    db.commit()
    ticket = create(client, agent, customer, product="boiler-x200")
    assert ticket["entitlement_status"] == "none"


def test_an_expired_contract_is_not_an_entitlement(client, db, agent, customer):
    make_entitlement(db, customer, valid_until=datetime(2021, 1, 1, tzinfo=UTC))
    db.commit()
    assert create(client, agent, customer)["entitlement_status"] == "none"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"impact": 4}, "body.impact"),
        ({"channel": "fax"}, "body.channel"),
        ({"request_type": "complaint"}, "body.request_type"),
        ({"summary": ""}, "body.summary"),
        ({"unknown": 1}, "body.unknown"),
        ({"received_at": "2026-11-20T10:00:00"}, "body.received_at"),
        ({"summary": "two\nlines"}, "body.summary"),
        ({"description": "nul\x00byte"}, "body.description"),
        ({"customer_id": 2**40}, "body.customer_id"),
    ],
)
def test_create_rejects_bad_fields_by_name(client, agent, customer, fields, field):
    response = client.post(BASE, json=body(customer, **fields), headers=agent)
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_create_rejects_an_unknown_customer_and_a_future_receipt(client, agent, customer):
    response = client.post(BASE, json=body(customer + 999), headers=agent)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.customer_id"
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    response = client.post(BASE, json=body(customer, received_at=future), headers=agent)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.received_at"
    assert client.get(BASE, headers=agent).json()["total"] == 0  # nothing half-written


# ---------------------------------------------------------------- transitions


def test_invalid_transition_is_409_naming_the_allowed_moves(client, agent, customer):
    ticket = create(client, agent, customer)
    response = move(client, agent, ticket, "assigned")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["meta"]["allowed"] == ["cancelled", "validated"]
    assert "validated" in error["message"]


def test_stale_version_is_409(client, agent, customer):
    ticket = create(client, agent, customer)
    fresh = walk(client, agent, ticket, "validated")
    response = move(client, agent, ticket, "recorded")  # old version
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"
    assert response.json()["error"]["meta"]["current_version"] == fresh["version"]


def test_roles_per_transition(client, agent, customer, headers_for, admin_headers):
    ticket = create(client, agent, customer)
    ticket = walk(client, agent, ticket, "validated", "recorded", "screened", "prioritised",
                  "assigned")  # fmt: skip
    assert "cancelled" not in ticket["allowed_transitions"]  # agent may not cancel work
    response = move(client, agent, ticket, "cancelled")
    assert response.status_code == 403
    assert "admin" in response.json()["error"]["message"]
    dispatcher = move(client, headers_for("dispatcher"), ticket, "resolved")
    assert dispatcher.status_code == 403
    cancelled = move(client, admin_headers, ticket, "cancelled")
    assert cancelled.status_code == 200, cancelled.text
    body_ = cancelled.json()
    assert body_["status"] == "cancelled" and body_["cancelled_at"] is not None
    assert {c["stage"] for c in body_["clocks"] if c["kind"] != "response"} == {"cancelled"}


def test_milestones_first_response_hold_and_reopen(client, agent, customer):
    ticket = create(client, agent, customer)
    ticket = walk(client, agent, ticket, "validated")
    assert ticket["first_response_at"] == ticket["validated_at"]
    response_clock = next(c for c in ticket["clocks"] if c["kind"] == "response")
    assert response_clock["stage"] in ("met", "breached")
    ticket = walk(client, agent, ticket, "recorded", "screened", "prioritised", "assigned",
                  "awaiting_parts")  # fmt: skip
    resolution = next(c for c in ticket["clocks"] if c["kind"] == "resolution")
    assert resolution["stage"] == "paused" and resolution["paused_since"] is not None
    ticket = walk(client, agent, ticket, "awaiting_vendor", "resolved")
    resolution = next(c for c in ticket["clocks"] if c["kind"] == "resolution")
    assert resolution["stage"] in ("met", "breached") and ticket["resolved_at"] is not None
    ticket = walk(client, agent, ticket, "assigned")  # reopen
    assert ticket["reopen_count"] == 1 and ticket["resolved_at"] is None
    resolution = next(c for c in ticket["clocks"] if c["kind"] == "resolution")
    assert resolution["met_at"] is None
    log = actions(client, agent, ticket["id"])
    assert log.count("transition") == 9 and log.count("first_response") == 1


def test_explicit_first_response(client, agent, customer):
    ticket = create(client, agent, customer)
    url = f"{BASE}/{ticket['id']}/first-response"
    response = client.post(url, json={"version": ticket["version"], "note": "called back"},
                           headers=agent)  # fmt: skip
    assert response.status_code == 200, response.text
    ticket = response.json()
    assert ticket["status"] == "received" and ticket["first_response_at"] is not None
    again = client.post(url, json={"version": ticket["version"]}, headers=agent)
    assert again.status_code == 409
    # The later validation is no longer the first response.
    ticket = walk(client, agent, ticket, "validated")
    assert actions(client, agent, ticket["id"]).count("first_response") == 1


# --------------------------------------------------------------- edits, priority


def test_patch_rederives_priority_and_audits(client, agent, customer):
    ticket = create(client, agent, customer, impact=3, urgency=3)
    assert ticket["priority"] == 5
    before = {c["kind"]: c["due_at"] for c in ticket["clocks"]}
    response = client.patch(
        f"{BASE}/{ticket['id']}",
        json={"version": ticket["version"], "impact": 1, "summary": "Whole floor cold"},
        headers=agent,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["priority"] == 3 and updated["summary"] == "Whole floor cold"
    assert response.headers["ETag"] == f'"{updated["version"]}"'
    after = {c["kind"]: c["due_at"] for c in updated["clocks"]}
    assert after["resolution"] < before["resolution"]  # tighter target for a higher priority
    events = client.get(f"{BASE}/{ticket['id']}/events", headers=agent).json()["items"]
    assert events[-1]["data"]["changes"]["priority"] == [5, 3]
    stale = client.patch(f"{BASE}/{ticket['id']}", json={"version": ticket["version"],
                         "summary": "x"}, headers=agent)  # fmt: skip
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    missing = client.patch(f"{BASE}/{ticket['id']}", json={"summary": "x"}, headers=agent)
    assert missing.status_code == 422


def test_priority_override_needs_a_reason_and_is_audited(client, agent, customer):
    ticket = create(client, agent, customer, impact=3, urgency=3)
    url = f"{BASE}/{ticket['id']}/priority"
    no_reason = client.post(url, json={"version": ticket["version"], "priority": 1}, headers=agent)
    assert no_reason.status_code == 422
    response = client.post(
        url, json={"version": ticket["version"], "priority": 1, "reason": "CEO's office"},
        headers=agent,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    ticket = response.json()
    assert ticket["priority"] == 1 and ticket["priority_overridden"]
    assert ticket["priority_override_reason"] == "CEO's office"
    # An impact change keeps the agent's override.
    patched = client.patch(f"{BASE}/{ticket['id']}", json={"version": ticket["version"],
                           "impact": 2}, headers=agent).json()  # fmt: skip
    assert patched["priority"] == 1
    cleared = client.post(
        url, json={"version": patched["version"], "priority": None, "reason": "back to normal"},
        headers=agent,
    ).json()  # fmt: skip
    assert cleared["priority"] == 4 and not cleared["priority_overridden"]
    events = client.get(f"{BASE}/{ticket['id']}/events", headers=agent).json()["items"]
    override = next(e for e in events if e["action"] == "priority_overridden")
    assert override["data"] == {**override["data"], "from": 5, "to": 1, "matrix_priority": 5,
                                "reason": "CEO's office"}  # fmt: skip
    assert override["actor"] == f"user:{agent.username}"
    assert "priority_override_cleared" in [e["action"] for e in events]


# ------------------------------------------------------------------- escalation


def test_manual_escalation_moves_tier_and_status(client, agent, customer):
    ticket = create(client, agent, customer)
    url = f"{BASE}/{ticket['id']}/escalate"
    early = client.post(url, json={"version": ticket["version"], "reason": "needs L2 skills"},
                        headers=agent).json()  # fmt: skip
    assert early["tier"] == "L2" and early["status"] == "received"  # no escalated edge yet
    ticket = walk(client, agent, early, "validated", "recorded", "screened", "prioritised",
                  "assigned")  # fmt: skip
    response = client.post(url, json={"version": ticket["version"], "reason": "vendor bug",
                                      "to_tier": "L4"}, headers=agent)  # fmt: skip
    assert response.status_code == 200, response.text
    escalated = response.json()
    assert (escalated["tier"], escalated["status"]) == ("L4", "escalated")
    assert escalated["escalation_count"] == 2
    down = client.post(url, json={"version": escalated["version"], "reason": "try again",
                                  "to_tier": "L3"}, headers=agent)  # fmt: skip
    assert down.status_code == 422 and down.json()["error"]["details"][0]["field"] == "body.to_tier"
    top = client.post(url, json={"version": escalated["version"], "reason": "again"}, headers=agent)
    assert top.status_code == 422
    bad = client.post(url, json={"version": escalated["version"], "reason": "again",
                                 "to_tier": "L9"}, headers=agent)  # fmt: skip
    assert bad.status_code == 422


def test_transition_to_escalated_moves_up_a_tier(client, agent, customer):
    ticket = create(client, agent, customer)
    ticket = walk(client, agent, ticket, "validated", "recorded", "screened", "prioritised",
                  "assigned", "escalated")  # fmt: skip
    assert ticket["tier"] == "L2" and ticket["escalated_at"] is not None


# ---------------------------------------------------------------- list and read


def test_list_filters(client, db, agent, customer, headers_for):
    other = make_customer(db, "Globex")
    db.commit()
    a = create(client, agent, customer, channel="phone", impact=1, urgency=1)
    b = create(client, agent, customer, channel="web", request_type="information",
               product="chiller-c1")  # fmt: skip
    c = create(client, agent, other, channel="web")
    walk(client, agent, c, "validated")
    dispatcher = headers_for("dispatcher")

    def ids(**params):
        response = client.get(BASE, params=params, headers=dispatcher)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids(channel="web") == [c["id"], b["id"]]
    assert ids(channel=["web", "phone"]) == [c["id"], b["id"], a["id"]]
    assert ids(priority=1) == [a["id"]]
    assert ids(type="information") == [b["id"]]
    assert ids(product="chiller-c1") == [b["id"]]
    assert ids(customer_id=other) == [c["id"]]
    assert ids(status="validated") == [c["id"]]
    assert ids(tier="L1", limit=1, offset=1) == [b["id"]]
    assert ids(breached="false") == [c["id"], b["id"], a["id"]]
    assert ids(breached="true") == []
    bad = client.get(BASE, params={"tier": "L7"}, headers=dispatcher)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.tier.0"
    assert client.get(BASE, params={"status": "lost"}, headers=dispatcher).status_code == 422


def test_read_404_and_role_refusals(client, agent, customer, headers_for):
    assert client.get(f"{BASE}/999999", headers=agent).status_code == 404
    assert client.get(BASE).status_code == 401
    technician = headers_for("technician")
    assert client.get(BASE, headers=technician).status_code == 403
    dispatcher = headers_for("dispatcher")
    assert client.post(BASE, json=body(customer), headers=dispatcher).status_code == 403
    ticket = create(client, agent, customer)
    read = client.get(f"{BASE}/{ticket['id']}", headers=dispatcher)
    assert read.status_code == 200 and read.json()["allowed_transitions"] == []
    assert read.headers["ETag"] == f'"{ticket["version"]}"'


# ------------------------------------------------------------ matrix, tier limits


def test_admin_edits_the_priority_matrix_and_new_tickets_follow_it(
    client, agent, admin_headers, customer
):
    url = f"{BASE}/priority-matrix"
    matrix = client.get(url, headers=agent).json()
    assert len(matrix["cells"]) == 9
    cells = [dict(c) for c in matrix["cells"]]
    for cell in cells:
        if (cell["impact"], cell["urgency"]) == (3, 3):
            cell["priority"] = 4
    forbidden = client.put(url, json={"version": matrix["version"], "cells": cells}, headers=agent)
    assert forbidden.status_code == 403
    response = client.put(url, json={"version": matrix["version"], "cells": cells},
                          headers=admin_headers)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["version"] == matrix["version"] + 1
    assert create(client, agent, customer, impact=3, urgency=3)["priority"] == 4
    stale = client.put(url, json={"version": matrix["version"], "cells": cells},
                       headers=admin_headers)  # fmt: skip
    assert stale.status_code == 409
    inverted = [dict(c, priority=1) if (c["impact"], c["urgency"]) == (3, 3) else c for c in cells]
    bad = client.put(url, json={"version": matrix["version"] + 1, "cells": inverted},
                     headers=admin_headers)  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"].startswith("body.cells")
    duplicate = [*cells[:8], cells[0]]
    dup = client.put(url, json={"version": matrix["version"] + 1, "cells": duplicate},
                     headers=admin_headers)  # fmt: skip
    assert dup.status_code == 422


def test_admin_edits_tier_limits(client, agent, admin_headers):
    url = f"{BASE}/tier-limits"
    limits = client.get(url, headers=agent).json()
    assert [(r["tier"], r["limit_min"]) for r in limits] == [
        ("L1", 15), ("L2", 60), ("L3", 240), ("L4", None)
    ]  # fmt: skip
    l1 = limits[0]
    assert client.put(f"{url}/L1", json={"version": l1["version"], "limit_min": 30},
                      headers=agent).status_code == 403  # fmt: skip
    response = client.put(f"{url}/L1", json={"version": l1["version"], "limit_min": 30},
                          headers=admin_headers)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["limit_min"] == 30
    assert client.put(f"{url}/L1", json={"version": l1["version"], "limit_min": 45},
                      headers=admin_headers).status_code == 409  # fmt: skip
    assert client.put(f"{url}/L9", json={"version": 1, "limit_min": 45},
                      headers=admin_headers).status_code == 422  # fmt: skip
    assert client.put(f"{url}/L2", json={"version": 1, "limit_min": -5},
                      headers=admin_headers).status_code == 422  # fmt: skip
