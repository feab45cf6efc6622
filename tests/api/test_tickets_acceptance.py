"""Acceptance: one ticket's life on a Mon-Fri 08:00-18:00 New York contract, across a weekend.

Every expected instant is computed by hand below (EST = UTC-5 in late November):

* received Fri 20 Nov 16:30, P2 (impact 2, urgency 1); contract P2 targets: response 60,
  on-site 100, resolution 600 business minutes.
  - response due   Fri 16:30 + 60            = Fri 17:30
  - on-site due    Fri 16:30 + 90 (to 18:00) + 10 Mon        = Mon 23 Nov 08:10
  - resolution due Fri 16:30 + 90 + 510 Mon                  = Mon 23 Nov 16:30
* validated Fri 16:35: first response, met (5 of 60 minutes).
* L1 limit 15 business minutes from 16:30 -> the job moves it to L2 at Fri 16:45
  (assigned -> escalated); a run at 16:44 does nothing; a repeated run does nothing.
* on hold (awaiting_customer) Fri 17:00 -> Mon 09:30: paused business time
  = Fri 17:00-18:00 (60) + Mon 08:00-09:30 (90) = 150 minutes; the weekend adds nothing.
  - on-site due    = 100 + 150 = 250 from Fri 16:30: 90 Fri + 160 Mon = Mon 10:40
  - resolution due = 600 + 150 = 750: 90 Fri + 600 Mon + 60 Tue    = Tue 24 Nov 09:00
  - L2 limit 60 from 16:45, + 150 paused: 75 Fri + 135 Mon            = Mon 10:15
* job at Mon 10:00: on-site elapsed = (90 Fri + 120 Mon) - 150 = 60 of 100 -> 50% warning
  only; no tier move (10:15 not reached).
* on site Mon 10:10 (met, due 10:40); resolved Mon 10:12 (met, due Tue 09:00); closed 10:14.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from api.tickets import service, sla
from api.tickets.escalation import run_escalation
from tests.api.tickets_support import WEEKDAYS, make_customer, make_entitlement, new_ticket, walk

NY = ZoneInfo("America/New_York")


def ny(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def due(ticket, kind: str) -> datetime:
    return next(c.due_at for c in ticket.clocks if c.kind == kind)


def stage(ticket, kind: str) -> str:
    return next(c.stage for c in ticket.clocks if c.kind == kind)


def quiet(summary: dict) -> bool:
    return all(v == 0 for k, v in summary.items() if k not in ("now", "tickets_checked"))


def test_ticket_lifecycle_across_a_weekend_with_pause_and_automatic_escalation(
    client, db, headers_for
):
    customer = make_customer(db)
    make_entitlement(
        db,
        customer,
        coverage=[{"days": WEEKDAYS, "from": "08:00", "to": "18:00"}],
        timezone="America/New_York",
        targets={
            str(p): {"response_min": 60, "onsite_min": 100, "resolution_min": 600}
            for p in range(1, 6)
        },
    )
    db.commit()

    # Friday afternoon: intake.
    ticket = new_ticket(db, customer, at=ny(20, 16, 30), impact=2, urgency=1, needs_onsite=True)
    assert ticket.priority == 2 and ticket.entitlement_status == "valid"
    assert due(ticket, "response") == ny(20, 17, 30)
    assert due(ticket, "onsite") == ny(23, 8, 10)
    assert due(ticket, "resolution") == ny(23, 16, 30)

    ticket = walk(db, ticket, [("validated", ny(20, 16, 35))])
    assert ticket.first_response_at == ny(20, 16, 35)
    assert stage(ticket, "response") == "met"
    ticket = walk(
        db,
        ticket,
        [
            ("recorded", ny(20, 16, 36)),
            ("screened", ny(20, 16, 37)),
            ("prioritised", ny(20, 16, 38)),
            ("assigned", ny(20, 16, 40)),
        ],
    )
    db.commit()

    # The L1 limit (15 business minutes) runs out at 16:45.
    assert quiet(run_escalation(db=db, now=ny(20, 16, 44)))
    assert ticket.tier == "L1"
    summary = run_escalation(db=db, now=ny(20, 16, 46))
    assert summary["tier_moves"] == 1 and summary["status_escalations"] == 1
    assert (ticket.tier, ticket.status) == ("L2", "escalated")
    assert ticket.tier_entered_at == ny(20, 16, 45) and ticket.escalated_at == ny(20, 16, 45)
    assert quiet(run_escalation(db=db, now=ny(20, 16, 46)))  # idempotent
    db.commit()

    # L2 takes it, then waits for the customer over the weekend.
    ticket = walk(db, ticket, [("assigned", ny(20, 16, 50)), ("awaiting_customer", ny(20, 17, 0))])
    assert stage(ticket, "resolution") == "paused" and stage(ticket, "onsite") == "paused"
    assert quiet(run_escalation(db=db, now=ny(21, 12, 0)))  # Saturday: paused, nothing moves
    assert sla.onsite_due(db=db, ticket=ticket) == ny(23, 8, 10)  # provisional while paused
    db.commit()

    ticket = walk(db, ticket, [("assigned", ny(23, 9, 30))])
    resolution = next(c for c in ticket.clocks if c.kind == "resolution")
    assert resolution.paused_total_min == 150
    assert due(ticket, "onsite") == ny(23, 10, 40)
    assert due(ticket, "resolution") == ny(24, 9, 0)
    assert ticket.tier_paused_min == 150
    db.commit()

    summary = run_escalation(db=db, now=ny(23, 10, 0))
    assert summary["sla_warning_50"] == 1 and summary["sla_warning_75"] == 0
    assert summary["tier_moves"] == 0 and ticket.tier == "L2"
    db.commit()

    # On site, resolved, closed.
    clock = sla.mark_onsite_met(db=db, ticket_id=ticket.id, at=ny(23, 10, 10))
    assert clock is not None and clock.stage == "met"
    ticket = walk(db, ticket, [("resolved", ny(23, 10, 12)), ("closed", ny(23, 10, 14))])
    assert stage(ticket, "resolution") == "met"
    assert (ticket.resolved_at, ticket.closed_at) == (ny(23, 10, 12), ny(23, 10, 14))
    assert quiet(run_escalation(db=db, now=ny(24, 12, 0)))  # closed: the job leaves it alone
    db.commit()

    # What an agent sees over HTTP.
    agent = headers_for("agent")
    read = client.get(f"/api/v1/tickets/{ticket.id}", headers=agent)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["status"] == "closed" and body["tier"] == "L2" and body["escalation_count"] == 1
    assert body["sla_timezone"] == "America/New_York"
    clocks = {c["kind"]: c for c in body["clocks"]}
    assert clocks["response"]["due_at"] == utc_iso(ny(20, 17, 30))
    assert clocks["onsite"]["due_at"] == utc_iso(ny(23, 10, 40))
    assert clocks["resolution"]["due_at"] == utc_iso(ny(24, 9, 0))
    assert {c["stage"] for c in clocks.values()} == {"met"}

    events = client.get(f"/api/v1/tickets/{ticket.id}/events", headers=agent).json()["items"]
    steps = [
        (e["action"], e["data"].get("from") or e["data"].get("from_tier") or e["data"].get("clock"),
         e["data"].get("to") or e["data"].get("to_tier"), e["actor"])
        for e in events
    ]  # fmt: skip
    assert steps == [
        ("created", None, None, "user:alice"),
        ("transition", "received", "validated", "user:alice"),
        ("first_response", None, None, "user:alice"),
        ("transition", "validated", "recorded", "user:alice"),
        ("transition", "recorded", "screened", "user:alice"),
        ("transition", "screened", "prioritised", "user:alice"),
        ("transition", "prioritised", "assigned", "user:alice"),
        ("tier_escalated", "L1", "L2", "system:escalation"),
        ("transition", "assigned", "escalated", "system:escalation"),
        ("transition", "escalated", "assigned", "user:alice"),
        ("transition", "assigned", "awaiting_customer", "user:alice"),
        ("transition", "awaiting_customer", "assigned", "user:alice"),
        ("sla_warning_50", "onsite", None, "system:escalation"),
        ("onsite_arrived", "onsite", None, "system:appointments"),
        ("transition", "assigned", "resolved", "user:alice"),
        ("transition", "resolved", "closed", "user:alice"),
    ]
    by_action = {e["action"]: e["data"] for e in events}
    assert by_action["tier_escalated"]["automatic"] is True
    assert by_action["tier_escalated"]["at"] == ny(20, 16, 45).astimezone(UTC).isoformat()
    assert by_action["onsite_arrived"]["met"] is True
    created = by_action["created"]
    assert created["due"]["resolution"] == ny(23, 16, 30).astimezone(UTC).isoformat()
    assert service.get(db=db, ticket_id=ticket.id).reopen_count == 0
