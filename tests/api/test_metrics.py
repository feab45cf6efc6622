"""Help-desk metrics on a hand-built day (24x7 contract, so business minutes = wall minutes).

Wed 18 Nov 2026, all times UTC, every ticket P3 (impact 2, urgency 2); contract targets for
every priority: response 20, resolution 120 minutes.

    T1 phone  A  09:00  validated 09:10 (response met)      resolved 10:00 (60, met)
    T2 email  A  09:00  validated 09:30 (response breached) resolved 13:00 (240, breached)
    T3 web    B  09:00  escalated by hand to L2 at 09:05, validated 10:00 (breached), open
    T4 web    A  09:00  untouched, open
    T5 web    B  13:30  untouched, open
    escalation job at 09:16: T1, T2, T4 pass the L1 limit (15) at 09:15 -> 3 automatic L1->L2

Respond minutes [10, 30, 60]: mean 33.3, p90 = 30 + 0.8 * 30 = 54.0 (linear interpolation).
Resolve minutes [60, 240]: mean 150.0, p90 = 60 + 0.9 * 180 = 222.0.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from api.tickets import service
from api.tickets.escalation import run_escalation
from tests.api.tickets_support import AGENT, make_customer, make_entitlement, new_ticket, walk

URL = "/api/v1/metrics"
INTAKE = ["recorded", "screened", "prioritised", "assigned"]


def t(hour: int, minute: int = 0, day: int = 18) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def day(client, db):
    customer = make_customer(db)
    targets = {str(p): {"response_min": 20, "resolution_min": 120} for p in range(1, 6)}
    make_entitlement(db, customer, products=[], coverage=None, targets=targets)
    t1 = new_ticket(db, customer, at=t(9), channel="phone", product="A")
    t2 = new_ticket(db, customer, at=t(9), channel="email", product="A")
    t3 = new_ticket(db, customer, at=t(9), channel="web", product="B")
    t4 = new_ticket(db, customer, at=t(9), channel="web", product="A")
    service.escalate(db=db, ticket_id=t3.id, version=t3.version, reason="needs L2",
                     to_tier=None, actor=AGENT, now=t(9, 5))  # fmt: skip
    walk(db, t1, [("validated", t(9, 10))] + [(s, t(9, 11 + i)) for i, s in enumerate(INTAKE)])
    run_escalation(db=db, now=t(9, 16))
    walk(db, t2, [("validated", t(9, 30))] + [(s, t(9, 31 + i)) for i, s in enumerate(INTAKE)])
    walk(db, t1, [("resolved", t(10))])
    walk(db, t3, [("validated", t(10))])
    walk(db, t2, [("resolved", t(13))])
    new_ticket(db, customer, at=t(13, 30), channel="web", product="B")
    db.commit()
    return [t1.id, t2.id, t3.id, t4.id]


def rows(client, headers, path, **params):
    response = client.get(f"{URL}/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def test_volume_by_channel_type_product_tier(client, day, headers_for):
    agent = headers_for("agent")
    assert rows(client, agent, "volume", by="channel") == [
        {"channel": "web", "tickets": 3, "share_pct": 60.0},
        {"channel": "email", "tickets": 1, "share_pct": 20.0},
        {"channel": "phone", "tickets": 1, "share_pct": 20.0},
    ]
    assert rows(client, agent, "volume", by="type") == [
        {"type": "incident", "tickets": 5, "share_pct": 100.0}
    ]
    assert [(r["tier"], r["tickets"]) for r in rows(client, agent, "volume", by="tier")] == [
        ("L2", 4), ("L1", 1)
    ]  # fmt: skip
    assert rows(client, agent, "top-products", limit=1) == [
        {"product": "A", "tickets": 3, "share_pct": 60.0}
    ]
    since = rows(client, agent, "volume", by="product", **{"from": t(13).isoformat()})
    assert since == [{"product": "B", "tickets": 1, "share_pct": 100.0}]


def test_sla_met_percentage_by_priority(client, day, headers_for):
    table = rows(client, headers_for("dispatcher"), "sla")
    assert table == [
        {"priority": 3, "kind": "resolution", "met": 1, "breached": 1, "running": 3,
         "cancelled": 0, "met_pct": 50.0},
        {"priority": 3, "kind": "response", "met": 1, "breached": 2, "running": 2,
         "cancelled": 0, "met_pct": 33.3},
    ]  # fmt: skip


def test_mean_and_p90_times(client, day, headers_for):
    agent = headers_for("agent")
    expected = {
        "respond_count": 3, "respond_mean_min": 33.3, "respond_p90_min": 54.0,
        "resolve_count": 2, "resolve_mean_min": 150.0, "resolve_p90_min": 222.0,
    }  # fmt: skip
    wall = rows(client, agent, "times")
    assert [r["priority"] for r in wall] == ["3", "all"]
    assert wall[1] == {"priority": "all", **expected}
    assert rows(client, agent, "times", basis="business") == wall  # 24x7: same minutes


def test_business_basis_skips_the_weekend(client, db, headers_for):
    customer = make_customer(db)  # no contract: default policy, Mon-Fri 08-18 UTC
    ticket = new_ticket(db, customer, at=datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
    walk(db, ticket, [("validated", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))])
    db.commit()
    agent = headers_for("agent")
    assert rows(client, agent, "times")[-1]["respond_mean_min"] == 3840.0  # 64 wall hours
    assert rows(client, agent, "times", basis="business")[-1]["respond_mean_min"] == 120.0


def test_escalations_and_backlog(client, day, headers_for):
    agent = headers_for("agent")
    assert rows(client, agent, "escalations") == [
        {"from_tier": "L1", "to_tier": "L2", "automatic": False, "escalations": 1},
        {"from_tier": "L1", "to_tier": "L2", "automatic": True, "escalations": 3},
    ]
    backlog = rows(client, agent, "backlog", at=t(14).isoformat())
    assert [(r["age"], r["tickets"], r["p3"]) for r in backlog] == [
        ("<1h", 1, 1), ("1-4h", 0, 0), ("4-24h", 2, 2), ("1-3d", 0, 0), ("3-7d", 0, 0),
        (">7d", 0, 0),
    ]  # fmt: skip


def test_csv_by_query_or_accept_header(client, day, headers_for):
    agent = headers_for("agent")
    by_query = client.get(f"{URL}/volume", params={"by": "channel", "format": "csv"},
                          headers=agent)  # fmt: skip
    assert by_query.status_code == 200
    assert by_query.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(by_query.text))) == [
        ["channel", "tickets", "share_pct"], ["web", "3", "60.0"], ["email", "1", "20.0"],
        ["phone", "1", "20.0"],
    ]  # fmt: skip
    by_accept = client.get(f"{URL}/backlog", headers={**agent, "Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.text.splitlines()[0] == "age,tickets,p1,p2,p3,p4,p5"
    forced_json = client.get(f"{URL}/sla", params={"format": "json"},
                             headers={**agent, "Accept": "text/csv"})  # fmt: skip
    assert forced_json.json()["metric"] == "sla_by_priority"


def test_empty_tables_and_bad_input(client, headers_for):
    agent = headers_for("agent")
    assert rows(client, agent, "escalations") == []
    assert rows(client, agent, "times")[-1]["respond_mean_min"] is None
    assert rows(client, agent, "sla") == []
    bad = client.get(f"{URL}/volume", params={"by": "colour"}, headers=agent)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.by"
    backwards = client.get(
        f"{URL}/volume", params={"from": t(12).isoformat(), "to": t(10).isoformat()}, headers=agent
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["details"][0]["field"] == "query.to"


@pytest.mark.parametrize("role", ["admin", "agent", "dispatcher"])
def test_metric_readers(client, headers_for, role):
    assert client.get(f"{URL}/volume", headers=headers_for(role)).status_code == 200


def test_metric_refusals(client, headers_for, api_key_headers):
    assert client.get(f"{URL}/volume").status_code == 401
    assert client.get(f"{URL}/volume", headers=headers_for("technician")).status_code == 403
    assert client.get(f"{URL}/volume", headers=api_key_headers).status_code == 403
