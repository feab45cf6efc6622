"""Tables of the appointments domain: appointments, the geocode cache, idempotency keys.

Windows are stored as a JSON list of ``{"start", "end"}`` ISO strings in UTC,
with their overall bounds copied into two indexed columns so a date filter is
a plain range query. ``plan_id`` has no foreign key yet: the plans table
arrives in ``0004_plans``, which may add one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.appointments.lifecycle import AppointmentStatus
from api.concurrency import Versioned
from api.database import Base, UTCDateTime, utcnow


class Appointment(Versioned, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("duration_min > 0", name="duration_positive"),
        CheckConstraint("demand >= 0", name="demand_non_negative"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
                        name="coordinates_range"),
        Index("ix_appointments_technician_start", "technician_id", "scheduled_start"),
        Index("ix_appointments_window_bounds", "window_start", "window_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="RESTRICT"), nullable=True, index=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=True, index=True)
    entitlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("entitlements.id", ondelete="RESTRICT"), nullable=True)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    geocoded_address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_min: Mapped[float] = mapped_column(Float, nullable=False)
    required_skills: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False, default=dict)
    windows: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    territory: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    demand: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    pinned_technician_id: Mapped[int | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="SET NULL"), nullable=True)
    preferred_technician_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False,
                                                                default=list)
    excluded_technician_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False,
                                                               default=list)
    external_ref: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True,
                                        default=AppointmentStatus.unscheduled.value)
    technician_id: Mapped[int | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT"), nullable=True)
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scheduled_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    completion_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    cannot_complete_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False,
                                                        default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    @property
    def location(self) -> dict[str, float]:
        return {"lat": self.lat, "lon": self.lon}


class GeocodeCache(Base):
    """One answer per (provider, normalised address): providers are slow and rate-limited."""

    __tablename__ = "geocode_cache"
    __table_args__ = (UniqueConstraint("provider", "query", name="uq_geocode_cache_query"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    query: Mapped[str] = mapped_column(String(500), nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    display: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class IdempotencyKey(Base):
    """The first answer given to a (principal, Idempotency-Key) pair, replayed verbatim.

    The unique constraint is what makes a concurrent replay safe: the second
    insert of the same pair fails (PostgreSQL makes it wait for the first
    transaction, then raise), and the loser replays the winner's answer.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_keys_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(80), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    operation: Mapped[str] = mapped_column(String(200), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=False)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False,
                                                             default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 index=True)
