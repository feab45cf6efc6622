"""Worker processes that die mid-solve: the job is retried or failed, never stuck running.

Two real deaths: the API server with its in-process worker is SIGKILLed while
solving (the next start-up re-queues and finishes the job), and a Celery
worker is SIGKILLed while solving (the API's reaper re-queues the job and a
new worker finishes it). Either way the plan that ends up stored validates
and holds every appointment of the request exactly once, and no appointment
row is lost, duplicated or changed.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.appointments.models import Appointment
from api.database import make_engine, make_sessionmaker, migrate
from api.events import Event
from tests.api.conftest import make_test_settings
from tests.api.plans_support import (
    assert_plan_valid,
    insert_job,
    load_job,
    sample_request,
    wait_for,
)
from tests.api.plans_workers import celery_backend_settings, celery_worker, start_api_server
from tests.api.plans_world import grid_day, request_plan


def _running_with_progress(sessions, job_id: int) -> bool:
    job = load_job(sessions, job_id)
    return job.status == "running" and bool((job.progress or {}).get("solutions"))


def test_api_killed_mid_solve_resumes_the_job_on_restart(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'killed.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    request = sample_request("day-25x150", time_limit_s=3)
    job_id = insert_job(sessions, request)
    fast = {"plan_job_heartbeat_s": 0.25}

    server = start_api_server(database_url, fast)
    try:
        wait_for(lambda: _running_with_progress(sessions, job_id), timeout=60,
                 what="the server to be solving")
        server.kill()
    finally:
        server.stop()
    dead = load_job(sessions, job_id)
    assert dead.status == "running" and dead.attempts == 1  # as the dead process left it

    settings = make_test_settings(database_url, background_jobs=True, **fast)
    with TestClient(create_app(settings)):  # start-up: reap, re-queue, solve again
        job = wait_for(lambda: (j := load_job(sessions, job_id)).status in
                       ("done", "failed", "cancelled") and j, timeout=60,
                       what="the re-queued job to finish")
    assert job.status == "done" and job.attempts == 2
    assert_plan_valid(request, job.plan)
    with sessions() as db:
        lost = db.scalars(select(Event).where(Event.entity_type == "plan",
                                              Event.action == "worker_lost")).all()
    assert [(e.entity_id, e.data["status"]) for e in lost] == [(str(job_id), "queued")]
    assert "is gone" in lost[0].data["why"]
    engine.dispose()


def test_a_graceful_shutdown_hands_the_running_job_back(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'stopping.db'}"
    settings = make_test_settings(database_url, background_jobs=True, plan_job_heartbeat_s=0.25)
    with TestClient(create_app(settings)) as client:
        sessions = client.app.state.sessionmaker
        job_id = insert_job(sessions, sample_request("day-25x150", time_limit_s=60))
        client.app.state.plan_backend.submit(job_id)
        wait_for(lambda: _running_with_progress(sessions, job_id), timeout=60,
                 what="the pool to be solving")
    # The lifespan stopped the pool: the job is queued again, its attempt not counted.
    job = load_job(sessions, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)
    assert job.plan is None


@pytest.mark.redis
def test_celery_worker_killed_mid_solve_the_job_is_retried(backend, database_url, make_client,
                                                            headers_for, api_key_headers):
    if backend != "postgres":
        pytest.skip("the Celery runs are on PostgreSQL")
    overrides = celery_backend_settings(plan_job_max_attempts=2)
    client = make_client(background_jobs=True, **overrides)
    admin, dispatcher = headers_for("admin"), headers_for("dispatcher")
    world = grid_day(client, admin, api_key_headers, request_day(), technicians=3,
                     appointments=24)
    sessions = client.app.state.sessionmaker

    with celery_worker(database_url, overrides) as first:
        job_id = request_plan(client, dispatcher, request_day(), time_limit_s=3)["id"]
        wait_for(lambda: _running_with_progress(sessions, job_id), timeout=60,
                 what="the worker to be solving")
        first.kill()
    reaped = wait_for(lambda: (j := load_job(sessions, job_id)).status != "running" and j,
                      timeout=30, what="the reaper to notice the dead worker")
    assert reaped.status == "queued" and reaped.attempts == 1
    assert "attempt 1 of 2" in reaped.error

    with celery_worker(database_url, overrides):
        job = wait_for(lambda: (j := load_job(sessions, job_id)).status in
                       ("done", "failed", "cancelled") and j, timeout=90,
                       what="the retried job to finish")
    assert job.status == "done" and job.attempts == 2
    assert_plan_valid(job.request, job.plan)
    with sessions() as db:
        rows = db.scalars(select(Appointment).order_by(Appointment.id)).all()
        assert db.scalar(select(func.count()).select_from(Appointment)) == 24
    assert [r.id for r in rows] == sorted(world.appointments)
    assert {r.status for r in rows} == {"unscheduled"} and all(r.plan_id is None for r in rows)


def request_day():
    from datetime import date

    return date(2030, 1, 7)
