"""The append-only event log shared by every domain.

Each change a service makes is recorded with ``record_event`` inside the same
transaction as the change, so the log and the data cannot disagree. There is
no update or delete path: the mapper refuses both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, Index, Integer, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.auth.dependencies import Principal, Role, require_roles
from api.database import Base, SessionDep, UTCDateTime, utcnow
from api.errors import error_responses
from api.pagination import Page, PageDep, paginate


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    entity_type: Mapped[str] = mapped_column(String(50), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _append_only(_mapper: Any, _connection: Any, target: Event) -> None:
    raise RuntimeError(f"events are append-only (event {target.id})")


def record_event(
    db: Session,
    *,
    entity_type: str,
    entity_id: Any,
    action: str,
    actor: str | Principal,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one event in the caller's transaction (flushed, not committed)."""
    entry = Event(
        at=utcnow(), entity_type=entity_type, entity_id=str(entity_id), action=action,
        actor=actor.actor if isinstance(actor, Principal) else actor, data=data,
    )
    db.add(entry)
    db.flush()
    return entry


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 17, "at": "2026-11-23T08:02:11Z", "entity_type": "technician",
        "entity_id": "4", "action": "updated", "actor": "user:alice",
        "data": {"changes": {"skills": {"hvac": 3}}},
    }]})

    id: int
    at: datetime
    entity_type: str
    entity_id: str
    action: str
    actor: str
    data: dict[str, Any] | None = None


router = APIRouter(prefix="/events", tags=["events"], responses=error_responses(401, 403, 422))

EventReader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher))]


@router.get("", response_model=Page[EventRead], summary="List events (newest first)")
def list_events(
    db: SessionDep,
    _principal: EventReader,
    page: PageDep,
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
) -> Page[Any]:
    statement = select(Event)
    if entity_type is not None:
        statement = statement.where(Event.entity_type == entity_type)
    if entity_id is not None:
        statement = statement.where(Event.entity_id == entity_id)
    if action is not None:
        statement = statement.where(Event.action == action)
    return paginate(db, statement.order_by(Event.id.desc()), page, EventRead)


__all__ = ["Event", "EventRead", "record_event", "router"]
