"""SLA clocks: pure arithmetic on business time, plus two small services for other domains.

A policy (targets per priority + a business calendar) is kept apart from each
ticket's running clock (start, target, due, paused business minutes, stage).
Every instant is computed with the project's one business-hours calculator,
``optimiser.calendars.BusinessCalendar``, in the contract's time zone; a pause
pushes the due time by the BUSINESS minutes it lasted (a weekend inside a
pause pushes nothing on a Mon-Fri contract).

The clock functions mutate any object with the ``ClockLike`` attributes (the
ORM row in the service, ``ClockState`` in tests) and return the names of the
events they cause, so the service records exactly what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.tickets.models import SlaClock, Ticket
from optimiser.calendars import BusinessCalendar, Interval, WeeklyPeriod


class ClockKind(StrEnum):
    response = "response"
    resolution = "resolution"
    onsite = "onsite"


class Stage(StrEnum):
    running = "running"
    paused = "paused"
    met = "met"
    breached = "breached"
    cancelled = "cancelled"


TARGET_FIELDS = {
    ClockKind.response: "response_min",
    ClockKind.resolution: "resolution_min",
    ClockKind.onsite: "onsite_min",
}

WARNING_LEVELS: tuple[tuple[float, str, str], ...] = (
    (0.5, "warned_50_at", "sla_warning_50"),
    (0.75, "warned_75_at", "sla_warning_75"),
)
BREACHED_EVENT = "sla_breached"


# ---------------------------------------------------------------- policy data


@dataclass(frozen=True)
class SlaPolicy:
    """Targets (business minutes) per priority and the calendar they run on."""

    source: str  # "entitlement" or "default"
    calendar: BusinessCalendar
    targets: dict[int, dict[str, float | None]]

    def target_min(self, priority: int, kind: ClockKind) -> float | None:
        return self.targets.get(priority, {}).get(TARGET_FIELDS[kind])


_WEEKDAYS_08_18 = tuple(WeeklyPeriod(day, (8, 0), (18, 0)) for day in range(5))

DEFAULT_SLA_POLICY = SlaPolicy(
    source="default",
    calendar=BusinessCalendar(timezone="UTC", periods=_WEEKDAYS_08_18),
    # A 10-hour business day is 600 minutes: P3 resolves within 4 business days.
    targets={
        1: {"response_min": 30, "onsite_min": 240, "resolution_min": 480},
        2: {"response_min": 60, "onsite_min": 480, "resolution_min": 1200},
        3: {"response_min": 240, "onsite_min": 1200, "resolution_min": 2400},
        4: {"response_min": 480, "onsite_min": 2400, "resolution_min": 4800},
        5: {"response_min": 960, "onsite_min": 4800, "resolution_min": 9600},
    },
)
"""Used when a ticket has no valid entitlement: Mon-Fri 08:00-18:00 UTC."""


def calendar_to_json(calendar: BusinessCalendar) -> dict[str, Any]:
    """Snapshot of a calendar stored on the ticket, so contract edits never move running clocks."""
    return {
        "timezone": calendar.timezone,
        "periods": None
        if calendar.periods is None
        else [[p.weekday, list(p.start), list(p.end)] for p in calendar.periods],
        "holidays": sorted(day.isoformat() for day in calendar.holidays),
    }


def calendar_from_json(data: dict[str, Any]) -> BusinessCalendar:
    periods = data.get("periods")
    return BusinessCalendar(
        timezone=data["timezone"],
        periods=None
        if periods is None
        else tuple(WeeklyPeriod(w, (s[0], s[1]), (e[0], e[1])) for w, s, e in periods),
        holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays", [])),
    )


# ------------------------------------------------------------- pure arithmetic


def due_at(
    *,
    calendar: BusinessCalendar,
    start: datetime,
    minutes: float,
    pauses: Sequence[Interval] = (),
) -> datetime:
    """The instant ``minutes`` business minutes after ``start``, not counting ``pauses``."""
    return calendar.add_business_minutes(start, minutes, pauses)


class ClockLike(Protocol):
    kind: str
    started_at: datetime
    target_min: float
    due_at: datetime
    paused_total_min: float
    paused_since: datetime | None
    stage: str
    met_at: datetime | None
    warned_50_at: datetime | None
    warned_75_at: datetime | None
    breached_at: datetime | None


@dataclass
class ClockState:
    """A clock without a database (tests, previews)."""

    kind: str
    started_at: datetime
    target_min: float
    due_at: datetime
    paused_total_min: float = 0.0
    paused_since: datetime | None = None
    stage: str = Stage.running
    met_at: datetime | None = None
    warned_50_at: datetime | None = None
    warned_75_at: datetime | None = None
    breached_at: datetime | None = None


def start_clock(
    *, kind: ClockKind, calendar: BusinessCalendar, started_at: datetime, target_min: float
) -> ClockState:
    return ClockState(
        kind=kind,
        started_at=started_at,
        target_min=target_min,
        due_at=due_at(calendar=calendar, start=started_at, minutes=target_min),
    )


def _recompute_due(clock: ClockLike, calendar: BusinessCalendar) -> None:
    clock.due_at = due_at(
        calendar=calendar,
        start=clock.started_at,
        minutes=clock.target_min + clock.paused_total_min,
    )


def elapsed_business_min(clock: ClockLike, calendar: BusinessCalendar, now: datetime) -> float:
    """Business minutes the clock has counted by ``now`` (pauses and time after met excluded)."""
    end = now
    if clock.met_at is not None:
        end = min(end, clock.met_at)
    if clock.paused_since is not None:
        end = min(end, clock.paused_since)
    if end <= clock.started_at:
        return 0.0
    counted = calendar.business_minutes_between(clock.started_at, end)
    return max(0.0, counted - clock.paused_total_min)


def _mark_breached(clock: ClockLike, at: datetime) -> list[str]:
    clock.stage = Stage.breached
    if clock.breached_at is None:
        clock.breached_at = at
        return [BREACHED_EVENT]
    return []


def pause(clock: ClockLike, *, at: datetime) -> list[str]:
    """Stop counting at ``at`` (ticket went on hold). A clock already past due breaches instead."""
    if clock.stage != Stage.running:
        return []
    if at > clock.due_at:
        return _mark_breached(clock, at)
    clock.stage = Stage.paused
    clock.paused_since = at
    return []


def resume(clock: ClockLike, *, calendar: BusinessCalendar, at: datetime) -> list[str]:
    """Count again from ``at``; the due time moves by the business minutes of the pause."""
    if clock.stage != Stage.paused or clock.paused_since is None:
        return []
    if at > clock.paused_since:
        clock.paused_total_min += calendar.business_minutes_between(clock.paused_since, at)
    clock.paused_since = None
    clock.stage = Stage.running
    _recompute_due(clock, calendar)
    return []


def complete(clock: ClockLike, *, calendar: BusinessCalendar, at: datetime) -> list[str]:
    """The clock's target happened at ``at`` (response given, resolved, on site)."""
    if clock.met_at is not None or clock.stage == Stage.cancelled:
        return []
    events = resume(clock, calendar=calendar, at=at)
    clock.met_at = at
    if clock.stage == Stage.breached:
        return events
    if at > clock.due_at:
        return events + _mark_breached(clock, at)
    clock.stage = Stage.met
    return events


