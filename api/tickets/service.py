"""Ticket services: intake, edits, lifecycle transitions, priority, tiers and SLA clocks.

Keyword-only functions on a ``Session``; they flush but never commit (the
request dependency or the job owns the transaction), so a failure leaves no
partial write. Every change appends to the event log in the same transaction.
``now`` is injectable so the SLA arithmetic can be driven at chosen instants;
HTTP callers never pass it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from api.auth.dependencies import Principal
from api.auth.models import User
from api.concurrency import require_version
from api.database import utcnow
from api.entitlements import service as entitlements
from api.entitlements.models import Customer
from api.errors import (
    Conflict,
    DomainValidationError,
    Forbidden,
    InvalidTransition,
    NotFound,
    StaleVersion,
)
from api.events import record_event
from api.tickets import lifecycle, priority, sla
from api.tickets.lifecycle import INTAKE, ON_HOLD, SYSTEM, Status
from api.tickets.models import PriorityCell, SlaClock, Ticket, TierLimit
from api.tickets.schemas import TicketCreate, TicketUpdate
from api.tickets.sla import ClockKind, SlaPolicy, Stage
from api.tickets.tiers import DEFAULT_TIER_LIMITS, TIERS, next_tier
from optimiser.calendars import BusinessCalendar

ENTITY = "ticket"
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a client-supplied ``received_at`` may be (clock drift)."""

MILESTONES: dict[Status, str] = {
    Status.validated: "validated_at",
    Status.recorded: "recorded_at",
    Status.screened: "screened_at",
    Status.prioritised: "prioritised_at",
    Status.assigned: "assigned_at",
    Status.escalated: "escalated_at",
    Status.resolved: "resolved_at",
    Status.closed: "closed_at",
    Status.cancelled: "cancelled_at",
}


def iso(value: datetime) -> str:
    """UTC ISO text for event data (events compare and sort the same whatever the input zone)."""
    return value.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Actor:
    """Who acts: a person's event-log name and role, or the escalation job."""

    name: str
    role: str

    @classmethod
    def of(cls, who: Principal | Actor) -> Actor:
        if isinstance(who, Actor):
            return who
        return cls(name=who.actor, role=who.role.value)

    @property
    def is_person(self) -> bool:
        return self.role != SYSTEM


ESCALATION_JOB = Actor(name="system:escalation", role=SYSTEM)


# ----------------------------------------------------------------------- reads


def get(*, db: Session, ticket_id: int) -> Ticket:
    ticket = db.get(Ticket, ticket_id, options=[selectinload(Ticket.clocks)])
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


def list_statement(
    *,
    status: list[str] | None = None,
    priority_: list[int] | None = None,
    tier: list[str] | None = None,
    customer_id: int | None = None,
    channel: list[str] | None = None,
    request_type: list[str] | None = None,
    product: str | None = None,
    breached: bool | None = None,
) -> Select[Any]:
    """Tickets matching every given filter (lists mean "any of"), newest first."""
    statement = select(Ticket).options(selectinload(Ticket.clocks))
    if status:
        statement = statement.where(Ticket.status.in_(status))
    if priority_:
        statement = statement.where(Ticket.priority.in_(priority_))
    if tier:
        statement = statement.where(Ticket.tier.in_(tier))
    if customer_id is not None:
        statement = statement.where(Ticket.customer_id == customer_id)
    if channel:
        statement = statement.where(Ticket.channel.in_(channel))
    if request_type:
        statement = statement.where(Ticket.request_type.in_(request_type))
    if product is not None:
        statement = statement.where(Ticket.product == product)
    if breached is not None:
        has_breach = (
            select(SlaClock.id)
            .where(SlaClock.ticket_id == Ticket.id, SlaClock.stage == Stage.breached)
            .exists()
        )
        statement = statement.where(has_breach if breached else ~has_breach)
    return statement.order_by(Ticket.id.desc())


# --------------------------------------------------------------- matrix, tiers


