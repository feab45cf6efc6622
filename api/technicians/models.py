"""Technician and shift tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.concurrency import Versioned
from api.database import Base, UTCDateTime, utcnow


class SupportTier(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"
    field = "field"


class ShiftStatus(StrEnum):
    """Only ``planned`` shifts are offered to the optimiser."""

    planned = "planned"
    off_sick = "off_sick"
    cancelled = "cancelled"


class Technician(Versioned, Base):
    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, unique=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    support_tier: Mapped[str] = mapped_column(String(10), nullable=False,
                                              default=SupportTier.field.value)
    skills: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False, default=dict)
    home_lat: Mapped[float] = mapped_column(Float, nullable=False)
    home_lon: Mapped[float] = mapped_column(Float, nullable=False)
    territories: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    max_overtime_min: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    capacity: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    shifts: Mapped[list[Shift]] = relationship(
        back_populates="technician", order_by="Shift.start", passive_deletes=True)


class Shift(Versioned, Base):
    __tablename__ = "shifts"
    __table_args__ = (Index("ix_shifts_technician_start", "technician_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), nullable=False)
    start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    breaks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(20), nullable=False,
                                        default=ShiftStatus.planned.value)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    technician: Mapped[Technician] = relationship(back_populates="shifts")
