"""The escalation job and the on-site hooks, on a real database.

A 24x7 contract makes business minutes equal wall minutes, so the expected
instants below are plain clock arithmetic (all UTC, Wed 18 Nov 2026).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.errors import NotFound
from api.events import Event
from api.tickets import service, sla
from api.tickets.escalation import run_escalation
from api.tickets.models import Ticket
from tests.api.tickets_support import ADMIN, make_customer, make_entitlement, new_ticket
from tests.api.tickets_support import walk as walk_to

REPO = Path(__file__).resolve().parents[2]
TARGETS = {str(p): {"response_min": 20, "onsite_min": 60, "resolution_min": 120}
           for p in range(1, 6)}  # fmt: skip
INTAKE = ["validated", "recorded", "screened", "prioritised", "assigned"]


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 18, hour, minute, tzinfo=UTC)


@pytest.fixture
def customer(client, db) -> int:
    customer_id = make_customer(db)
    make_entitlement(db, customer_id, products=[], coverage=None, targets=TARGETS)
    db.commit()
    return customer_id


def assigned_ticket(db, customer, at: datetime, **fields):
    ticket = new_ticket(db, customer, at=at, **fields)
    return walk_to(db, ticket, [(s, at + timedelta(minutes=1)) for s in INTAKE])


def log(db, ticket_id: int) -> list[str]:
    rows = db.scalars(select(Event.action).where(Event.entity_type == "ticket",
                                                 Event.entity_id == str(ticket_id))
                      .order_by(Event.id))  # fmt: skip
    return list(rows)


def test_warnings_and_breach_are_recorded_once_each(db, customer):
    ticket = assigned_ticket(db, customer, t(9))  # resolution 120 -> due 11:00
    assert run_escalation(db=db, now=t(9, 59))["sla_warning_50"] == 0  # 59/120
    summary = run_escalation(db=db, now=t(10, 0))
    assert summary["sla_warning_50"] == 1 and summary["sla_warning_75"] == 0
    assert run_escalation(db=db, now=t(10, 0))["sla_warning_50"] == 0
    assert run_escalation(db=db, now=t(10, 30))["sla_warning_75"] == 1
    assert run_escalation(db=db, now=t(11, 0))["sla_breached"] == 0  # due, not yet past
    assert run_escalation(db=db, now=t(11, 1))["sla_breached"] == 1
    assert run_escalation(db=db, now=t(15, 0))["sla_breached"] == 0
    resolution = next(c for c in ticket.clocks if c.kind == "resolution")
    assert resolution.stage == "breached" and resolution.breached_at == t(11, 1)
    actions = log(db, ticket.id)
    for name in ("sla_warning_50", "sla_warning_75", "sla_breached"):
        assert actions.count(name) == 1, name
    # Resolving late keeps the breach and records nothing new about it.
    assert ticket.status == "escalated"  # the job also moved it past its L1 limit
    walk_to(db, ticket, [("resolved", t(15, 10))])
    assert resolution.stage == "breached" and resolution.met_at == t(15, 10)
    assert log(db, ticket.id).count("sla_breached") == 1


def test_catch_up_over_several_tiers_is_dated_when_each_limit_ran_out(db, customer):
    ticket = new_ticket(db, customer, at=t(9))  # stays "received": tiers move, status doesn't
    summary = run_escalation(db=db, now=t(12))
    # L1 15 -> 09:15, L2 60 -> 10:15, L3 240 -> 14:15 (not yet at 12:00).
    assert summary["tier_moves"] == 2 and summary["status_escalations"] == 0
    assert (ticket.tier, ticket.status) == ("L3", "received")
    assert ticket.tier_entered_at == t(10, 15) and ticket.escalation_count == 2
    assert run_escalation(db=db, now=t(12))["tier_moves"] == 0
    assert run_escalation(db=db, now=t(14, 16))["tier_moves"] == 1
    assert ticket.tier == "L4"
    assert run_escalation(db=db, now=t(23))["tier_moves"] == 0  # the vendor tier has no limit


def test_on_hold_stops_the_tier_timer_and_resuming_extends_it(db, customer):
    ticket = assigned_ticket(db, customer, t(9))  # L1 from 09:00
    walk_to(db, ticket, [("awaiting_parts", t(9, 10))])
    assert run_escalation(db=db, now=t(13))["tier_moves"] == 0
    walk_to(db, ticket, [("assigned", t(13))])  # 10 of 15 minutes used, 230 paused
    assert ticket.tier_paused_min == 230
    assert run_escalation(db=db, now=t(13, 5))["tier_moves"] == 0
    summary = run_escalation(db=db, now=t(13, 6))
    assert summary["tier_moves"] == 1 and ticket.status == "escalated"
    assert ticket.escalated_at == t(13, 5)


def test_tier_limits_are_data(db, customer):
    row = next(r for r in service.tier_limit_rows(db=db) if r.tier == "L1")
    service.update_tier_limit(db=db, tier="L1", limit_min=None, version=row.version,
                              actor=_principal())  # fmt: skip
    ticket = new_ticket(db, customer, at=t(9))
    assert run_escalation(db=db, now=t(18))["tier_moves"] == 0 and ticket.tier == "L1"


def test_held_ticket_escalates_for_time_before_the_hold(db, customer):
    ticket = assigned_ticket(db, customer, t(9))
    walk_to(db, ticket, [("awaiting_customer", t(9, 30))])  # limit ran out at 09:15
    summary = run_escalation(db=db, now=t(12))
    assert summary["tier_moves"] == 1 and summary["status_escalations"] == 0
    assert (ticket.tier, ticket.status) == ("L2", "awaiting_customer")


def test_onsite_hooks_for_appointments(db, customer):
    plain = new_ticket(db, customer, at=t(9))
    assert sla.onsite_due(db=db, ticket=plain) is None
    assert sla.mark_onsite_met(db=db, ticket_id=plain.id, at=t(10)) is None
    onsite = assigned_ticket(db, customer, t(9), needs_onsite=True)
    assert sla.onsite_due(db=db, ticket=onsite) == t(10)
    assert sla.onsite_due(db=db, ticket=onsite.id) == t(10)
    late = sla.mark_onsite_met(db=db, ticket_id=onsite.id, at=t(10, 20))
    assert late.stage == "breached" and late.met_at == t(10, 20)
    again = sla.mark_onsite_met(db=db, ticket_id=onsite.id, at=t(10, 40))
    assert again.met_at == t(10, 20)  # the first arrival counts
    assert log(db, onsite.id).count("onsite_arrived") == 1
    assert log(db, onsite.id).count("sla_breached") == 1
    remote = assigned_ticket(db, customer, t(9), needs_onsite=True)
    walk_to(db, remote, [("resolved", t(9, 30))])  # fixed remotely: no visit needed
    assert sla.onsite_due(db=db, ticket=remote) is None
    with pytest.raises(NotFound):
        sla.mark_onsite_met(db=db, ticket_id=10**6, at=t(10))


def test_contract_without_onsite_cover_gets_no_onsite_clock(db, client):
    customer = make_customer(db)
    make_entitlement(db, customer, products=[], coverage=None, targets=TARGETS, onsite=False)
    ticket = new_ticket(db, customer, at=t(9), needs_onsite=True)
    assert {c.kind for c in ticket.clocks} == {"response", "resolution"}
    assert "on-site" in ticket.entitlement_message


def test_terminal_tickets_refuse_edits(db, customer, client, headers_for):
    ticket = new_ticket(db, customer, at=t(9))
    walk_to(db, ticket, [("cancelled", t(9, 5))])
    db.commit()
    agent = headers_for("agent")
    url = f"/api/v1/tickets/{ticket.id}"
    patch = client.patch(url, json={"version": ticket.version, "summary": "x"}, headers=agent)
    assert patch.status_code == 409
    override = client.post(
        f"{url}/priority",
        json={"version": ticket.version, "priority": 1, "reason": "late"},
        headers=agent,
    )
    assert override.status_code == 409
    escalate = client.post(
        f"{url}/escalate", json={"version": ticket.version, "reason": "late"}, headers=agent
    )
    assert escalate.status_code == 409


def test_the_lifespan_ticker_escalates_without_being_asked(db, customer, make_client):
    ticket = new_ticket(db, customer, at=datetime.now(UTC) - timedelta(minutes=30),
                        actor=ADMIN)  # fmt: skip
    db.commit()
    ticket_id = ticket.id
    make_client(background_jobs=True, escalation_interval_s=0.2)
    deadline = time.monotonic() + 20
    tier = "L1"
    while time.monotonic() < deadline and tier == "L1":
        time.sleep(0.2)
        db.expire_all()
        tier = db.get(Ticket, ticket_id).tier
    assert tier == "L2"  # 30 minutes in: past L1 (15), not past L2 (15 + 60)


def test_cli_escalate_prints_a_summary(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    done = subprocess.run([sys.executable, "-m", "api", "escalate"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["tickets_checked"] == 0 and "now" in summary


def _principal():
    from api.auth.dependencies import Principal
    from api.auth.models import Role

    return Principal(kind="user", id=1, name="root", role=Role.admin)
