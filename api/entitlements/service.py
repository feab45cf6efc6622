"""Customers and entitlements: CRUD plus the helpers other domains build on.

Keyword-only functions; none commits (the request's transaction does). Other
domains use ``find_valid_entitlement``, ``calendar_for``, ``targets_for``,
``to_exchange`` and ``record_usage``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from api.concurrency import require_version
from api.entitlements.models import Customer, Entitlement
from api.entitlements.schemas import (
    CustomerCreate,
    CustomerUpdate,
    EntitlementCreate,
    EntitlementUpdate,
    SlaTargets,
)
from api.errors import Conflict, DomainValidationError, NotFound
from api.events import record_event
from api.json_queries import json_array_contains, json_array_empty
from optimiser import schema as exchange
from optimiser.calendars import BusinessCalendar

# ------------------------------------------------------------------- customers


def get_customer(*, db: Session, customer_id: int) -> Customer:
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def _check_position(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        missing = "body.lon" if lon is None else "body.lat"
        raise DomainValidationError(missing, "lat and lon must be given together")


def create_customer(*, db: Session, data: CustomerCreate, actor: str) -> Customer:
    _check_position(data.lat, data.lon)
    customer = Customer(**data.model_dump())
    db.add(customer)
    db.flush()
    record_event(db, entity_type="customer", entity_id=customer.id, action="created",
                 actor=actor, data=data.model_dump(mode="json"))
    return customer


def update_customer(*, db: Session, customer_id: int, data: CustomerUpdate,
                    actor: str) -> Customer:
    customer = get_customer(db=db, customer_id=customer_id)
    require_version(customer, data.version, what=f"customer {customer_id}")
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    for required in ("name", "timezone", "active"):
        if required in changes and changes[required] is None:
            raise DomainValidationError(f"body.{required}", "may not be null")
    _check_position(changes.get("lat", customer.lat), changes.get("lon", customer.lon))
    _apply(db, customer, changes, entity_type="customer", actor=actor)
    return customer


def delete_customer(*, db: Session, customer_id: int, actor: str) -> None:
    customer = get_customer(db=db, customer_id=customer_id)
    count = db.scalar(select(func.count()).select_from(Entitlement)
                      .where(Entitlement.customer_id == customer_id))
    if count:
        raise Conflict(f"customer {customer_id} has {count} entitlement(s); delete them or "
                       "set active=false instead")
    db.delete(customer)
    db.flush()  # a ticket still pointing at the customer fails here -> 409
    record_event(db, entity_type="customer", entity_id=customer_id, action="deleted",
                 actor=actor)


def customers_query(*, q: str | None = None, active: bool | None = None) -> Select[Any]:
    statement = select(Customer)
    if q:
        statement = statement.where(func.lower(Customer.name).contains(q.lower(),
                                                                         autoescape=True))
    if active is not None:
        statement = statement.where(Customer.active == active)
    return statement.order_by(Customer.name, Customer.id)


# ---------------------------------------------------------------- entitlements


def get_entitlement(*, db: Session, entitlement_id: int) -> Entitlement:
    entitlement = db.get(Entitlement, entitlement_id)
    if entitlement is None:
        raise NotFound("entitlement", entitlement_id)
    return entitlement


def _stored(changes: dict[str, Any]) -> dict[str, Any]:
    """Column values from validated body fields (periods with ``from``, targets as dicts)."""
    stored = dict(changes)
    if stored.get("coverage") is not None:
        stored["coverage"] = [exchange.CoveragePeriod.model_validate(p).model_dump(by_alias=True)
                              for p in stored["coverage"]]
    if stored.get("targets") is not None:
        stored["targets"] = {key: SlaTargets.model_validate(value).model_dump()
                             for key, value in sorted(stored["targets"].items())}
    return stored


def create_entitlement(*, db: Session, data: EntitlementCreate, actor: str) -> Entitlement:
    if db.get(Customer, data.customer_id) is None:
        raise DomainValidationError("body.customer_id",
                                    f"customer {data.customer_id} does not exist")
    values = _stored(data.model_dump(by_alias=True))
    entitlement = Entitlement(**values, usage_count=0)
    db.add(entitlement)
    db.flush()
    record_event(db, entity_type="entitlement", entity_id=entitlement.id, action="created",
                 actor=actor, data=data.model_dump(mode="json", by_alias=True))
    return entitlement


def update_entitlement(*, db: Session, entitlement_id: int, data: EntitlementUpdate,
                       actor: str) -> Entitlement:
    entitlement = get_entitlement(db=db, entitlement_id=entitlement_id)
    require_version(entitlement, data.version, what=f"entitlement {entitlement_id}")
    changes = data.model_dump(exclude_unset=True, exclude={"version"}, by_alias=True)
    for required in ("name", "tier", "products", "valid_from", "onsite", "timezone",
                     "targets", "active"):
        if required in changes and changes[required] is None:
            raise DomainValidationError(f"body.{required}", "may not be null")
    valid_from = changes.get("valid_from", entitlement.valid_from)
    valid_until = changes.get("valid_until", entitlement.valid_until)
    if valid_until is not None and valid_until <= valid_from:
        field = "body.valid_until" if "valid_until" in changes else "body.valid_from"
        raise DomainValidationError(field, "valid_until must be after valid_from")
    cap = changes.get("usage_cap", entitlement.usage_cap)
    if "usage_cap" in changes and cap is not None and cap < entitlement.usage_count:
        raise DomainValidationError("body.usage_cap", f"below the usage already counted "
                                                      f"({entitlement.usage_count})")
    _apply(db, entitlement, _stored(changes), entity_type="entitlement", actor=actor,
           logged=data.model_dump(mode="json", exclude_unset=True, exclude={"version"},
                                  by_alias=True))
    return entitlement


def delete_entitlement(*, db: Session, entitlement_id: int, actor: str) -> None:
    entitlement = get_entitlement(db=db, entitlement_id=entitlement_id)
    db.delete(entitlement)
    db.flush()  # tickets/appointments that reference it fail here -> 409
    record_event(db, entity_type="entitlement", entity_id=entitlement_id, action="deleted",
                 actor=actor)


def entitlements_query(
    *,
    dialect: str,
    customer_id: int | None = None,
    product: str | None = None,
    tier: str | None = None,
    active: bool | None = None,
    valid_at: datetime | None = None,
) -> Select[Any]:
    statement = select(Entitlement)
    if customer_id is not None:
        statement = statement.where(Entitlement.customer_id == customer_id)
    if product is not None:
        statement = statement.where(or_(
            json_array_contains(Entitlement.products, product, dialect),
            json_array_empty(Entitlement.products, dialect)))
    if tier is not None:
        statement = statement.where(Entitlement.tier == tier)
    if active is not None:
        statement = statement.where(Entitlement.active == active)
    if valid_at is not None:
        statement = statement.where(
            Entitlement.valid_from <= valid_at,
            or_(Entitlement.valid_until.is_(None), Entitlement.valid_until > valid_at))
    return statement.order_by(Entitlement.id)


def _apply(db: Session, row: Any, changes: dict[str, Any], *, entity_type: str, actor: str,
           logged: dict[str, Any] | None = None) -> None:
    """Set changed attributes and log them; an unchanged body writes nothing."""
    changed = [name for name, value in changes.items() if getattr(row, name) != value]
    if not changed:
        return
    for name in changed:
        setattr(row, name, changes[name])
    db.flush()
    source = logged if logged is not None else changes
    record_event(db, entity_type=entity_type, entity_id=row.id, action="updated", actor=actor,
                 data={"changes": {name: _jsonable(source.get(name)) for name in changed}})


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# ------------------------------------------------------- helpers for other domains


def is_valid_at(entitlement: Entitlement, at: datetime) -> bool:
    """Active, inside its validity period, and with usage left under its cap."""
    return (
        entitlement.active
        and entitlement.valid_from <= at
        and (entitlement.valid_until is None or at < entitlement.valid_until)
        and (entitlement.usage_cap is None or entitlement.usage_count < entitlement.usage_cap)
    )


def covers_product(entitlement: Entitlement, product: str | None) -> bool:
    """An empty product list covers every product."""
    return not entitlement.products or (product is not None and product in entitlement.products)


def find_valid_entitlement(*, db: Session, customer_id: int, product: str | None,
                           at: datetime) -> Entitlement | None:
    """The customer's entitlement that covers ``product`` at ``at``, or None.

    When several apply, one naming the product beats a catch-all (empty list),
    then the most recently started one wins, then the highest id: deterministic.
    """
    candidates = db.scalars(select(Entitlement).where(
        Entitlement.customer_id == customer_id, Entitlement.active.is_(True),
        Entitlement.valid_from <= at,
        or_(Entitlement.valid_until.is_(None), Entitlement.valid_until > at))).all()
    matching = [e for e in candidates if is_valid_at(e, at) and covers_product(e, product)]
    if not matching:
        return None
    return max(matching, key=lambda e: (bool(e.products), e.valid_from, e.id))


def coverage_periods(entitlement: Entitlement) -> list[exchange.CoveragePeriod] | None:
    if entitlement.coverage is None:
        return None
    return [exchange.CoveragePeriod.model_validate(p) for p in entitlement.coverage]


def calendar_for(entitlement: Entitlement) -> BusinessCalendar:
    """The entitlement's coverage as the project's one business-hours calculator."""
    return BusinessCalendar.from_coverage(coverage_periods(entitlement), entitlement.timezone)


def targets_for(entitlement: Entitlement, priority: int) -> SlaTargets | None:
    """The contract's targets for ``priority`` (1..5), or None when it sets none."""
    raw = (entitlement.targets or {}).get(str(priority))
    return None if raw is None else SlaTargets.model_validate(raw)


