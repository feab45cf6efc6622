"""The ``plan_jobs`` table: every plan request, its progress and its result.

Jobs live in the database, never in memory, so an API restart or a dead
worker loses nothing: the state machine is the ``status`` column and the
liveness signal is ``heartbeat_at`` (see ``api.plans.reaper``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.database import Base, UTCDateTime, utcnow


class JobKind(StrEnum):
    daily = "daily"
    replan = "replan"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


#: Statuses a job never leaves (the worker and the reaper leave these rows alone).
FINISHED_STATUSES = frozenset({JobStatus.done, JobStatus.failed, JobStatus.cancelled})


class PlanJob(Base):
    __tablename__ = "plan_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default=JobStatus.queued)
    # {"elapsed_s", "objective", "assigned", "solutions"} while running; last value after.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    kpis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    violations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # Re-planning: what moved compared with the published plan.
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Snapshot of the input rows (versions, statuses) and its hash: publish compares it.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