def reopen(clock: ClockLike, *, calendar: BusinessCalendar, at: datetime) -> list[str]:
    """Undo a completion (ticket reopened): the time it sat resolved counts as a pause."""
    if clock.met_at is None:
        return []
    if at > clock.met_at:
        clock.paused_total_min += calendar.business_minutes_between(clock.met_at, at)
    clock.met_at = None
    if clock.stage == Stage.met:
        clock.stage = Stage.running
    _recompute_due(clock, calendar)
    return []


def cancel(clock: ClockLike) -> list[str]:
    if clock.stage in (Stage.running, Stage.paused):
        clock.stage = Stage.cancelled
        clock.paused_since = None
    return []


def retarget(clock: ClockLike, *, calendar: BusinessCalendar, target_min: float) -> list[str]:
    """A priority change gives a ticking clock a new target from the same start."""
    if clock.stage not in (Stage.running, Stage.paused):
        return []
    clock.target_min = target_min
    _recompute_due(clock, calendar)
    return []


def evaluate(clock: ClockLike, *, calendar: BusinessCalendar, now: datetime) -> list[str]:
    """Warnings and breach due by ``now``, each returned (and stamped) once only."""
    if clock.stage in (Stage.met, Stage.cancelled) or clock.met_at is not None:
        return []
    events: list[str] = []
    if clock.stage == Stage.breached:
        fraction = float("inf")
    elif clock.target_min <= 0:
        fraction = float("inf") if now > clock.started_at else 0.0
    else:
        fraction = elapsed_business_min(clock, calendar, now) / clock.target_min
    running_late = clock.stage == Stage.running and now > clock.due_at
    paused_late = (
        clock.stage == Stage.paused
        and clock.paused_since is not None
        and (clock.paused_since > clock.due_at)
    )
    late = clock.stage == Stage.breached or running_late or paused_late
    for level, attribute, event in WARNING_LEVELS:
        if (fraction >= level or late) and getattr(clock, attribute) is None:
            setattr(clock, attribute, now)
            events.append(event)
    if late:
        events += _mark_breached(clock, now)
    return events