def _seed_defaults_if_empty(db: Session) -> None:
    """Put the default matrix and tier limits back if their tables were emptied.

    Migration ``0002_tickets`` seeds both; this only repairs a truncated table
    (a test reset, a hand-run ``DELETE``) so intake never runs without a matrix.
    """
    if db.scalar(select(PriorityCell.impact).limit(1)) is None:
        db.add_all(
            PriorityCell(impact=i, urgency=u, priority=p)
            for (i, u), p in sorted(priority.DEFAULT_MATRIX.items())
        )
    if db.scalar(select(TierLimit.tier).limit(1)) is None:
        db.add_all(TierLimit(tier=t, limit_min=m) for t, m in DEFAULT_TIER_LIMITS.items())
    db.flush()


def load_matrix(*, db: Session) -> dict[tuple[int, int], int]:
    _seed_defaults_if_empty(db)
    return {(c.impact, c.urgency): c.priority for c in db.scalars(select(PriorityCell))}


def matrix_version(*, db: Session) -> int:
    _seed_defaults_if_empty(db)
    return max((c.version for c in db.scalars(select(PriorityCell))), default=0)


def replace_matrix(
    *, db: Session, cells: dict[tuple[int, int], int], version: int, actor: Principal
) -> dict[tuple[int, int], int]:
    """Swap the whole matrix (one version for all cells); existing tickets keep their priority."""
    current_version = matrix_version(db=db)
    if version != current_version:
        raise StaleVersion(
            "priority matrix", current_version=current_version, given_version=version
        )
    problems = priority.matrix_problems(cells)
    if problems:
        field, why = problems[0]
        raise DomainValidationError(f"body.{field}", why)
    before = load_matrix(db=db)
    rows = {(c.impact, c.urgency): c for c in db.scalars(select(PriorityCell))}
    now = utcnow()
    for cell, value in cells.items():
        row = rows.get(cell)
        if row is None:
            row = PriorityCell(impact=cell[0], urgency=cell[1], priority=value)
            db.add(row)
        row.priority = value
        row.version = current_version + 1
        row.updated_by = actor.actor
        row.updated_at = now
    changes = {f"{i},{u}": [before.get((i, u)), p] for (i, u), p in sorted(cells.items())
               if before.get((i, u)) != p}  # fmt: skip
    record_event(
        db, entity_type="priority_matrix", entity_id="default", action="updated",
        actor=actor, data={"changes": changes, "version": current_version + 1},
    )  # fmt: skip
    db.flush()
    return load_matrix(db=db)


def tier_limit_rows(*, db: Session) -> list[TierLimit]:
    _seed_defaults_if_empty(db)
    rows = {row.tier: row for row in db.scalars(select(TierLimit))}
    return [rows[tier] for tier in TIERS if tier in rows]


def load_tier_limits(*, db: Session) -> dict[str, float | None]:
    return {row.tier: row.limit_min for row in tier_limit_rows(db=db)}


def update_tier_limit(
    *, db: Session, tier: str, limit_min: float | None, version: int, actor: Principal
) -> TierLimit:
    _seed_defaults_if_empty(db)
    row = db.get(TierLimit, tier)
    if row is None:
        raise NotFound("tier", tier)
    require_version(row, version, what=f"tier limit {tier}")
    before = row.limit_min
    row.limit_min = limit_min
    row.updated_by = actor.actor
    db.flush()
    record_event(
        db, entity_type="tier_limit", entity_id=tier, action="updated", actor=actor,
        data={"changes": {"limit_min": [before, limit_min]}},
    )  # fmt: skip
    return row


# -------------------------------------------------------------------- policy


def policy_of(ticket: Ticket) -> SlaPolicy:
    snapshot = ticket.sla_policy
    return SlaPolicy(
        source=snapshot["source"],
        calendar=sla.calendar_from_json(snapshot["calendar"]),
        targets={int(p): t for p, t in snapshot["targets"].items()},
    )


def _policy_snapshot(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "source": policy.source,
        "calendar": sla.calendar_to_json(policy.calendar),
        "targets": {str(p): t for p, t in sorted(policy.targets.items())},
    }


def _targets_dict(targets: Any) -> dict[str, float | None] | None:
    if targets is None:
        return None
    if isinstance(targets, dict):
        return {field: targets.get(field) for field in sla.TARGET_FIELDS.values()}
    return {field: getattr(targets, field, None) for field in sla.TARGET_FIELDS.values()}


