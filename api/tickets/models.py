"""Ticket tables: tickets, their SLA clocks, the priority matrix and the tier limits.

The matrix and the tier limits are rows, not constants, so an admin can change
them without a release; migration ``0002_tickets`` seeds the defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

import api.auth.models  # noqa: F401  (registers "users", referenced below)
import api.entitlements.models  # noqa: F401  (registers "customers", "entitlements")
import api.technicians.models  # noqa: F401  (users reference technicians)
from api.concurrency import Versioned
from api.database import Base, UTCDateTime, utcnow


class Ticket(Versioned, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("impact BETWEEN 1 AND 3", name="impact_range"),
        CheckConstraint("urgency BETWEEN 1 AND 3", name="urgency_range"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_type: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    product: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    asset: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    impact: Mapped[int] = mapped_column(Integer, nullable=False)
    urgency: Mapped[int] = mapped_column(Integer, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    priority_overridden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    priority_override_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    tier: Mapped[str] = mapped_column(String(2), nullable=False, default="L1", index=True)
    tier_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Business minutes spent on hold since entering the current tier (the tier timer stops).
    tier_paused_min: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    on_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    needs_onsite: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    entitlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("entitlements.id", ondelete="SET NULL"), nullable=True, index=True
    )
    entitlement_status: Mapped[str] = mapped_column(String(20), nullable=False)
    entitlement_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Snapshot of the SLA policy at intake: {"source", "calendar", "targets"}. Running
    # clocks keep the terms they started under even if the contract is edited later.
    sla_policy: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    reopen_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    # Milestones: the latest time each status was entered (first_response_at: the first).
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    prioritised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    clocks: Mapped[list[SlaClock]] = relationship(
        back_populates="ticket",
        order_by="SlaClock.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SlaClock(Base):
    """One running SLA target of a ticket (response, resolution or on-site)."""

    __tablename__ = "sla_clocks"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", name="uq_sla_clocks_ticket_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    target_min: Mapped[float] = mapped_column(Float, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    paused_total_min: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stage: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    # When the target event happened (response, resolution, arrival), in time or late.
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    warned_50_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    warned_75_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    ticket: Mapped[Ticket] = relationship(back_populates="clocks")


class PriorityCell(Base):
    """One cell of the impact x urgency -> priority matrix."""

    __tablename__ = "priority_matrix"
    __table_args__ = (CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),)

    impact: Mapped[int] = mapped_column(Integer, primary_key=True)
    urgency: Mapped[int] = mapped_column(Integer, primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, nullable=False)
    # The whole matrix is replaced at once; every cell carries the matrix version.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False, default="migration")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TierLimit(Versioned, Base):
    """How long (business minutes) a ticket may stay in a tier before moving up; null = never."""

    __tablename__ = "tier_limits"

    tier: Mapped[str] = mapped_column(String(2), primary_key=True)
    limit_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False, default="migration")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
