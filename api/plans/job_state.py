"""State changes of a plan job row, each one a guarded UPDATE.

Why guarded updates (``WHERE status = ... AND worker_id = ...``) rather than
read-modify-write: several workers (threads, Celery processes, the reaper)
race for the same rows, and only a conditional UPDATE's row count tells one
of them, atomically, that it won. A worker whose job was reaped and handed to
another worker loses its guard and its late writes change nothing.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.plans.models import JobStatus, PlanJob

#: Tells this process apart from an earlier one that had the same pid (containers
#: restart with the same pid): a job stamped with our pid but another token is dead.
PROCESS_TOKEN = uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class WorkerId:
    """Who runs a job: ``host:pid:token:label``."""

    host: str
    pid: int
    token: str
    label: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}:{self.label}"

    @classmethod
    def parse(cls, text: str | None) -> WorkerId | None:
        parts = (text or "").split(":", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3])

    def is_gone(self) -> bool:
        """True when this worker's process certainly no longer runs (same host only)."""
        if self.host != socket.gethostname():
            return False  # another machine: only its heartbeat can tell
        if self.pid == os.getpid():
            return self.token != PROCESS_TOKEN
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # it exists, owned by someone else
        return False


def make_worker_id(label: str) -> str:
    """A worker id for the current process and thread."""
    return str(WorkerId(socket.gethostname(), os.getpid(), PROCESS_TOKEN,
                        f"{label}-{threading.get_ident()}"))


def claim(db: Session, *, job_id: int, worker_id: str, now: datetime) -> bool:
    """Queued -> running for ``worker_id``; False if another worker got there first."""
    result = db.execute(
        update(PlanJob)
        .where(PlanJob.id == job_id, PlanJob.status == JobStatus.queued)
        .values(status=JobStatus.running, worker_id=worker_id, attempts=PlanJob.attempts + 1,
                started_at=now, heartbeat_at=now, finished_at=None)
    )
    return result.rowcount == 1


def next_queued_id(db: Session) -> int | None:
    """The oldest queued job (first come, first solved)."""
    return db.scalar(select(PlanJob.id).where(PlanJob.status == JobStatus.queued)
                     .order_by(PlanJob.id).limit(1))


@dataclass(frozen=True)
class Beat:
    """What a heartbeat learns: is the job still ours, and has a cancel been asked for."""

    owned: bool
    cancel_requested: bool


def heartbeat(db: Session, *, job_id: int, worker_id: str, now: datetime,
              progress: dict[str, Any] | None) -> Beat:
    values: dict[str, Any] = {"heartbeat_at": now}
    if progress is not None:
        values["progress"] = progress
    result = db.execute(
        update(PlanJob)
        .where(PlanJob.id == job_id, PlanJob.status == JobStatus.running,
               PlanJob.worker_id == worker_id)
        .values(**values)
    )
    if result.rowcount != 1:
        return Beat(owned=False, cancel_requested=False)
    cancel = db.scalar(select(PlanJob.cancel_requested).where(PlanJob.id == job_id))
    return Beat(owned=True, cancel_requested=bool(cancel))


def finish(db: Session, *, job_id: int, owner: str, now: datetime, status: JobStatus,
           **values: Any) -> bool:
    """Running -> a final status (or back to queued), only if ``owner`` still holds the job."""
    result = db.execute(
        update(PlanJob)
        .where(PlanJob.id == job_id, PlanJob.status == JobStatus.running,
               PlanJob.worker_id == owner)
        .values(status=status, finished_at=None if status == JobStatus.queued else now,
                heartbeat_at=now, **values)
    )
    return result.rowcount == 1
