"""The ticket lifecycle as data: statuses, allowed transitions and who may take each.

Keeping the table as data (not as ``if`` chains in the service) lets the API
name the allowed next steps in a 409, lets the README print the table, and lets
a test walk every edge. The role ``system`` is the escalation job; it is not a
login role, only a marker for transitions the machine may take on its own.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    received = "received"
    validated = "validated"
    recorded = "recorded"
    screened = "screened"
    prioritised = "prioritised"
    assigned = "assigned"
    escalated = "escalated"
    awaiting_customer = "awaiting_customer"
    awaiting_parts = "awaiting_parts"
    awaiting_vendor = "awaiting_vendor"
    resolved = "resolved"
    closed = "closed"
    cancelled = "cancelled"


SYSTEM = "system"
"""Pseudo-role of the escalation job (automatic transitions)."""

ON_HOLD: frozenset[Status] = frozenset(
    {Status.awaiting_customer, Status.awaiting_parts, Status.awaiting_vendor}
)
"""Statuses that pause the SLA clocks and the tier timer."""

TERMINAL: frozenset[Status] = frozenset({Status.closed, Status.cancelled})

OPEN: frozenset[Status] = frozenset(Status) - TERMINAL - {Status.resolved}
"""Statuses that count as backlog (work still owed to the customer)."""

INTAKE: frozenset[Status] = frozenset({Status.received, Status.validated})
"""Leaving these for the first time (by a person) is the first response."""

_DESK = frozenset({"admin", "agent"})
_ADMIN = frozenset({"admin"})
_DESK_AND_SYSTEM = _DESK | {SYSTEM}

TRANSITIONS: dict[tuple[Status, Status], frozenset[str]] = {
    # intake pipeline (ITIL / MOF incident steps)
    (Status.received, Status.validated): _DESK,
    (Status.validated, Status.recorded): _DESK,
    (Status.recorded, Status.screened): _DESK,
    (Status.screened, Status.prioritised): _DESK,
    (Status.prioritised, Status.assigned): _DESK,
    # work in progress
    (Status.assigned, Status.escalated): _DESK_AND_SYSTEM,
    (Status.escalated, Status.assigned): _DESK,  # the higher tier takes it over
    (Status.assigned, Status.resolved): _DESK,
    (Status.escalated, Status.resolved): _DESK,
    # holds (pause the clocks); resuming goes back to work
    **{(Status.assigned, hold): _DESK for hold in ON_HOLD},
    **{(Status.escalated, hold): _DESK for hold in ON_HOLD},
    **{(hold, Status.assigned): _DESK for hold in ON_HOLD},
    **{(hold, Status.resolved): _DESK for hold in ON_HOLD},
    **{(a, b): _DESK for a in ON_HOLD for b in ON_HOLD if a != b},
    # end of life
    (Status.resolved, Status.closed): _DESK_AND_SYSTEM,
    (Status.resolved, Status.assigned): _DESK,  # reopen
    # cancelling is a desk decision before work starts, an admin one after
    **{
        (s, Status.cancelled): _DESK
        for s in (
            Status.received,
            Status.validated,
            Status.recorded,
            Status.screened,
            Status.prioritised,
        )
    },
    **{
        (s, Status.cancelled): _ADMIN for s in (Status.assigned, Status.escalated, *sorted(ON_HOLD))
    },
}


def allowed_targets(current: Status | str) -> list[str]:
    """Statuses reachable from ``current`` (any role), sorted for stable messages."""
    current = Status(current)
    return sorted(str(to) for (frm, to) in TRANSITIONS if frm == current)


def roles_for(current: Status | str, to: Status | str) -> frozenset[str] | None:
    """Roles allowed to move ``current -> to``, or ``None`` if no such edge exists."""
    return TRANSITIONS.get((Status(current), Status(to)))


def may(role: str, current: Status | str, to: Status | str) -> bool:
    """Whether ``role`` may take ``current -> to`` (admin may take every existing edge)."""
    roles = roles_for(current, to)
    return roles is not None and (role == "admin" or role in roles)


def is_reopen(current: Status | str, to: Status | str) -> bool:
    return Status(current) == Status.resolved and Status(to) == Status.assigned
