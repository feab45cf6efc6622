"""The plan-job background service, started by the app's lifespan (``JOB_MODULES``).

``start(app)`` picks the backend from ``settings.job_backend``, reaps jobs a
dead process left running (re-queued or failed, by attempt count), resumes
queued jobs, and keeps the reaper running every
``plan_job_reaper_interval_s``. With background jobs off (tests),
``backend_for`` still gives routes a backend: Celery sends need no thread,
and in-process jobs simply wait in the table.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fastapi import FastAPI

from api.plans.backends import CeleryBackend, InProcessPool, JobBackend, QueueOnly
from api.plans.hooks import APP_KEY
from api.plans.reaper import queued_ids, reap

log = logging.getLogger(__name__)


def backend_for(app: FastAPI) -> JobBackend:
    """The app's job backend (created on first use when the lifespan did not start one)."""
    backend = getattr(app.state, "plan_backend", None)
    if backend is None:
        settings = app.state.settings
        backend = CeleryBackend(settings) if settings.job_backend == "celery" else QueueOnly()
        app.state.plan_backend = backend
    return backend


def start(app: FastAPI) -> Callable[[], None]:
    settings = app.state.settings
    session_factory = app.state.sessionmaker
    backend: JobBackend
    if settings.job_backend == "celery":
        backend = CeleryBackend(settings)
    else:
        backend = InProcessPool(session_factory, settings)
    app.state.plan_backend = backend
    # Lets hooks called from other domains' services find this app (see api.plans.hooks).
    session_factory.configure(info={APP_KEY: app})

    reap(session_factory, settings, on_requeue=backend.submit)
    if isinstance(backend, InProcessPool):
        backend.start()
    else:
        # A job committed just before a crash may never have reached the broker.
        for job_id in queued_ids(session_factory):
            backend.submit(job_id)

    stopping = threading.Event()

    def reaper_loop() -> None:
        while not stopping.wait(settings.plan_job_reaper_interval_s):
            try:
                reap(session_factory, settings, on_requeue=backend.submit)
            except Exception:  # noqa: BLE001 - keep reaping after a database hiccup
                log.exception("plan job reaper failed")

    reaper = threading.Thread(target=reaper_loop, name="plan-job-reaper", daemon=True)
    reaper.start()

    def stop() -> None:
        stopping.set()
        reaper.join(timeout=5)
        backend.stop()
        app.state.plan_backend = None

    return stop
