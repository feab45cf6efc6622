"""The reaper: no plan job stays ``running`` after its worker died.

A running job is dead when its heartbeat is older than ``plan_job_stale_s``,
or at once when its worker process is known to be gone (same host, pid not
alive, or our own pid from an earlier process life). A dead job is queued
again while it has attempts left (``plan_job_max_attempts``), else failed with
the reason. It runs at API start-up and every ``plan_job_reaper_interval_s``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.database import utcnow
from api.events import record_event
from api.plans.job_state import WorkerId
from api.plans.models import JobStatus, PlanJob
from api.settings import Settings

log = logging.getLogger(__name__)

ACTOR = "system:plan-reaper"


def _death(job: PlanJob, now: datetime, stale_after: timedelta) -> str | None:
    """Why ``job``'s worker is considered dead, or None while it looks alive."""
    worker = WorkerId.parse(job.worker_id)
    if worker is not None and worker.is_gone():
        return f"worker process {worker.host}:{worker.pid} is gone"
    last = job.heartbeat_at or job.started_at
    if last is None or now - last > stale_after:
        seen = last.isoformat(timespec="seconds") if last else "never"
        return f"no heartbeat from worker {job.worker_id} since {seen}"
    return None


def reap(session_factory: sessionmaker[Session], settings: Settings, *,
         now: datetime | None = None,
         on_requeue: Callable[[int], None] | None = None) -> dict[int, str]:
    """Requeue or fail every dead running job; {job id: new status}."""
    now = now or utcnow()
    stale_after = timedelta(seconds=settings.plan_job_stale_s)
    outcome: dict[int, str] = {}
    with session_factory.begin() as db:
        running = db.scalars(select(PlanJob).where(PlanJob.status == JobStatus.running)).all()
        for job in running:
            why = _death(job, now, stale_after)
            if why is None:
                continue
            attempt = f"attempt {job.attempts} of {settings.plan_job_max_attempts}"
            if job.attempts < settings.plan_job_max_attempts:
                status = JobStatus.queued
                values = {"worker_id": None, "error": f"{attempt}: {why}; retrying"}
            else:
                status = JobStatus.failed
                values = {"finished_at": now, "error": f"{attempt}: {why}; giving up"}
            # Guarded by the worker and heartbeat we judged: a job that just beat stays.
            result = db.execute(
                update(PlanJob)
                .where(PlanJob.id == job.id, PlanJob.status == JobStatus.running,
                       PlanJob.worker_id == job.worker_id,
                       PlanJob.heartbeat_at == job.heartbeat_at)
                .values(status=status, **values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                outcome[job.id] = status
                record_event(db, entity_type="plan", entity_id=job.id, action="worker_lost",
                             actor=ACTOR, data={"status": status, "why": why,
                                                "attempts": job.attempts})
                log.warning("plan job %s reaped (%s): %s", job.id, status, why)
    if on_requeue is not None:
        for job_id, status in outcome.items():
            if status == JobStatus.queued:
                on_requeue(job_id)
    return outcome


def queued_ids(session_factory: sessionmaker[Session], *,
               older_than: datetime | None = None) -> list[int]:
    """Queued jobs (created before ``older_than``): for re-sending lost broker messages."""
    with session_factory() as db:
        query = select(PlanJob.id).where(PlanJob.status == JobStatus.queued)
        if older_than is not None:
            query = query.where(PlanJob.created_at < older_than)
        return list(db.scalars(query.order_by(PlanJob.id)))
