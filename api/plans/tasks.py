"""The Celery backend: ``run_plan_job(job_id)`` on a worker, state in the database.

Start a worker with::

    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/0 \\
        celery -A api.plans.tasks worker -Q plans --concurrency 2

The message carries only the job id; the request, progress and result live in
``plan_jobs``, so a lost or duplicated message cannot lose or duplicate work:
the task claims the job with a guarded UPDATE (a second delivery finds it no
longer queued and does nothing), and the API's reaper re-queues and re-sends a
job whose worker died. ``acks_late``: a message is acknowledged only after the
job ran, so a worker killed before it claimed the job leaves the message to
be redelivered.

The worker reads its configuration from the environment (``Settings``) when
Celery first needs it, not at import time.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from api.database import make_engine, make_sessionmaker
from api.plans.job_state import make_worker_id
from api.plans.runner import run_job
from api.settings import Settings, get_settings

log = logging.getLogger(__name__)

TASK_NAME = "api.plans.tasks.run_plan_job"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for both sides (the API sends, the worker runs)."""
    return {
        "broker_url": settings.redis_url,
        "task_default_queue": settings.celery_queue,
        "task_acks_late": True,
        # One job at a time per pool process: a solve is long, prefetching would
        # park jobs behind it while other workers idle.
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }


def make_celery(settings: Settings) -> Celery:
    """A Celery client for ``settings`` (the API's sending side)."""
    app = Celery("fieldplan", set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


celery_app = Celery("fieldplan")
celery_app.add_defaults(lambda: celery_config(get_settings()))


@cache
def _session_factory(database_url: str) -> sessionmaker[Session]:
    """One engine per worker process (built on the first task, not at import)."""
    return make_sessionmaker(make_engine(database_url))


@celery_app.task(name=TASK_NAME, acks_late=True, ignore_result=True)
def run_plan_job(job_id: int) -> str | None:
    """Run plan job ``job_id`` if it is still queued; the status it ended in."""
    settings = get_settings()
    status = run_job(_session_factory(settings.database_url), settings, job_id,
                     worker_id=make_worker_id("celery"))
    if status is None:
        log.info("plan job %s was not queued any more; nothing to do", job_id)
    return status
