"""A working day end to end, through HTTP only.

An integration posts the day's appointments, the dispatcher plans the day,
publishes it, every technician fetches their route and works their morning
visits, an emergency arrives, the dispatcher re-plans the rest of the day
and publishes again. Checked on the way: every stored plan validates against
the request it was solved from (``GET /plans/{id}/request``), the published
visits are what the plan says, work done or under way is left alone, and the
re-plan moves only the emergency's neighbours (everyone else keeps their
technician and their start within ``shift_tolerance_min``).

Real time matters (field status updates re-time later stops from "now"), so
the planning time zone is chosen to make the current local time 10:xx: the
morning visits are then in the past and the afternoon ones ahead.

Runs on SQLite with the in-process worker, and on PostgreSQL with a real
Celery worker on the local Redis (marked ``postgres`` and ``redis``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from optimiser.schema import Plan, PlanRequest
from optimiser.validate import validate_plan
from tests.api.plans_workers import celery_backend_settings, celery_worker
from tests.api.plans_world import API, ok, wait_plan

# Four technicians, each with a cluster of visits ~10 km from the next cluster.
CLUSTERS = [(51.60, -0.30), (51.60, 0.00), (51.42, -0.30), (51.42, 0.00)]
PASSWORD = "e2e-password-123"


def zone_where_it_is_about_ten() -> str:
    """A fixed-offset zone where the local time is now between 10:00 and 11:00."""
    offset = (10 - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


class Day:
    """The local clock of the test's planning time zone."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self.today = datetime.now(self.zone).date()

    def at(self, hour: int, minute: int = 0) -> str:
        return datetime(self.today.year, self.today.month, self.today.day, hour, minute,
                        tzinfo=self.zone).isoformat()


def login(client: TestClient, username: str) -> dict[str, str]:
    token = ok(client.post(f"{API}/auth/token",
                           data={"username": username, "password": PASSWORD}))
    return {"Authorization": f"Bearer {token['access_token']}"}


def validated(client: TestClient, headers: dict[str, str], job: dict) -> tuple[PlanRequest,
                                                                              Plan]:
    """The job's plan, checked against the request it was solved from (over HTTP)."""
    assert job["status"] == "done", job
    request = PlanRequest.model_validate(
        ok(client.get(f"{API}/plans/{job['id']}/request", headers=headers)))
    plan = Plan.model_validate(job["plan"])
    assert validate_plan(request, plan) == []
    placed = [s.appointment_id for r in plan.routes for s in r.stops]
    assert sorted(placed + [u.appointment_id for u in plan.unassigned]) == \
        sorted(a.id for a in request.appointments)
    return request, plan


def stops_by_technician(plan: Plan) -> dict[int, list[int]]:
    return {int(r.technician_id): [int(s.appointment_id) for s in r.stops]
            for r in plan.routes}


