"""Job backends: how a queued plan job reaches a worker (``settings.job_backend``).

- ``inprocess``: a small pool of worker threads inside the API process picks
  queued jobs from ``plan_jobs`` (oldest first); ``submit`` only wakes it. The
  table is the queue, so a restart resumes queued jobs and the reaper recovers
  running ones.
- ``celery``: ``submit`` sends ``run_plan_job(job_id)`` to the Redis broker on
  ``settings.celery_queue``; Celery workers run it.

Each thread of the pool solves in its own child process (see
``api.plans.runner``), so the API stays responsive while jobs run.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from api.plans import job_state
from api.plans.runner import STOP_GRACE_S, run_job
from api.settings import Settings

log = logging.getLogger(__name__)


class JobBackend(Protocol):
    def submit(self, job_id: int) -> None:
        """Make sure a worker will pick up queued job ``job_id``."""

    def stop(self) -> None:
        """Stop taking jobs; hand running ones back to the queue."""


class InProcessPool:
    """``settings.job_workers`` threads that take queued jobs from the table."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.wake = threading.Event()
        self.shutdown = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self.settings.job_workers):
            thread = threading.Thread(target=self._loop, name=f"plan-worker-{number}",
                                      daemon=True)
            thread.start()
            self.threads.append(thread)

    def submit(self, job_id: int) -> None:
        self.wake.set()

    def run_next(self, worker_id: str) -> bool:
        """Run the oldest queued job, if any; whether there was one."""
        with self.session_factory() as db:
            job_id = job_state.next_queued_id(db)
        if job_id is None:
            return False
        run_job(self.session_factory, self.settings, job_id, worker_id=worker_id,
                shutdown=self.shutdown)
        return True

    def _loop(self) -> None:
        worker_id = job_state.make_worker_id("inprocess")
        while not self.shutdown.is_set():
            try:
                busy = self.run_next(worker_id)
            except Exception:  # noqa: BLE001 - a worker thread must outlive one bad job
                log.exception("plan worker %s: unexpected error", worker_id)
                busy = False
            if not busy:
                # Poll at the heartbeat rate; submit() wakes us sooner.
                self.wake.wait(timeout=self.settings.plan_job_heartbeat_s)
                self.wake.clear()

    def stop(self) -> None:
        self.shutdown.set()
        self.wake.set()
        for thread in self.threads:
            thread.join(timeout=STOP_GRACE_S + 2 * self.settings.plan_job_heartbeat_s)


class CeleryBackend:
    """Sends job ids to the Celery workers through the Redis broker."""

    def __init__(self, settings: Settings) -> None:
        from api.plans.tasks import make_celery

        self.settings = settings
        self.celery = make_celery(settings)

    def submit(self, job_id: int) -> None:
        from api.plans.tasks import TASK_NAME

        self.celery.send_task(TASK_NAME, args=[job_id], queue=self.settings.celery_queue)

    def stop(self) -> None:
        self.celery.close()


class QueueOnly:
    """Background jobs off (tests drive workers explicitly): jobs wait in the table."""

    def submit(self, job_id: int) -> None:
        return None

    def stop(self) -> None:
        return None
