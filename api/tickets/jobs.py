"""The periodic escalation ticker started by the app's lifespan (``JOB_MODULES`` in app.py).

A daemon thread runs ``run_escalation`` every ``escalation_interval_s`` in its
own transaction. On PostgreSQL a transaction-scoped advisory lock lets only
one of several workers run a given tick; the others skip it (the job is
idempotent anyway, the lock only saves work and write conflicts). Interval 0
disables the ticker; ``python -m api escalate`` is the cron alternative.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.database import utcnow
from api.tickets.escalation import run_escalation

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x7E5CA1A7
"""Arbitrary constant identifying the escalation job's advisory lock."""


def run_once(sessions: sessionmaker[Session]) -> dict[str, Any] | None:
    """One tick in one transaction; ``None`` when another worker holds the lock."""
    with sessions.begin() as db:
        if db.get_bind().dialect.name == "postgresql":
            locked = db.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                               {"key": ADVISORY_LOCK_KEY})  # fmt: skip
            if not locked:
                return None
        return run_escalation(db=db, now=utcnow())


def start(app: FastAPI) -> Callable[[], None]:
    """Start the ticker thread; returns the function that stops it."""
    interval = float(app.state.settings.escalation_interval_s)
    stop = threading.Event()
    if interval <= 0:
        return stop.set

    def _loop() -> None:
        while not stop.wait(interval):
            try:
                summary = run_once(app.state.sessionmaker)
                if summary and (summary["tier_moves"] or summary["sla_breached"]):
                    log.info("escalation run: %s", summary)
            except Exception:  # a bad tick must not kill the ticker; the next one retries
                log.exception("escalation run failed")

    thread = threading.Thread(target=_loop, name="ticket-escalation", daemon=True)
    thread.start()

    def _stop() -> None:
        stop.set()
        thread.join(timeout=max(5.0, interval))

    return _stop