def _intake_policy(
    *, db: Session, customer_id: int, product: str, at: datetime, needs_onsite: bool
) -> tuple[Any, SlaPolicy, str, str | None]:
    """(entitlement or None, policy, entitlement_status, message) for a new ticket."""
    found = entitlements.find_valid_entitlement(
        db=db, customer_id=customer_id, product=product, at=at
    )
    default = sla.DEFAULT_SLA_POLICY
    if found is None:
        message = (
            f"no valid entitlement covers product {product!r} for this customer at intake; "
            "the default SLA policy applies"
        )
        return None, default, "none", message
    calendar: BusinessCalendar = entitlements.calendar_for(found)
    targets: dict[int, dict[str, float | None]] = {}
    missing: list[int] = []
    for level in priority.PRIORITIES:
        contract = _targets_dict(entitlements.targets_for(found, level))
        if contract is None:
            missing.append(level)
            contract = dict(default.targets[level])
        targets[level] = contract
    notes: list[str] = []
    if missing:
        notes.append(
            "contract has no targets for priority "
            + ", ".join(f"P{p}" for p in missing)
            + "; default targets apply there"
        )
    if needs_onsite and not found.onsite:
        notes.append("contract does not cover on-site work; no on-site clock")
    policy = SlaPolicy(source="entitlement", calendar=calendar, targets=targets)
    return found, policy, "valid", "; ".join(notes) or None


# --------------------------------------------------------------------- clocks


def _clock(ticket: Ticket, kind: ClockKind) -> SlaClock | None:
    return next((c for c in ticket.clocks if c.kind == kind), None)


def record_clock_events(
    db: Session, ticket: Ticket, clock: SlaClock, events: list[str], actor: Actor, at: datetime
) -> None:
    for action in events:
        record_event(
            db, entity_type=ENTITY, entity_id=ticket.id, action=action, actor=actor.name,
            data={"clock": clock.kind, "due_at": iso(clock.due_at), "at": iso(at),
                  "target_min": clock.target_min},
        )  # fmt: skip


def _each_clock(
    db: Session, ticket: Ticket, actor: Actor, at: datetime, step: Any, kinds: Any = None
) -> None:
    for clock in list(ticket.clocks):
        if kinds is None or clock.kind in kinds:
            record_clock_events(db, ticket, clock, step(clock), actor, at)


def _retarget_clocks(ticket: Ticket) -> None:
    policy = policy_of(ticket)
    for clock in ticket.clocks:
        target = policy.target_min(ticket.priority, ClockKind(clock.kind))
        if target is not None:
            sla.retarget(clock, calendar=policy.calendar, target_min=target)


# --------------------------------------------------------------------- intake


