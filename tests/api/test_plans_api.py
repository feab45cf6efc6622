"""The plan endpoints over HTTP: request, poll, list, stop, publish, stale refusals.

The ``live`` client is an app on the test database with the in-process plan
worker running (background jobs on); the plain ``client`` has no worker, so
jobs posted through it stay queued.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.database import utcnow
from tests.api.plans_support import assert_plan_valid, wait_for
from tests.api.plans_world import (
    API,
    World,
    add_appointment,
    add_technician,
    grid_day,
    ok,
    placements,
    request_plan,
    wait_plan,
)

# The planning logic does not depend on the database; these slower cases run on SQLite
# (publishing and the job machinery run on PostgreSQL too, elsewhere).
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
DAY = date(2030, 1, 7)  # a Monday, far from today: publishing schedules, never dispatches


@pytest.fixture
def live(make_client):
    return make_client(background_jobs=True, plan_job_heartbeat_s=0.2, plan_time_limit_s=1.5)


@pytest.fixture
def dispatcher(headers_for):
    return headers_for("dispatcher")


@pytest.fixture
def admin(headers_for):
    return headers_for("admin")


def _job_request(live, app_state_job_id: int) -> dict:
    """The stored exchange request of a job (read from the database)."""
    from api.plans.models import PlanJob

    with live.app.state.sessionmaker() as db:
        return db.get(PlanJob, app_state_job_id).request


def test_plan_a_day_poll_it_and_publish_it(live, admin, dispatcher, api_key_headers):
    world = grid_day(live, admin, api_key_headers, DAY, technicians=3, appointments=12)

    job = request_plan(live, dispatcher, DAY)
    assert job["status"] in ("queued", "running") and job["kind"] == "daily"
    assert job["params"]["time_limit_s"] == 1.5  # the settings default, not hard-coded
    assert job["plan"] is None

    done = wait_plan(live, dispatcher, job["id"])
    assert done["status"] == "done", done
    request = _job_request(live, job["id"])
    plan = assert_plan_valid(request, done["plan"])
    assert sorted(int(a["id"]) for a in request["appointments"]) == sorted(world.appointments)
    assert done["kpis"]["appointments"] == 12 and done["kpis"]["assigned"] >= 9
    assert done["violations"] == [] and done["progress"]["solutions"] >= 1

    result = ok(live.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher))
    placed = placements(done["plan"])
    assert result["scheduled"] == len(placed) and result["dispatched"] == 0
    for appointment_id, (technician_id, start) in placed.items():
        row = ok(live.get(f"{API}/appointments/{appointment_id}", headers=dispatcher))
        assert row["status"] == "scheduled" and row["plan_id"] == job["id"]
        assert row["technician_id"] == technician_id
        assert row["scheduled_start"].replace("Z", "+00:00") == start.isoformat()
    for left in plan.unassigned:
        row = ok(live.get(f"{API}/appointments/{left.appointment_id}", headers=dispatcher))
        assert row["status"] == "unscheduled" and row["plan_id"] is None

    again = live.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher)
    assert again.status_code == 409 and "already published" in again.json()["error"]["message"]
    events = ok(live.get(f"{API}/events", headers=dispatcher,
                         params={"entity_type": "plan", "entity_id": job["id"]}))
    assert [e["action"] for e in events["items"]][-2:] in (["requested", "published"],
                                                           ["published", "requested"])
    listed = ok(live.get(f"{API}/plans", headers=dispatcher, params={"status": "done"}))
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    assert "plan" not in listed["items"][0]


@SQLITE_ONLY
def test_territory_and_date_limit_what_is_planned(live, admin, dispatcher, api_key_headers):
    world = World(day=DAY)
    north = add_technician(live, admin, world, name="North", lat=51.58, lon=-0.12,
                           territories=["north"])
    add_technician(live, admin, world, name="South", lat=51.42, lon=-0.12,
                   territories=["south"])
    floater = add_technician(live, admin, world, name="Floater", lat=51.50, lon=-0.12)
    in_north = add_appointment(live, api_key_headers, world, lat=51.57, lon=-0.11,
                               territory="north")
    add_appointment(live, api_key_headers, world, lat=51.43, lon=-0.11, territory="south")
    next_day = World(day=DAY + timedelta(days=1))
    add_appointment(live, api_key_headers, next_day, lat=51.57, lon=-0.12, territory="north")

    job = wait_plan(live, dispatcher, request_plan(live, dispatcher, DAY, territory="north",
                                                   time_limit_s=1)["id"])

    request = _job_request(live, job["id"])
    assert sorted(int(t["id"]) for t in request["technicians"]) == sorted([north, floater])
    assert [int(a["id"]) for a in request["appointments"]] == [in_north]
    assert job["status"] == "done" and placements(job["plan"])[in_north][0] in (north, floater)


def test_bad_plan_requests_name_the_field(client, dispatcher):
    cases = [
        ({}, "body.date"),
        ({"date": "2030-01-07", "days": 0}, "body.days"),
        ({"date": "2030-01-07", "time_limit_s": -1}, "body.time_limit_s"),
        ({"date": "2030-01-07", "colour": "red"}, "body.colour"),
        ({"date": "not a date"}, "body.date"),
    ]
    for body, field in cases:
        response = client.post(f"{API}/plans", headers=dispatcher, json=body)
        assert response.status_code == 422, body
        assert field in [d["field"] for d in response.json()["error"]["details"]], body
    naive = client.post(f"{API}/plans/replan", headers=dispatcher,
                        json={"date": "2030-01-07", "now": "2030-01-07T12:00:00"})
    assert naive.status_code == 422
    assert "body.now" in [d["field"] for d in naive.json()["error"]["details"]]
    late = client.post(f"{API}/plans/replan", headers=dispatcher,
                       json={"date": "2030-01-07", "now": "2030-01-08T00:00:00+00:00"})
    assert late.status_code == 422 and late.json()["error"]["details"][0]["field"] == "body.now"
    assert ok(client.get(f"{API}/plans", headers=dispatcher))["total"] == 0  # nothing written


def test_unknown_plan_is_404(client, dispatcher):
    for method, path in (("get", "/plans/999"), ("delete", "/plans/999"),
                         ("post", "/plans/999/publish")):
        response = getattr(client, method)(f"{API}{path}", headers=dispatcher)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_deleting_a_queued_plan_cancels_it_without_a_plan(client, admin, dispatcher,
                                                          api_key_headers):
    grid_day(client, admin, api_key_headers, DAY, technicians=1, appointments=2)
    job = request_plan(client, dispatcher, DAY)  # no worker: it stays queued

    cancelled = ok(client.delete(f"{API}/plans/{job['id']}", headers=dispatcher), 202)

    assert cancelled["status"] == "cancelled" and cancelled["plan"] is None
    again = ok(client.delete(f"{API}/plans/{job['id']}", headers=dispatcher), 202)
    assert again == cancelled  # idempotent: a finished job is returned unchanged
    refused = client.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher)
    assert refused.status_code == 409 and "only a finished plan" in refused.text


@SQLITE_ONLY
def test_deleting_a_running_plan_keeps_its_best_plan(live, admin, dispatcher, api_key_headers):
    grid_day(live, admin, api_key_headers, DAY, technicians=4, appointments=40)
    job = request_plan(live, dispatcher, DAY, time_limit_s=120)
    wait_for(lambda: (ok(live.get(f"{API}/plans/{job['id']}", headers=dispatcher))
                      .get("progress") or {}).get("solutions"), timeout=60,
             what="a first solution")

    stopping = ok(live.delete(f"{API}/plans/{job['id']}", headers=dispatcher), 202)
    assert stopping["cancel_requested"] is True

    ended = wait_plan(live, dispatcher, job["id"], timeout=30)
    assert ended["status"] == "cancelled"
    assert ended["progress"]["elapsed_s"] < 100
    assert_plan_valid(_job_request(live, job["id"]), ended["plan"])
    published = ok(live.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher))
    assert published["scheduled"] == ended["kpis"]["assigned"]


def test_publish_refuses_a_plan_whose_data_changed(live, admin, dispatcher, api_key_headers):
    world = grid_day(live, admin, api_key_headers, DAY, technicians=2, appointments=6)
    job = wait_plan(live, dispatcher,
                    request_plan(live, dispatcher, DAY, time_limit_s=1)["id"])
    assert job["status"] == "done"
    cancelled_id = world.appointments[0]
    row = ok(live.get(f"{API}/appointments/{cancelled_id}", headers=dispatcher))
    ok(live.post(f"{API}/appointments/{cancelled_id}/cancel", headers=dispatcher,
                 json={"version": row["version"], "reason": "customer cancelled"}))
    sick_tech = world.technicians[1]
    shift_id = world.shifts[sick_tech]
    shift = ok(live.get(f"{API}/shifts/{shift_id}", headers=dispatcher))
    ok(live.post(f"{API}/shifts/{shift_id}/status", headers=dispatcher,
                 json={"version": shift["version"], "status": "off_sick"}))

    refused = live.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher)

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "stale_plan"
    messages = [d["message"] for d in error["details"]]
    assert f"appointment {cancelled_id}: status unscheduled -> cancelled" in messages
    assert f"shift {shift_id}: status planned -> off_sick" in messages
    changed = {(c["entity"], c["id"]) for c in error["meta"]["changes"]}
    assert changed == {("appointment", cancelled_id), ("shift", shift_id)}
    # Nothing was written: every other appointment is still unscheduled.
    for appointment_id in world.appointments[1:]:
        row = ok(live.get(f"{API}/appointments/{appointment_id}", headers=dispatcher))
        assert row["status"] == "unscheduled" and row["plan_id"] is None


@SQLITE_ONLY
def test_publishing_today_dispatches_and_a_new_plan_keeps_the_day_steady(
        live, admin, dispatcher, api_key_headers):
    today = utcnow().date()
    world = World(day=today)
    for k in range(2):
        add_technician(live, admin, world, name=f"T{k}", lat=51.5, lon=-0.2 + 0.2 * k,
                       start_hour=0, end_hour=23)
    for k in range(4):
        add_appointment(live, api_key_headers, world, lat=51.5, lon=-0.2 + 0.13 * k,
                        window=(1, 20))
    first = wait_plan(live, dispatcher, request_plan(live, dispatcher, today,
                                                     time_limit_s=1)["id"])
    published = ok(live.post(f"{API}/plans/{first['id']}/publish", headers=dispatcher))
    assert published["dispatched"] == len(placements(first["plan"])) > 0
    assert published["scheduled"] == 0
    assert all(v["status"] == "dispatched" for v in published["visits"])
    # A second plan of the same day keeps dispatched work with its technician.
    second = wait_plan(live, dispatcher, request_plan(live, dispatcher, today,
                                                      time_limit_s=1)["id"])
    assert second["status"] == "done"
    again = placements(second["plan"])
    for appointment_id, (technician_id, _) in placements(first["plan"]).items():
        assert again[appointment_id][0] == technician_id
