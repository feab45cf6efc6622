"""Setup helpers for the appointments tests: rows made directly, tickets via their service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from api.appointments.models import Appointment

WINDOW = {"start": "2026-11-23T09:00:00+00:00", "end": "2026-11-23T12:00:00+00:00"}
BODY: dict[str, Any] = {
    "location": {"lat": 51.52, "lon": -0.10},
    "duration_min": 45,
    "required_skills": {"hvac": 2},
    "windows": [WINDOW],
    "priority": 2,
    "territory": "north",
    "external_ref": "EXT-1",
}


def count_appointments(app: FastAPI) -> int:
    with app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(Appointment)) or 0


def make_technician(app: FastAPI, **fields: Any) -> int:
    from api.technicians.models import Technician

    values: dict[str, Any] = {"name": "Ana Ruiz", "home_lat": 51.5, "home_lon": -0.12,
                              "skills": {"hvac": 3}, "territories": []}
    values.update(fields)
    with app.state.sessionmaker.begin() as session:
        technician = Technician(**values)
        session.add(technician)
        session.flush()
        return technician.id


def make_customer(app: FastAPI, **fields: Any) -> int:
    from api.entitlements.models import Customer

    values: dict[str, Any] = {"name": "Acme Ltd", "timezone": "Europe/London"}
    values.update(fields)
    with app.state.sessionmaker.begin() as session:
        customer = Customer(**values)
        session.add(customer)
        session.flush()
        return customer.id


GOLD_TARGETS = {str(p): {"response_min": 30 * p, "onsite_min": 240 * p,
                         "resolution_min": 480 * p} for p in range(1, 6)}


def make_entitlement(app: FastAPI, customer_id: int, **fields: Any) -> int:
    from api.entitlements.models import Entitlement

    values: dict[str, Any] = {
        "customer_id": customer_id, "name": "Gold", "tier": "gold",
        "products": ["boiler-x200"], "valid_from": datetime(2020, 1, 1, tzinfo=UTC),
        "valid_until": None, "onsite": True, "coverage": None, "timezone": "Europe/London",
        "targets": GOLD_TARGETS, "min_skill_level": 2,
    }
    values.update(fields)
    with app.state.sessionmaker.begin() as session:
        entitlement = Entitlement(**values)
        session.add(entitlement)
        session.flush()
        return entitlement.id


def make_ticket(app: FastAPI, customer_id: int, *, needs_onsite: bool = True,
                impact: int = 1, urgency: int = 2, product: str = "boiler-x200") -> int:
    """A ticket through the tickets domain's own service (priority, entitlement, clocks)."""
    from api.tickets import service as tickets
    from api.tickets.schemas import TicketCreate

    data = TicketCreate(request_type="incident", channel="phone", customer_id=customer_id,
                        product=product, summary="No heating", impact=impact, urgency=urgency,
                        needs_onsite=needs_onsite)
    with app.state.sessionmaker.begin() as session:
        ticket = tickets.create(db=session, data=data,
                                actor=tickets.Actor(name="user:tests", role="agent"))
        return ticket.id


def cancel_ticket(app: FastAPI, ticket_id: int) -> None:
    from api.tickets import service as tickets

    with app.state.sessionmaker.begin() as session:
        ticket = tickets.get(db=session, ticket_id=ticket_id)
        tickets.transition(db=session, ticket_id=ticket_id, to="cancelled",
                           version=ticket.version, note=None,
                           actor=tickets.Actor(name="user:tests", role="agent"))