def _check_assignee(db: Session, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    user = db.get(User, assignee_id)
    if user is None or not user.active:
        raise DomainValidationError("body.assignee_id", f"no active user with id {assignee_id}")


def create(
    *, db: Session, data: TicketCreate, actor: Principal | Actor, now: datetime | None = None
) -> Ticket:
    """Log a ticket: derive its priority, check the entitlement, start its SLA clocks."""
    who = Actor.of(actor)
    now = now or utcnow()
    received_at = data.received_at or now
    if received_at > now + CLOCK_SKEW:
        raise DomainValidationError("body.received_at", "must not be in the future")
    if db.get(Customer, data.customer_id) is None:
        raise DomainValidationError("body.customer_id", f"no customer with id {data.customer_id}")
    _check_assignee(db, data.assignee_id)
    level = priority.derive_priority(load_matrix(db=db), impact=data.impact, urgency=data.urgency)
    entitlement, policy, entitlement_status, message = _intake_policy(
        db=db, customer_id=data.customer_id, product=data.product, at=received_at,
        needs_onsite=data.needs_onsite,
    )  # fmt: skip
    ticket = Ticket(
        request_type=data.request_type.value,
        channel=data.channel.value,
        customer_id=data.customer_id,
        product=data.product,
        asset=data.asset,
        summary=data.summary,
        description=data.description,
        impact=data.impact,
        urgency=data.urgency,
        priority=level,
        priority_overridden=False,
        status=Status.received.value,
        tier=TIERS[0],
        tier_entered_at=received_at,
        tier_paused_min=0.0,
        needs_onsite=data.needs_onsite,
        assignee_id=data.assignee_id,
        entitlement_id=entitlement.id if entitlement is not None else None,
        entitlement_status=entitlement_status,
        entitlement_message=message,
        sla_policy=_policy_snapshot(policy),
        created_by=who.name,
        received_at=received_at,
        created_at=now,
        updated_at=now,
    )
    kinds = [ClockKind.response, ClockKind.resolution]
    onsite_covered = entitlement is None or entitlement.onsite
    if data.needs_onsite and onsite_covered:
        kinds.append(ClockKind.onsite)
    for kind in kinds:
        target = policy.target_min(level, kind)
        if target is None:
            continue
        state = sla.start_clock(
            kind=kind, calendar=policy.calendar, started_at=received_at, target_min=target
        )
        ticket.clocks.append(
            SlaClock(kind=kind.value, started_at=state.started_at, target_min=state.target_min,
                     due_at=state.due_at, paused_total_min=0.0, stage=state.stage)
        )  # fmt: skip
    db.add(ticket)
    db.flush()
    record_event(
        db, entity_type=ENTITY, entity_id=ticket.id, action="created", actor=who.name,
        data={
            "status": ticket.status, "priority": level, "impact": data.impact,
            "urgency": data.urgency, "tier": ticket.tier, "channel": ticket.channel,
            "request_type": ticket.request_type, "product": ticket.product,
            "received_at": iso(received_at),
            "entitlement_id": ticket.entitlement_id, "entitlement_status": entitlement_status,
            "entitlement_message": message, "sla_source": policy.source,
            "due": {c.kind: iso(c.due_at) for c in ticket.clocks},
        },
    )  # fmt: skip
    return ticket


# ---------------------------------------------------------------------- edits


def update(
    *, db: Session, ticket_id: int, data: TicketUpdate, actor: Principal | Actor,
    now: datetime | None = None,
) -> Ticket:  # fmt: skip
    """Edit descriptive fields; a new impact/urgency re-derives priority (unless overridden)."""
    who = Actor.of(actor)
    ticket = get(db=db, ticket_id=ticket_id)
    require_version(ticket, data.version, what="ticket")
    if ticket.status in lifecycle.TERMINAL:
        raise Conflict(f"ticket {ticket_id} is {ticket.status} and can no longer be edited")
    given = data.model_dump(exclude_unset=True, exclude={"version"})
    if "assignee_id" in given:
        _check_assignee(db, given["assignee_id"])
    changes: dict[str, list[Any]] = {}
    for field, value in given.items():
        value = value.value if hasattr(value, "value") else value
        if field in ("summary", "request_type", "channel", "impact", "urgency") and value is None:
            raise DomainValidationError(f"body.{field}", "must not be null")
        if getattr(ticket, field) != value:
            changes[field] = [getattr(ticket, field), value]
            setattr(ticket, field, value)
    if not changes:
        return ticket
    if ("impact" in changes or "urgency" in changes) and not ticket.priority_overridden:
        derived = priority.derive_priority(
            load_matrix(db=db), impact=ticket.impact, urgency=ticket.urgency
        )
        if derived != ticket.priority:
            changes["priority"] = [ticket.priority, derived]
            ticket.priority = derived
            _retarget_clocks(ticket)
    ticket.updated_at = now or utcnow()
    db.flush()
    record_event(
        db, entity_type=ENTITY, entity_id=ticket.id, action="updated", actor=who.name,
        data={"changes": changes},
    )  # fmt: skip
    return ticket


def override_priority(
    *, db: Session, ticket_id: int, version: int, new_priority: int | None, reason: str,
    actor: Principal | Actor, now: datetime | None = None,
) -> Ticket:  # fmt: skip
    """Set the priority by hand (audited with a reason), or ``None`` to go back to the matrix."""
    who = Actor.of(actor)
    ticket = get(db=db, ticket_id=ticket_id)
    require_version(ticket, version, what="ticket")
    if ticket.status in lifecycle.TERMINAL:
        raise Conflict(f"ticket {ticket_id} is {ticket.status}; its priority is final")
    derived = priority.derive_priority(
        load_matrix(db=db), impact=ticket.impact, urgency=ticket.urgency
    )
    before = ticket.priority
    if new_priority is None:
        ticket.priority = derived
        ticket.priority_overridden = False
        ticket.priority_override_reason = None
        action = "priority_override_cleared"
    else:
        ticket.priority = new_priority
        ticket.priority_overridden = True
        ticket.priority_override_reason = reason
        action = "priority_overridden"
    if ticket.priority != before:
        _retarget_clocks(ticket)
    ticket.updated_at = now or utcnow()
    db.flush()
    record_event(
        db, entity_type=ENTITY, entity_id=ticket.id, action=action, actor=who.name,
        data={"from": before, "to": ticket.priority, "matrix_priority": derived,
              "reason": reason, "due": {c.kind: iso(c.due_at) for c in ticket.clocks}},
    )  # fmt: skip
    return ticket


# ---------------------------------------------------------------- transitions


def _check_edge(ticket: Ticket, to: Status, who: Actor) -> None:
    roles = lifecycle.roles_for(ticket.status, to)
    if roles is None:
        raise InvalidTransition(
            f"ticket {ticket.id}", current=ticket.status, requested=to.value,
            allowed=lifecycle.allowed_targets(ticket.status),
        )  # fmt: skip
    if not lifecycle.may(who.role, ticket.status, to):
        raise Forbidden(
            f"role {who.role!r} may not move a ticket from {ticket.status!r} to {to.value!r} "
            f"(allowed: {', '.join(sorted(roles))})"
        )


def _leave_hold(db: Session, ticket: Ticket, who: Actor, at: datetime) -> None:
    policy = policy_of(ticket)
    if ticket.on_hold_since is not None:
        since = max(ticket.on_hold_since, ticket.tier_entered_at)
        if at > since:
            ticket.tier_paused_min += policy.calendar.business_minutes_between(since, at)
    ticket.on_hold_since = None
    _each_clock(db, ticket, who, at, lambda c: sla.resume(c, calendar=policy.calendar, at=at))


def _first_response(db: Session, ticket: Ticket, who: Actor, at: datetime, note: str | None):
    ticket.first_response_at = at
    policy = policy_of(ticket)
    record_event(
        db, entity_type=ENTITY, entity_id=ticket.id, action="first_response", actor=who.name,
        data={"at": iso(at), "note": note},
    )  # fmt: skip
    _each_clock(
        db, ticket, who, at, lambda c: sla.complete(c, calendar=policy.calendar, at=at),
        kinds={ClockKind.response},
    )  # fmt: skip


def apply_transition(
    db: Session, ticket: Ticket, to: Status, who: Actor, at: datetime, note: str | None,
    data: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Move the status and everything it implies; the edge and role are already checked."""
    current = Status(ticket.status)
    policy = policy_of(ticket)
    record_event(
        db, entity_type=ENTITY, entity_id=ticket.id, action="transition", actor=who.name,
        data={"from": current.value, "to": to.value, "note": note, "at": iso(at),
              **(data or {})},
    )  # fmt: skip
    if to == Status.cancelled:
        _each_clock(db, ticket, who, at, sla.cancel)
    elif current in INTAKE and who.is_person and ticket.first_response_at is None:
        _first_response(db, ticket, who, at, note)
    if current in ON_HOLD and to not in ON_HOLD:
        _leave_hold(db, ticket, who, at)
    if to in ON_HOLD and current not in ON_HOLD:
        ticket.on_hold_since = at
        _each_clock(db, ticket, who, at, lambda c: sla.pause(c, at=at))
    if to == Status.resolved:
        # Resolving answers the customer and, done remotely, makes the visit unnecessary.
        if ticket.first_response_at is None:
            _first_response(db, ticket, who, at, note)
        _each_clock(
            db, ticket, who, at, lambda c: sla.complete(c, calendar=policy.calendar, at=at),
            kinds={ClockKind.resolution},
        )  # fmt: skip
        _each_clock(db, ticket, who, at, sla.cancel, kinds={ClockKind.onsite})
    if lifecycle.is_reopen(current, to):
        ticket.reopen_count += 1
        ticket.resolved_at = None
        _each_clock(
            db, ticket, who, at, lambda c: sla.reopen(c, calendar=policy.calendar, at=at),
            kinds={ClockKind.resolution},
        )  # fmt: skip
    ticket.status = to.value
    milestone = MILESTONES.get(to)
    if milestone is not None:
        setattr(ticket, milestone, at)
    ticket.updated_at = at


def transition(
    *, db: Session, ticket_id: int, to: Status | str, version: int, note: str | None,
    actor: Principal | Actor, now: datetime | None = None,
) -> Ticket:  # fmt: skip
    """Move a ticket along the transition table (409 naming the allowed moves, 403 by role)."""
    who = Actor.of(actor)
    at = now or utcnow()
    ticket = get(db=db, ticket_id=ticket_id)
    require_version(ticket, version, what="ticket")
    to = Status(to)
    _check_edge(ticket, to, who)
    if to == Status.escalated:
        upper = next_tier(ticket.tier)
        if upper is not None:
            move_tier(db, ticket, upper, who, at, reason=note, automatic=False)
            apply_transition(db, ticket, to, who, at, note)
            db.flush()
            return ticket
    apply_transition(db, ticket, to, who, at, note)
    db.flush()
    return ticket


def respond(
    *, db: Session, ticket_id: int, version: int, note: str | None, actor: Principal | Actor,
    now: datetime | None = None,
) -> Ticket:  # fmt: skip
    """An explicit first response (e.g. a call back) without changing the status."""
    who = Actor.of(actor)
    at = now or utcnow()
    ticket = get(db=db, ticket_id=ticket_id)
    require_version(ticket, version, what="ticket")
    if ticket.first_response_at is not None:
        raise Conflict(f"ticket {ticket_id} already had its first response at "
                       f"{iso(ticket.first_response_at)}")  # fmt: skip
    if ticket.status in lifecycle.TERMINAL:
        raise Conflict(f"ticket {ticket_id} is {ticket.status}")
    _first_response(db, ticket, who, at, note)
    ticket.updated_at = at
    db.flush()
    return ticket


# --------------------------------------------------------------------- tiers


def move_tier(
    db: Session, ticket: Ticket, to_tier: str, who: Actor, at: datetime, *,
    reason: str | None, automatic: bool, limit_min: float | None = None,
) -> None:  # fmt: skip
    record_event(
        db, entity_type=ENTITY, entity_id=ticket.id, action="tier_escalated", actor=who.name,
        data={"from_tier": ticket.tier, "to_tier": to_tier, "at": iso(at),
              "automatic": automatic, "reason": reason, "limit_min": limit_min},
    )  # fmt: skip
    ticket.tier = to_tier
    ticket.tier_entered_at = at
    ticket.tier_paused_min = 0.0
    ticket.escalation_count += 1
    ticket.updated_at = at


def escalate(
    *, db: Session, ticket_id: int, version: int, reason: str, to_tier: str | None,
    actor: Principal | Actor, now: datetime | None = None,
) -> Ticket:  # fmt: skip
    """Move a ticket up a tier by hand; its status becomes ``escalated`` where the table allows."""
    who = Actor.of(actor)
    at = now or utcnow()
    ticket = get(db=db, ticket_id=ticket_id)
    require_version(ticket, version, what="ticket")
    if ticket.status in lifecycle.TERMINAL or ticket.status == Status.resolved:
        raise Conflict(f"ticket {ticket_id} is {ticket.status} and cannot be escalated")
    target = to_tier or next_tier(ticket.tier)
    if target is None:
        raise DomainValidationError("body.to_tier", f"{ticket.tier} is the highest tier")
    if TIERS.index(target) <= TIERS.index(ticket.tier):
        raise DomainValidationError("body.to_tier", f"must be above the current tier {ticket.tier}")
    move_tier(db, ticket, target, who, at, reason=reason, automatic=False)
    if lifecycle.may(who.role, ticket.status, Status.escalated):
        apply_transition(db, ticket, Status.escalated, who, at, reason)
    db.flush()
    return ticket
