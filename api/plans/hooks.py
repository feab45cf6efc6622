"""Planning's hook into other domains: an emergency posted during the day re-plans it.

``on_appointments_created`` is called by the appointments service right after
it creates appointments (one marked call there). When
``settings.auto_replan_on_emergency`` is on and the new appointment is
priority 1 and can still be done today (a window reaching into the rest of
today, or none), it queues an in-day re-plan of
today (of the appointment's territory, when it has one) in the same
transaction; the job reaches the worker when that transaction commits. The
dispatcher then reviews the re-plan's changes and publishes it: nothing is
published automatically.

The hook finds the app (settings, job backend) through the session's
``info``, which ``api.plans.jobs.start`` sets on the app's sessionmaker; in a
process without the plan worker (background jobs off) it does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.appointments.models import Appointment
from api.database import utcnow
from api.events import record_event
from api.plans import builder, service
from api.plans.schemas import ReplanCreate

log = logging.getLogger(__name__)

APP_KEY = "fieldplan_app"
EMERGENCY_PRIORITY = 1
ACTOR = "system:auto-replan"


def _can_be_today(appointment: Appointment, now: datetime, day_end: datetime) -> bool:
    """A window reaching into the rest of today, or no windows at all."""
    if appointment.window_start is None:
        return True
    return appointment.window_start < day_end and appointment.window_end >= now


def on_appointments_created(*, db: Session, appointments: Iterable[Appointment]
                            ) -> list[int]:
    """Queue today's re-plan for new emergencies; the ids of the jobs queued.

    One re-plan per territory however many emergencies arrive together (a
    bulk import), covering them all.
    """
    app = db.info.get(APP_KEY)
    emergencies = [a for a in appointments if a.priority == EMERGENCY_PRIORITY]
    if app is None or not emergencies or not app.state.settings.auto_replan_on_emergency:
        return []
    settings = app.state.settings
    now = utcnow()
    today = now.astimezone(ZoneInfo(settings.planning_timezone)).date()
    _, day_end = builder.day_range(today, 1, settings.planning_timezone)
    by_territory: dict[str | None, list[Appointment]] = {}
    for appointment in emergencies:
        if _can_be_today(appointment, now, day_end):
            by_territory.setdefault(appointment.territory, []).append(appointment)
    from api.plans.jobs import backend_for

    queued: list[int] = []
    for territory, group in by_territory.items():
        job = service.create_replan(
            db=db, data=ReplanCreate(date=today, territory=territory, now=now),
            settings=settings, actor=ACTOR)
        for appointment in group:
            record_event(db, entity_type="appointment", entity_id=appointment.id,
                         action="auto_replan_requested", actor=ACTOR,
                         data={"plan_id": job.id})
        service.submit_after_commit(db, job.id, backend_for(app).submit)
        log.info("emergency appointment(s) %s: re-plan job %s queued",
                 [a.id for a in group], job.id)
        queued.append(job.id)
    return queued