def run_the_day(client: TestClient, admin: dict[str, str], day: Day) -> None:
    # --- set-up by the admin: an integration key, a dispatcher, technicians, users
    key = ok(client.post(f"{API}/auth/api-keys", headers=admin,
                         json={"name": "crm", "role": "integration"}), 201)["key"]
    integration = {"X-API-Key": key}
    ok(client.post(f"{API}/auth/users", headers=admin, json={
        "username": "dispatch", "password": PASSWORD, "role": "dispatcher"}), 201)
    dispatcher = login(client, "dispatch")
    technicians: dict[int, dict[str, str]] = {}
    for k, (lat, lon) in enumerate(CLUSTERS):
        tech = ok(client.post(f"{API}/technicians", headers=admin, json={
            "name": f"Tech {k + 1}", "home_lat": lat, "home_lon": lon,
            "skills": {"hvac": 3}}), 201)
        ok(client.post(f"{API}/technicians/{tech['id']}/shifts", headers=dispatcher, json={
            "start": day.at(6), "end": day.at(19),
            "breaks": [{"earliest_start": day.at(12), "latest_end": day.at(14),
                        "duration_min": 30}]}), 201)
        ok(client.post(f"{API}/auth/users", headers=admin, json={
            "username": f"tech{k + 1}", "password": PASSWORD, "role": "technician",
            "technician_id": tech["id"]}), 201)
        technicians[tech["id"]] = login(client, f"tech{k + 1}")

    # --- the integration posts the day: two morning and three afternoon visits per cluster
    appointments: list[int] = []
    for k, (lat, lon) in enumerate(CLUSTERS):
        for j in range(5):
            morning = j < 2
            window = (day.at(6, 30), day.at(8, 30)) if morning else (day.at(13), day.at(17))
            created = ok(client.post(f"{API}/appointments", headers=integration, json={
                "location": {"lat": lat + 0.01 * (j - 2), "lon": lon + 0.012 * (j % 3)},
                "duration_min": 40, "priority": 3, "required_skills": {"hvac": 2},
                "windows": [{"start": window[0], "end": window[1]}],
                "sla_due": day.at(18), "external_ref": f"c{k}-v{j}"}), 201)
            appointments.append(created["id"])

    # --- the dispatcher plans the day and publishes it
    job = ok(client.post(f"{API}/plans", headers=dispatcher,
                         json={"date": day.today.isoformat(), "time_limit_s": 2}), 202)
    request, plan = validated(client, dispatcher, wait_plan(client, dispatcher, job["id"]))
    assert len(request.appointments) == len(appointments) == 20
    assert plan.kpis.assigned == 20, plan.unassigned
    published = ok(client.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher))
    assert published["dispatched"] == 20 and published["scheduled"] == 0
    routes = stops_by_technician(plan)

    # --- each technician sees exactly their route, and works the morning
    now = datetime.now(UTC)
    in_progress: int | None = None
    for technician_id, headers in technicians.items():
        route = ok(client.get(f"{API}/technicians/{technician_id}/route", headers=headers))
        assert [s["appointment_id"] for s in route["stops"]] == routes.get(technician_id, [])
        morning = [s for s in route["stops"]
                   if datetime.fromisoformat(s["eta"].replace("Z", "+00:00")) < now]
        for position, stop in enumerate(morning):
            last = in_progress is None and position == len(morning) - 1
            # Earlier status updates re-timed this stop: read its current version.
            version = ok(client.get(f"{API}/appointments/{stop['appointment_id']}",
                                    headers=headers))["version"]
            for status in ("en_route", "on_site") if last else ("en_route", "on_site",
                                                                "completed"):
                version = ok(client.post(
                    f"{API}/appointments/{stop['appointment_id']}/status", headers=headers,
                    json={"status": status, "version": version}))["appointment"]["version"]
            if last:
                in_progress = stop["appointment_id"]
    assert in_progress is not None, "no morning visit to leave in progress"
    done = {a for a in appointments
            if ok(client.get(f"{API}/appointments/{a}", headers=dispatcher))["status"]
            == "completed"}
    assert len(done) >= 5

    # --- an emergency in the second cluster, then the re-plan of the rest of the day
    lat, lon = CLUSTERS[1]
    emergency = ok(client.post(f"{API}/appointments", headers=integration, json={
        "location": {"lat": lat + 0.005, "lon": lon + 0.005}, "duration_min": 60,
        "priority": 1, "required_skills": {"hvac": 2},
        "windows": [{"start": now.isoformat(), "end": day.at(17)}],
        "sla_due": (now + timedelta(hours=4)).isoformat()}), 201)["id"]
    replan = ok(client.post(f"{API}/plans/replan", headers=dispatcher, json={
        "date": day.today.isoformat(), "time_limit_s": 2}), 202)
    finished = wait_plan(client, dispatcher, replan["id"])
    request, new_plan = validated(client, dispatcher, finished)

    planned_ids = {int(a.id) for a in request.appointments}
    assert planned_ids.isdisjoint(done), "completed work is not re-planned"
    assert in_progress not in planned_ids
    assert in_progress in [v["appointment_id"] for v in finished["params"]["fixed_visits"]]
    assert emergency in planned_ids
    placed = {int(s.appointment_id): int(r.technician_id)
              for r in new_plan.routes for s in r.stops}
    assert emergency in placed, new_plan.unassigned
    helper = placed[emergency]

    tolerance = request.options.shift_tolerance_min
    changes = finished["changes"]
    assert {"appointment_id": str(emergency), "change": "inserted"}.items() <= \
        next(c for c in changes if c["appointment_id"] == str(emergency)).items()
    for change in changes:
        if change["appointment_id"] == str(emergency):
            continue
        moved = change["change"] in ("reassigned", "unassigned") or (
            change["change"] == "shifted" and abs(change["delta_min"]) > tolerance)
        if moved:  # only visits of the technician who takes the emergency may move
            assert int(change["from"]["technician_id"]) == helper, change
    # Everyone else keeps technician and start (within tolerance), per the request's plan.
    for appointment in request.appointments:
        if appointment.planned_technician is None or int(appointment.id) == emergency:
            continue
        if int(appointment.planned_technician) == helper:
            continue
        assert placed.get(int(appointment.id)) == int(appointment.planned_technician)
        start = next(s.start for r in new_plan.routes for s in r.stops
                     if s.appointment_id == appointment.id)
        assert abs((start - appointment.planned_start).total_seconds()) / 60 <= tolerance

    # --- publishing the re-plan dispatches the emergency to its technician
    ok(client.post(f"{API}/plans/{replan['id']}/publish", headers=dispatcher))
    row = ok(client.get(f"{API}/appointments/{emergency}", headers=dispatcher))
    assert row["status"] == "dispatched" and row["technician_id"] == helper
    route = ok(client.get(f"{API}/technicians/{helper}/route", headers=technicians[helper]))
    assert emergency in [s["appointment_id"] for s in route["stops"]]
    assert ok(client.get(f"{API}/appointments/{in_progress}", headers=dispatcher))["status"] \
        == "on_site"


def test_a_working_day_in_process(backend, make_client, headers_for):
    if backend != "sqlite":
        pytest.skip("the PostgreSQL run uses Celery workers (test_a_working_day_on_celery)")
    timezone = zone_where_it_is_about_ten()
    client = make_client(background_jobs=True, planning_timezone=timezone,
                         plan_job_heartbeat_s=0.25)
    run_the_day(client, headers_for("admin"), Day(timezone))


@pytest.mark.redis
def test_a_working_day_on_celery(backend, database_url, make_client, headers_for):
    if backend != "postgres":
        pytest.skip("the Celery run is on PostgreSQL")
    timezone = zone_where_it_is_about_ten()
    overrides = celery_backend_settings(planning_timezone=timezone)
    with celery_worker(database_url, overrides):
        client = make_client(background_jobs=True, **overrides)
        run_the_day(client, headers_for("admin"), Day(timezone))
