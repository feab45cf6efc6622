"""Builders shared by the ticket tests: customers, contracts and tickets at chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.entitlements.models import Customer, Entitlement
from api.tickets import service
from api.tickets.schemas import TicketCreate
from api.tickets.service import Actor

AGENT = Actor(name="user:alice", role="agent")
ADMIN = Actor(name="user:root", role="admin")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def make_customer(db: Session, name: str = "Acme") -> int:
    customer = Customer(name=name, timezone="UTC")
    db.add(customer)
    db.flush()
    return customer.id


def make_entitlement(
    db: Session,
    customer_id: int,
    *,
    products: list[str] | None = None,
    coverage: list[dict[str, Any]] | None = None,
    timezone: str = "UTC",
    targets: dict[str, dict[str, float]] | None = None,
    onsite: bool = True,
    valid_from: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    valid_until: datetime | None = None,
) -> int:
    entitlement = Entitlement(
        customer_id=customer_id,
        name="Gold",
        tier="gold",
        products=products if products is not None else ["boiler-x200"],
        valid_from=valid_from,
        valid_until=valid_until,
        onsite=onsite,
        coverage=coverage,
        timezone=timezone,
        targets=targets
        if targets is not None
        else {
            str(p): {"response_min": 30 * p, "onsite_min": 120 * p, "resolution_min": 240 * p}
            for p in range(1, 6)
        },
    )
    db.add(entitlement)
    db.flush()
    return entitlement.id


def new_ticket(
    db: Session,
    customer_id: int,
    *,
    at: datetime,
    actor: Actor = AGENT,
    **fields: Any,
):
    values: dict[str, Any] = {
        "request_type": "incident",
        "channel": "phone",
        "customer_id": customer_id,
        "product": "boiler-x200",
        "summary": "No heating",
        "impact": 2,
        "urgency": 2,
        "received_at": at,
    }
    values.update(fields)
    return service.create(db=db, data=TicketCreate(**values), actor=actor, now=at)


def walk(db: Session, ticket, steps: list[tuple[str, datetime]], actor: Actor = AGENT):
    """Apply ``(status, at)`` transitions in order, returning the ticket."""
    for to, at in steps:
        ticket = service.transition(
            db=db, ticket_id=ticket.id, to=to, version=ticket.version, note=None,
            actor=actor, now=at,
        )  # fmt: skip
    return ticket
