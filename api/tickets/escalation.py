"""The escalation job: tier moves past their limits and SLA warnings, once each.

``run_escalation(db=..., now=...)`` is idempotent: running it twice with the
same ``now`` changes nothing the second time, because tier moves are dated at
the instant a limit ran out and every warning level is stamped on its clock.
The periodic ticker (``api.tickets.jobs``) and ``python -m api escalate`` both
call it; tests call it with an explicit ``now``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.tickets import lifecycle, sla
from api.tickets.lifecycle import ON_HOLD, SYSTEM, Status
from api.tickets.models import Ticket
from api.tickets.service import (
    ESCALATION_JOB,
    apply_transition,
    load_tier_limits,
    move_tier,
    record_clock_events,
)
from api.tickets.sla import Stage
from api.tickets.tiers import due_tier_moves
from optimiser.calendars import BusinessCalendar

TIMED_STATUSES = sorted(lifecycle.OPEN - ON_HOLD)
"""Statuses in which the tier timer runs."""


@dataclass
class EscalationSummary:
    now: str
    tickets_checked: int = 0
    tier_moves: int = 0
    status_escalations: int = 0
    sla_warning_50: int = 0
    sla_warning_75: int = 0
    sla_breached: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Calendars:
    """Ticket calendars rebuilt from their snapshots, shared between tickets on one contract."""

    def __init__(self) -> None:
        self._cache: dict[str, BusinessCalendar] = {}

    def of(self, ticket: Ticket) -> BusinessCalendar:
        key = json.dumps(ticket.sla_policy["calendar"], sort_keys=True)
        if key not in self._cache:
            self._cache[key] = sla.calendar_from_json(ticket.sla_policy["calendar"])
        return self._cache[key]


def _escalate_tiers(
    db: Session, ticket: Ticket, calendar: BusinessCalendar, limits: dict[str, float | None],
    now: datetime, summary: EscalationSummary,
) -> None:  # fmt: skip
    # A held ticket's tier timer stopped when the hold began.
    until = ticket.on_hold_since if ticket.status in ON_HOLD else now
    if until is None:
        return
    moves = due_tier_moves(
        calendar=calendar, tier=ticket.tier, entered_at=ticket.tier_entered_at,
        paused_min=ticket.tier_paused_min, limits=limits, now=until,
    )  # fmt: skip
    for move in moves:
        move_tier(db, ticket, move.to_tier, ESCALATION_JOB, move.at, reason="tier time limit",
                   automatic=True, limit_min=move.limit_min)  # fmt: skip
        summary.tier_moves += 1
        roles = lifecycle.roles_for(ticket.status, Status.escalated)
        if roles is not None and SYSTEM in roles:
            apply_transition(
                db, ticket, Status.escalated, ESCALATION_JOB, move.at,
                f"{move.from_tier} time limit of {move.limit_min:g} business minutes passed",
                data={"automatic": True},
            )  # fmt: skip
            summary.status_escalations += 1


def run_escalation(*, db: Session, now: datetime) -> dict[str, Any]:
    """Escalate every open ticket past its tier limit and record due SLA warnings/breaches."""
    summary = EscalationSummary(now=now.isoformat())
    limits = load_tier_limits(db=db)
    calendars = _Calendars()
    tickets = db.scalars(
        select(Ticket)
        .where(Ticket.status.in_(sorted(lifecycle.OPEN)))
        .options(selectinload(Ticket.clocks))
        .order_by(Ticket.id)
    ).all()
    for ticket in tickets:
        summary.tickets_checked += 1
        calendar = calendars.of(ticket)
        _escalate_tiers(db, ticket, calendar, limits, now, summary)
        for clock in ticket.clocks:
            if clock.stage not in (Stage.running, Stage.paused):
                continue
            events = sla.evaluate(clock, calendar=calendar, now=now)
            record_clock_events(db, ticket, clock, events, ESCALATION_JOB, now)
            for event in events:
                setattr(summary, event, getattr(summary, event) + 1)
        if db.is_modified(ticket) or any(db.is_modified(c) for c in ticket.clocks):
            ticket.updated_at = now
    db.flush()
    return summary.as_dict()
