"""Publish a finished plan: write it onto the appointments, or refuse if it is stale.

Rules (also in the README):
- Only a job that ended ``done`` (or ``cancelled`` with a best-so-far plan) can
  be published, and only once.
- The data the plan was built on must be unchanged: every input row's
  version and status are compared with the job's snapshot; any difference
  refuses the publish with 409 ``stale_plan`` listing each change (an
  appointment cancelled or edited, a shift marked off sick, ...).
- A placed visit gets its technician, start, end and ``plan_id``. It becomes
  ``scheduled``, or ``dispatched`` when its start falls on TODAY (the current
  local date in ``settings.planning_timezone``): today's work goes straight to
  the technicians' routes, later days stay editable. Visits already
  dispatched or en route keep their status (only their times change).
- A visit of the request that the plan leaves out and that an earlier plan
  had placed (scheduled or dispatched) goes back to ``unscheduled``; visits en
  route are never pulled back.
- All of it in the caller's one transaction, every status move through the
  appointments lifecycle (``api.appointments.service.change_status``), each
  change in the event log.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.lifecycle import AppointmentStatus
from api.appointments.models import Appointment
from api.auth.dependencies import Principal
from api.database import utcnow
from api.errors import Conflict
from api.events import record_event
from api.plans import snapshot
from api.plans.models import JobStatus, PlanJob
from api.plans.schemas import PublishedVisit, PublishResult
from api.plans.service import get
from api.settings import Settings
from optimiser.schema import Plan

S = AppointmentStatus
PUBLISHABLE = (JobStatus.done, JobStatus.cancelled)


class StalePlan(Conflict):
    """The plan's input rows changed since it was built: publishing would be wrong."""

    code = "stale_plan"


def _check_publishable(db: Session, job: PlanJob) -> None:
    if job.status not in PUBLISHABLE or job.plan is None:
        raise Conflict(f"plan {job.id} is {job.status}; only a finished plan can be "
                       "published", meta={"status": job.status})
    if job.published_at is not None:
        raise Conflict(f"plan {job.id} was already published at "
                       f"{job.published_at.isoformat(timespec='seconds')}",
                       meta={"published_at": job.published_at.isoformat()})
    changes = snapshot.differences(job.snapshot, snapshot.current(db, job.snapshot))
    if changes:
        raise StalePlan(
            f"plan {job.id} is out of date: {len(changes)} change(s) to the data it was "
            "built on; request a new plan",
            details=[{"field": f"{c['entity']}.{c['id']}", "message": snapshot.describe(c)}
                     for c in changes],
            meta={"changes": changes},
        )


def _move(db: Session, appointment: Appointment, target: S, actor: Principal) -> None:
    appointments_service.change_status(db=db, appointment=appointment, target=target,
                                       actor=actor, version=appointment.version)


def publish(*, db: Session, job_id: int, actor: Principal, settings: Settings,
            now: datetime | None = None) -> PublishResult:
    """Write plan ``job_id`` onto its appointments (see the module rules)."""
    job = get(db=db, job_id=job_id)
    _check_publishable(db, job)
    now = now or utcnow()
    # Guarded: of two publishes racing past the checks, one wins; the other waits for
    # it (PostgreSQL row lock) or its write (SQLite), then finds it published.
    claimed = db.execute(
        update(PlanJob).where(PlanJob.id == job.id, PlanJob.published_at.is_(None))
        .values(published_at=now, published_by=actor.actor)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise Conflict(f"plan {job.id} was published by someone else just now")
    zone = ZoneInfo(settings.planning_timezone)
    today = now.astimezone(zone).date()
    plan = Plan.model_validate(job.plan)
    placed = {int(stop.appointment_id): (int(route.technician_id), stop.start, stop.end)
              for route in plan.routes for stop in route.stops}
    reasons = {int(u.appointment_id): u.reason for u in plan.unassigned}
    ids = [int(item["id"]) for item in job.request["appointments"]]
    rows = {a.id: a for a in db.scalars(select(Appointment).where(Appointment.id.in_(ids)))}
    counts = {"scheduled": 0, "dispatched": 0, "unscheduled": 0}
    visits: list[PublishedVisit] = []
    for appointment_id in ids:
        appointment = rows[appointment_id]
        if appointment_id in placed:
            _place(db, appointment, placed[appointment_id], job, actor, zone, today)
        elif appointment.status in (S.scheduled, S.dispatched):
            _move(db, appointment, S.unscheduled, actor)
            record_event(db, entity_type="appointment", entity_id=appointment.id,
                         action="unplanned", actor=actor,
                         data={"plan_id": job.id, "reason": reasons.get(appointment_id)})
        else:
            continue
        status = appointment.status
        if status in counts:
            counts[status] += 1
        visits.append(PublishedVisit(
            appointment_id=appointment.id, status=status, technician_id=appointment.technician_id,
            scheduled_start=appointment.scheduled_start, scheduled_end=appointment.scheduled_end))
    job.published_at, job.published_by = now, actor.actor
    record_event(db, entity_type="plan", entity_id=job.id, action="published", actor=actor,
                 data=dict(counts))
    db.flush()
    return PublishResult(plan_id=job.id, published_at=now, visits=visits, **counts)


def _place(db: Session, appointment: Appointment, where: tuple[int, datetime, datetime],
           job: PlanJob, actor: Principal, zone: ZoneInfo, today: object) -> None:
    technician_id, start, end = where
    before = {"technician_id": appointment.technician_id,
              "start": appointment.scheduled_start.isoformat()
              if appointment.scheduled_start else None}
    appointment.technician_id = technician_id
    appointment.scheduled_start, appointment.scheduled_end = start, end
    appointment.plan_id = job.id
    appointment.updated_at = utcnow()
    if appointment.status == S.unscheduled:
        _move(db, appointment, S.scheduled, actor)
    if appointment.status == S.scheduled and start.astimezone(zone).date() == today:
        _move(db, appointment, S.dispatched, actor)
    db.flush()
    record_event(db, entity_type="appointment", entity_id=appointment.id, action="planned",
                 actor=actor, data={"plan_id": job.id, "from": before,
                                    "to": {"technician_id": technician_id,
                                           "start": start.isoformat(), "end": end.isoformat()}})