# ------------------------------------------------- services for other domains


def _onsite_clock(db: Session, ticket_id: int) -> SlaClock | None:
    return db.scalar(
        select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.kind == ClockKind.onsite)
    )


def onsite_due(*, db: Session, ticket: Ticket | int) -> datetime | None:
    """When the technician must be on site (the appointment's ``sla_due``), or ``None``.

    ``None`` when the ticket needs no on-site work, its contract does not cover
    it, or the on-site clock was cancelled (ticket resolved remotely or
    cancelled). While the ticket is on hold the value is provisional: resuming
    pushes it by the paused business time.
    """
    ticket_id = ticket if isinstance(ticket, int) else ticket.id
    clock = _onsite_clock(db, ticket_id)
    if clock is None or clock.stage == Stage.cancelled:
        return None
    return clock.due_at


def mark_onsite_met(
    *, db: Session, ticket_id: int, at: datetime, actor: str = "system:appointments"
) -> SlaClock | None:
    """Stop the on-site clock at ``at`` (the visit started / was completed).

    Returns the clock (stage ``met``, or ``breached`` when ``at`` was after the
    due time), or ``None`` when the ticket has no on-site clock. Calling it
    again is harmless: the first arrival counts.
    """
    from api.events import record_event  # the event log imports auth; keep sla importable alone

    ticket = db.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    clock = _onsite_clock(db, ticket_id)
    if clock is None or clock.met_at is not None or clock.stage == Stage.cancelled:
        return clock if clock is not None and clock.stage != Stage.cancelled else None
    calendar = calendar_from_json(ticket.sla_policy["calendar"])
    events = complete(clock, calendar=calendar, at=at)
    ticket.updated_at = datetime.now(UTC)  # the ticket's version moves with its clocks
    data = {"clock": clock.kind, "due_at": clock.due_at.astimezone(UTC).isoformat(),
            "at": at.astimezone(UTC).isoformat(), "target_min": clock.target_min}  # fmt: skip
    record_event(db, entity_type="ticket", entity_id=ticket_id, action="onsite_arrived",
                 actor=actor, data={**data, "met": clock.stage == Stage.met})  # fmt: skip
    for action in events:
        record_event(db, entity_type="ticket", entity_id=ticket_id, action=action, actor=actor,
                     data=data)  # fmt: skip
    db.flush()
    return clock
