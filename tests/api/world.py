"""A small set of rows that access and fuzz tests can point their requests at.

Extend ``build_world`` with your domain's rows (return their ids under new keys)
so matrix cases and the fuzzer reach real records instead of 404s.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.auth import service as auth_service
from api.auth.schemas import ApiKeyCreate, UserCreate
from api.entitlements import service as entitlement_service
from api.entitlements.schemas import CustomerCreate, EntitlementCreate
from api.technicians import service as technician_service
from api.technicians.schemas import ShiftCreate, TechnicianCreate


def build_world(session: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rows every case may refer to: (own ids, another technician's ids)."""
    actor = "matrix"
    spare = entitlement_service.create_customer(
        db=session, data=CustomerCreate(name="Spare Co"), actor=actor)
    holder = entitlement_service.create_customer(
        db=session, data=CustomerCreate(name="Holder Co"), actor=actor)
    entitlement = entitlement_service.create_entitlement(
        db=session, data=EntitlementCreate(customer_id=holder.id, name="Gold",
                                           valid_from=datetime(2026, 1, 1, tzinfo=UTC)),
        actor=actor)
    own, other = (technician_service.create_technician(
        db=session, data=TechnicianCreate(name=name, home_lat=51.5, home_lon=-0.1), actor=actor)
        for name in ("Own Tech", "Other Tech"))
    shifts = [technician_service.create_shift(
        db=session, technician_id=tech.id, actor=actor,
        data=ShiftCreate(start=datetime(2026, 11, 23, 8, tzinfo=UTC),
                         end=datetime(2026, 11, 23, 17, tzinfo=UTC)))
        for tech in (own, other)]
    user = auth_service.create_user(
        db=session, data=UserCreate(username="someone", password="long-enough-pw",
                                    role="agent"), actor=actor, password_hash="x")
    key = auth_service.create_api_key(db=session, data=ApiKeyCreate(name="spare"), actor=actor)
    ticket_id = _ticket(session, holder.id)
    common = {"customer_id": spare.id, "entitlement_id": entitlement.id, "user_id": user.id,
              "api_key_id": key.row.id, "plan_id": _finished_plan(session, actor),
              "ticket_id": ticket_id, "tier": "L1"}
    return ({**common, "technician_id": own.id, "shift_id": shifts[0].id},
            {**common, "technician_id": other.id, "shift_id": shifts[1].id})


def _ticket(session: Any, customer_id: int) -> int:
    """A fresh ticket (version 1, status received) of the contract holder."""
    from api.tickets import service as ticket_service
    from api.tickets.schemas import TicketCreate

    ticket = ticket_service.create(
        db=session, actor=ticket_service.Actor(name="matrix", role="admin"),
        data=TicketCreate(request_type="incident", channel="phone", customer_id=customer_id,
                          product="boiler-x200", summary="No heating", impact=2, urgency=2))
    return ticket.id


def add_onsite_ticket(session: Any, own: dict[str, Any], other: dict[str, Any]) -> None:
    """Replace ``ticket_id`` with an open ticket that needs on-site work (appointments
    are made from such tickets only). Only for the cases that create one."""
    from api.tickets import service as ticket_service
    from api.tickets.schemas import TicketCreate

    ticket = ticket_service.create(
        db=session, actor=ticket_service.Actor(name="matrix", role="admin"),
        data=TicketCreate(request_type="incident", channel="phone",
                          customer_id=own["customer_id"], product="boiler-x200",
                          summary="No heating", impact=2, urgency=2, needs_onsite=True))
    own["ticket_id"] = other["ticket_id"] = ticket.id


def add_visits(session: Any, own: dict[str, Any], other: dict[str, Any]) -> None:
    """One dispatched visit per technician as ``appointment_id``. Only for the cases
    whose path needs one: a technician with visits cannot be deleted."""
    own["appointment_id"] = _dispatched_visit(session, own["technician_id"], "matrix")
    other["appointment_id"] = _dispatched_visit(session, other["technician_id"], "matrix")


def _dispatched_visit(session: Any, technician_id: int, actor: str) -> int:
    from api.appointments.models import Appointment

    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    visit = Appointment(lat=51.52, lon=-0.1, duration_min=30, required_skills={}, windows=[],
                        priority=3, demand=0, preferred_technician_ids=[],
                        excluded_technician_ids=[], status="dispatched",
                        technician_id=technician_id, scheduled_start=start,
                        scheduled_end=start.replace(minute=30), status_changed_at=start,
                        created_by=actor, created_at=start, updated_at=start)
    session.add(visit)
    session.flush()
    return visit.id


def _finished_plan(session: Any, actor: str) -> int:
    """A finished, publishable plan job (an empty day: nothing to place)."""
    from api.plans.models import PlanJob

    job = PlanJob(kind="daily", params={"date": "2026-11-23", "days": 1}, status="done",
                  request={"technicians": [], "appointments": [],
                           "options": {"time_limit_s": 1}},
                  plan={"status": "feasible", "routes": [], "unassigned": []},
                  snapshot={}, fingerprint="-", created_by=actor, attempts=1,
                  cancel_requested=False, created_at=datetime(2026, 11, 22, 18, tzinfo=UTC),
                  finished_at=datetime(2026, 11, 22, 18, 1, tzinfo=UTC))
    session.add(job)
    session.flush()
    return job.id