def to_exchange(entitlement: Entitlement) -> exchange.Entitlement:
    """The optimiser's view: id is ``str(entitlement.id)``.

    An inactive contract, or one whose usage cap is used up, is exported as
    suspended with that reason, so the plan says why its visits are not scheduled.
    """
    return exchange.Entitlement(
        id=str(entitlement.id), onsite=entitlement.onsite,
        coverage=coverage_periods(entitlement), timezone=entitlement.timezone,
        valid_from=entitlement.valid_from, valid_until=entitlement.valid_until,
        min_skill_level=entitlement.min_skill_level, suspended=suspension(entitlement))


def suspension(entitlement: Entitlement) -> str | None:
    """Why no visit may be scheduled under this contract now, or ``None``."""
    if not entitlement.active:
        return "the contract is inactive"
    if entitlement.usage_cap is not None and entitlement.usage_count >= entitlement.usage_cap:
        return f"its usage cap of {entitlement.usage_cap} visit(s) is used up"
    return None


def record_usage(*, db: Session, entitlement_id: int, actor: str) -> Entitlement:
    """Count one use against the cap (e.g. one on-site visit); 409 when the cap is used up."""
    entitlement = get_entitlement(db=db, entitlement_id=entitlement_id)
    if entitlement.usage_cap is not None and entitlement.usage_count >= entitlement.usage_cap:
        raise Conflict(f"entitlement {entitlement_id} has used all {entitlement.usage_cap} "
                       "of its allowed uses", meta={"usage_cap": entitlement.usage_cap})
    entitlement.usage_count += 1
    db.flush()
    record_event(db, entity_type="entitlement", entity_id=entitlement.id, action="usage",
                 actor=actor, data={"usage_count": entitlement.usage_count})
    return entitlement
