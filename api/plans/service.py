"""Plan jobs: create (daily or re-plan), read, list, cancel. Publishing is in ``publish``.

The request is built when the job is created, inside the caller's
transaction, so the job's snapshot is the data the dispatcher asked about and
the worker only needs the stored request. The job reaches a worker only after
that transaction commits (``submit_after_commit``): a Celery worker must never
receive the id of a row it cannot see yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session

from api.database import utcnow
from api.errors import DomainValidationError, NotFound
from api.events import record_event
from api.plans import builder, snapshot
from api.plans.models import FINISHED_STATUSES, JobKind, JobStatus, PlanJob
from api.plans.schemas import PlanCreate, ReplanCreate
from api.settings import Settings

PENDING_KEY = "plan_jobs_to_submit"
LISTENING_KEY = "plan_jobs_listening"


def get(*, db: Session, job_id: int) -> PlanJob:
    job = db.get(PlanJob, job_id)
    if job is None:
        raise NotFound("plan", job_id)
    return job


def list_statement(*, kind: str | None = None, status: str | None = None) -> Select[Any]:
    """Jobs, newest first, optionally of one kind / status."""
    statement = select(PlanJob).order_by(PlanJob.id.desc())
    if kind is not None:
        statement = statement.where(PlanJob.kind == kind)
    if status is not None:
        statement = statement.where(PlanJob.status == status)
    return statement


def _new_job(db: Session, *, kind: JobKind, params: dict[str, Any], built: builder.Built,
             actor: str) -> PlanJob:
    job = PlanJob(
        kind=kind, params=params, status=JobStatus.queued,
        request=built.request.model_dump(mode="json", by_alias=True, exclude_none=True),
        snapshot=built.snapshot, fingerprint=snapshot.fingerprint(built.snapshot),
        created_by=actor, created_at=utcnow(), attempts=0, cancel_requested=False,
    )
    db.add(job)
    db.flush()
    record_event(db, entity_type="plan", entity_id=job.id, action="requested", actor=actor,
                 data={"kind": kind.value, **params,
                       "technicians": len(built.request.technicians),
                       "appointments": len(built.request.appointments)})
    return job


@contextmanager
def _unplannable_data() -> Iterator[None]:
    """Stored rows that do not make a valid exchange request: a 422 saying which, not a 500.

    The domains validate their rows on the way in, so this should not happen;
    if it does, the dispatcher learns what to fix.
    """
    try:
        yield
    except (PydanticValidationError, ValueError) as exc:
        raise DomainValidationError(
            "body.date", f"the stored data for this day cannot be planned: {exc}") from exc


def create_daily(*, db: Session, data: PlanCreate, settings: Settings, actor: str) -> PlanJob:
    """A queued job planning ``data.days`` days from ``data.date``."""
    time_limit_s = data.time_limit_s or settings.plan_time_limit_s
    with _unplannable_data():
        built = builder.build_daily(db, day=data.date, days=data.days,
                                    territory=data.territory,
                                    timezone=settings.planning_timezone,
                                    time_limit_s=time_limit_s, seed=data.seed)
    params = {"date": data.date.isoformat(), "days": data.days, "territory": data.territory,
              "time_limit_s": time_limit_s, "seed": data.seed,
              "timezone": settings.planning_timezone}
    return _new_job(db, kind=JobKind.daily, params=params, built=built, actor=actor)


def create_replan(*, db: Session, data: ReplanCreate, settings: Settings, actor: str,
                  now: datetime | None = None) -> PlanJob:
    """A queued job re-planning the rest of ``data.date`` from the live state."""
    now = data.now or now or utcnow()
    day_start, day_end = builder.day_range(data.date, 1, settings.planning_timezone)
    if now >= day_end:
        raise DomainValidationError("body.now", f"{now.isoformat()} is after the end of "
                                    f"{data.date.isoformat()}; nothing is left to re-plan")
    time_limit_s = data.time_limit_s or settings.plan_time_limit_s
    with _unplannable_data():
        built = builder.build_replan(
            db, day=data.date, territory=data.territory, timezone=settings.planning_timezone,
            now=now, time_limit_s=time_limit_s, seed=data.seed,
            move_cost_min=data.move_cost_min, shift_tolerance_min=data.shift_tolerance_min)
    params = {"date": data.date.isoformat(), "days": 1, "territory": data.territory,
              "now": now.isoformat(), "time_limit_s": time_limit_s, "seed": data.seed,
              "timezone": settings.planning_timezone,
              "move_cost_min": built.request.options.move_cost_min,
              "shift_tolerance_min": built.request.options.shift_tolerance_min,
              "fixed_visits": built.fixed, "notes": built.notes}
    return _new_job(db, kind=JobKind.replan, params=params, built=built, actor=actor)


def cancel(*, db: Session, job_id: int, actor: str) -> PlanJob:
    """Stop a job: a queued one is cancelled at once; a running one keeps its best plan.

    The worker sees ``cancel_requested`` at its next heartbeat, stops the
    solver and stores the best plan found so far with status ``cancelled``.
    Idempotent (as DELETE should be): a finished job is returned unchanged.
    """
    job = get(db=db, job_id=job_id)
    if job.status in FINISHED_STATUSES:
        return job
    job.cancel_requested = True
    if job.status == JobStatus.queued:
        job.status = JobStatus.cancelled
        job.finished_at = utcnow()
    record_event(db, entity_type="plan", entity_id=job.id, action="cancel_requested",
                 actor=actor, data={"status": job.status})
    db.flush()
    return job


def submit_after_commit(db: Session, job_id: int, submit: Callable[[int], None]) -> None:
    """Hand ``job_id`` to the job backend once (and only if) ``db``'s transaction commits."""
    if not db.info.get(LISTENING_KEY):
        event.listen(db, "after_commit", _submit_pending)
        event.listen(db, "after_rollback", _forget_pending)
        db.info[LISTENING_KEY] = True
    db.info.setdefault(PENDING_KEY, []).append((job_id, submit))


def _submit_pending(db: Session) -> None:
    for job_id, submit in db.info.pop(PENDING_KEY, []):
        submit(job_id)


def _forget_pending(db: Session) -> None:
    db.info.pop(PENDING_KEY, None)
