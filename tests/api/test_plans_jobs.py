"""The plan-job machinery on a real database: claim, solve in a child, cancel, die, reap.

Each test drives ``run_job`` / ``reap`` directly on job rows (the HTTP side is
in ``test_plans_api.py`` and the end-to-end tests). Time limits are 1-3 s.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from datetime import timedelta

import pytest
from fastapi import FastAPI

from api.database import utcnow
from api.plans import job_state
from api.plans.job_state import WorkerId, make_worker_id
from api.plans.models import PlanJob
from api.plans.reaper import reap
from api.plans.runner import run_job
from api.settings import Settings
from tests.api.plans_support import (
    assert_plan_valid,
    insert_job,
    load_job,
    sample_request,
    solver_children,
    wait_for,
)

# Solving and stopping do not depend on the database: these slow cases run on SQLite.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def jobs_settings(app: FastAPI, client) -> Settings:
    settings: Settings = app.state.settings
    return settings.model_copy(update={"plan_job_heartbeat_s": 0.2, "plan_job_max_attempts": 2})


@pytest.fixture
def sessions(app: FastAPI, client):
    return app.state.sessionmaker


def test_run_job_stores_a_validated_plan_with_kpis_and_progress(sessions, jobs_settings):
    request = sample_request("day-5x20", time_limit_s=1)
    job_id = insert_job(sessions, request)

    status = run_job(sessions, jobs_settings, job_id, worker_id=make_worker_id("test"))

    job = load_job(sessions, job_id)
    assert status == job.status == "done"
    assert job.attempts == 1 and job.error is None and job.violations == []
    assert job.started_at <= job.finished_at
    plan = assert_plan_valid(request, job.plan)
    assert job.kpis == plan.kpis.model_dump(mode="json")
    assert job.kpis["assigned"] > 0
    assert job.progress["solutions"] >= 1 and job.progress["assigned"] == job.kpis["assigned"]


def test_a_job_is_run_by_one_worker_only(sessions, jobs_settings):
    job_id = insert_job(sessions, sample_request("day-5x20"))
    with sessions.begin() as db:
        assert job_state.claim(db, job_id=job_id, worker_id="first", now=utcnow())
    # A second delivery of the same job (Celery redelivery, another thread) does nothing.
    assert run_job(sessions, jobs_settings, job_id, worker_id=make_worker_id("second")) is None
    job = load_job(sessions, job_id)
    assert (job.status, job.worker_id, job.attempts) == ("running", "first", 1)


@SQLITE_ONLY
def test_cancel_stops_the_search_and_keeps_the_best_plan(sessions, jobs_settings):
    request = sample_request("day-25x150", time_limit_s=60)
    job_id = insert_job(sessions, request)
    outcome: list[str | None] = []
    worker = threading.Thread(target=lambda: outcome.append(run_job(
        sessions, jobs_settings, job_id, worker_id=make_worker_id("test"))))
    worker.start()
    wait_for(lambda: (load_job(sessions, job_id).progress or {}).get("solutions"),
             timeout=30, what="a first solution")
    with sessions.begin() as db:
        db.get(PlanJob, job_id).cancel_requested = True
    worker.join(timeout=30)
    assert not worker.is_alive(), "the solver did not stop on cancel"

    job = load_job(sessions, job_id)
    assert outcome == ["cancelled"] and job.status == "cancelled"
    assert job.progress["elapsed_s"] < 40  # well before its 60 s limit
    assert_plan_valid(request, job.plan)


def _kill_solver_when_running(sessions, job_id: int) -> None:
    wait_for(lambda: load_job(sessions, job_id).status == "running", timeout=10,
             what="the job to run")
    victims = wait_for(solver_children, timeout=10, what="the solver process")
    for pid in victims:
        os.kill(pid, signal.SIGKILL)


@SQLITE_ONLY
def test_a_killed_solver_is_retried_then_the_job_fails(sessions, jobs_settings):
    request = sample_request("day-25x150", time_limit_s=30)
    job_id = insert_job(sessions, request)

    for attempt, expected in ((1, "queued"), (2, "failed")):
        killer = threading.Thread(target=_kill_solver_when_running, args=(sessions, job_id))
        killer.start()
        status = run_job(sessions, jobs_settings, job_id, worker_id=make_worker_id("test"))
        killer.join()
        job = load_job(sessions, job_id)
        assert status == job.status == expected
        assert job.attempts == attempt
        assert f"attempt {attempt}: solver process died (exit code -9)" in job.error
        assert job.plan is None
        if expected == "queued":
            assert job.worker_id is None
    # The request (the appointments to plan) is untouched by the failures.
    assert load_job(sessions, job_id).request == request


# ------------------------------------------------------------------------ reaper


def _running(sessions, *, worker_id: str, beat_age_s: float, attempts: int = 1) -> int:
    beat = utcnow() - timedelta(seconds=beat_age_s)
    return insert_job(sessions, sample_request(), status="running", worker_id=worker_id,
                      started_at=beat, heartbeat_at=beat, attempts=attempts)


def test_reaper_requeues_or_fails_jobs_whose_heartbeat_stopped(sessions, jobs_settings):
    settings = jobs_settings.model_copy(update={"plan_job_stale_s": 30})
    elsewhere = "other-host:4242:token:celery-1"
    stale_retry = _running(sessions, worker_id=elsewhere, beat_age_s=60, attempts=1)
    stale_last = _running(sessions, worker_id=elsewhere, beat_age_s=60, attempts=2)
    alive = _running(sessions, worker_id=elsewhere, beat_age_s=5)
    requeued: list[int] = []

    outcome = reap(sessions, settings, on_requeue=requeued.append)

    assert outcome == {stale_retry: "queued", stale_last: "failed"}
    assert requeued == [stale_retry]
    retry, last = load_job(sessions, stale_retry), load_job(sessions, stale_last)
    assert retry.worker_id is None and "no heartbeat" in retry.error and "retrying" in retry.error
    assert last.finished_at is not None and "attempt 2 of 2" in last.error
    assert load_job(sessions, alive).status == "running"


def test_reaper_recognises_a_dead_local_process_at_once(sessions, jobs_settings):
    host = socket.gethostname()
    dead_pid = _a_dead_pid()
    gone = _running(sessions, worker_id=f"{host}:{dead_pid}:abc:inprocess-1", beat_age_s=0)
    earlier_life = _running(sessions, worker_id=f"{host}:{os.getpid()}:old:inprocess-1",
                            beat_age_s=0)
    ours = _running(sessions, worker_id=make_worker_id("inprocess"), beat_age_s=0)

    outcome = reap(sessions, jobs_settings)

    assert outcome == {gone: "queued", earlier_life: "queued"}
    assert load_job(sessions, ours).status == "running"
    assert "is gone" in load_job(sessions, gone).error


def _a_dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_worker_ids_round_trip():
    worker = WorkerId.parse(make_worker_id("celery"))
    assert worker is not None and worker.pid == os.getpid() and not worker.is_gone()
    assert WorkerId.parse("garbage") is None and WorkerId.parse(None) is None
