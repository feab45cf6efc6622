"""Support tiers and their time limits: when a ticket must move up a tier.

A tier's limit is counted in BUSINESS minutes on the ticket's SLA calendar,
less the time the ticket sat on hold, so an L1 ticket logged on Friday at
17:55 on a Mon-Fri 08-18 contract escalates on Monday at 08:10, not at
night to an empty desk. The move happens at the instant the limit ran out
(not when the job happened to look), so the result does not depend on how
often the job runs; a job that was down catches up over several tiers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from optimiser.calendars import BusinessCalendar

TIERS: tuple[str, ...] = ("L1", "L2", "L3", "L4")
"""L4 is the external vendor; it has no tier above it."""

DEFAULT_TIER_LIMITS: dict[str, float | None] = {"L1": 15, "L2": 60, "L3": 240, "L4": None}


def next_tier(tier: str) -> str | None:
    position = TIERS.index(tier)
    return TIERS[position + 1] if position + 1 < len(TIERS) else None


@dataclass(frozen=True)
class TierMove:
    from_tier: str
    to_tier: str
    at: datetime
    limit_min: float


def tier_deadline(
    *, calendar: BusinessCalendar, entered_at: datetime, paused_min: float, limit_min: float
) -> datetime:
    return calendar.add_business_minutes(entered_at, limit_min + paused_min)


def due_tier_moves(
    *,
    calendar: BusinessCalendar,
    tier: str,
    entered_at: datetime,
    paused_min: float,
    limits: Mapping[str, float | None],
    now: datetime,
) -> list[TierMove]:
    """Every tier move whose limit ran out by ``now`` (``now`` = hold start for a held ticket)."""
    moves: list[TierMove] = []
    while (upper := next_tier(tier)) is not None:
        limit = limits.get(tier)
        if limit is None:
            break
        deadline = tier_deadline(
            calendar=calendar, entered_at=entered_at, paused_min=paused_min, limit_min=limit
        )
        if deadline >= now:
            break
        moves.append(TierMove(from_tier=tier, to_tier=upper, at=deadline, limit_min=limit))
        tier, entered_at, paused_min = upper, deadline, 0.0
    return moves
