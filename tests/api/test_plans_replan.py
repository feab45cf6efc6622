"""In-day re-planning: a technician off sick, an emergency that re-plans by itself, shift trims."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.database import utcnow
from api.plans.builder import _trim_shift
from optimiser.schema import Break, Shift
from tests.api.plans_world import (
    API,
    World,
    add_appointment,
    add_technician,
    at,
    ok,
    placements,
    request_plan,
    wait_plan,
)

# The planning logic does not depend on the database; these slower cases run on SQLite
# (publishing and the job machinery run on PostgreSQL too, elsewhere).
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
DAY = date(2030, 1, 7)


@pytest.fixture
def dispatcher(headers_for):
    return headers_for("dispatcher")


@pytest.fixture
def admin(headers_for):
    return headers_for("admin")


@SQLITE_ONLY
def test_a_technician_off_sick_has_their_visits_reassigned(make_client, admin, dispatcher,
                                                           api_key_headers):
    live = make_client(background_jobs=True, plan_job_heartbeat_s=0.2)
    world = World(day=DAY)
    for k in range(3):
        add_technician(live, admin, world, name=f"T{k}", lat=51.5, lon=-0.2 + 0.2 * k)
    for k in range(9):
        add_appointment(live, api_key_headers, world, lat=51.5, lon=-0.25 + 0.06 * k,
                        window=(11, 16), duration_min=30)
    first = wait_plan(live, dispatcher, request_plan(live, dispatcher, DAY,
                                                     time_limit_s=1)["id"])
    ok(live.post(f"{API}/plans/{first['id']}/publish", headers=dispatcher))
    before = placements(first["plan"])
    sick = max(world.technicians, key=lambda t: sum(v[0] == t for v in before.values()))
    shift = ok(live.get(f"{API}/shifts/{world.shifts[sick]}", headers=dispatcher))
    ok(live.post(f"{API}/shifts/{shift['id']}/status", headers=dispatcher,
                 json={"version": shift["version"], "status": "off_sick"}))

    job = ok(live.post(f"{API}/plans/replan", headers=dispatcher, json={
        "date": DAY.isoformat(), "now": at(DAY, 10).isoformat(), "time_limit_s": 1}), 202)
    done = wait_plan(live, dispatcher, job["id"])

    assert done["status"] == "done" and done["kind"] == "replan"
    request = ok(live.get(f"{API}/plans/{job['id']}/request", headers=dispatcher))
    assert str(sick) not in {t["id"] for t in request["technicians"]}
    # Everyone's day starts at "now" (10:00), not at the shift start.
    assert {datetime.fromisoformat(t["shifts"][0]["start"].replace("Z", "+00:00"))
            for t in request["technicians"]} == {at(DAY, 10)}
    sick_visits = {a for a, (t, _) in before.items() if t == sick}
    changed = {int(c["appointment_id"]): c for c in done["changes"]}
    assert sick_visits and sick_visits <= set(changed)
    for appointment_id in sick_visits:
        change = changed[appointment_id]
        assert change["from"]["technician_id"] == str(sick)
        assert change["change"] in ("reassigned", "unassigned")
    after = placements(done["plan"])
    assert all(after[a][0] != sick for a in after)

    ok(live.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher))
    for appointment_id in sick_visits:
        row = ok(live.get(f"{API}/appointments/{appointment_id}", headers=dispatcher))
        if appointment_id in after:
            assert row["technician_id"] == after[appointment_id][0] != sick
        else:
            assert row["status"] == "unscheduled" and row["technician_id"] is None


@SQLITE_ONLY
def test_an_emergency_during_the_day_queues_a_replan_by_itself(make_client, admin, dispatcher,
                                                               api_key_headers):
    live = make_client(background_jobs=True, plan_job_heartbeat_s=0.2,
                       auto_replan_on_emergency=True)
    today = utcnow().date()
    world = World(day=today)
    add_technician(live, admin, world, name="On call", lat=51.5, lon=-0.1, start_hour=0,
                   end_hour=23)
    now = utcnow()
    routine = add_appointment(live, api_key_headers, world, lat=51.51, lon=-0.1, priority=3,
                              window=None)
    assert ok(live.get(f"{API}/plans", headers=dispatcher))["total"] == 0

    emergency = ok(live.post(f"{API}/appointments", headers=api_key_headers, json={
        "location": {"lat": 51.52, "lon": -0.11}, "duration_min": 30, "priority": 1,
        "required_skills": {"hvac": 1}, "territory": "north",
        "windows": [{"start": now.isoformat(), "end": (now + timedelta(hours=3)).isoformat()}],
    }), 201)["id"]

    jobs = ok(live.get(f"{API}/plans", headers=dispatcher, params={"kind": "replan"}))
    assert jobs["total"] == 1
    job = jobs["items"][0]
    assert job["created_by"] == "system:auto-replan"
    assert job["params"]["territory"] == "north" and job["params"]["date"] == today.isoformat()
    done = wait_plan(live, dispatcher, job["id"])
    assert done["status"] == "done"
    request = ok(live.get(f"{API}/plans/{job['id']}/request", headers=dispatcher))
    assert str(emergency) in {a["id"] for a in request["appointments"]}
    assert str(routine) not in {a["id"] for a in request["appointments"]}  # other territory
    events = ok(live.get(f"{API}/events", headers=dispatcher,
                         params={"entity_type": "appointment", "entity_id": emergency}))
    assert "auto_replan_requested" in [e["action"] for e in events["items"]]


@SQLITE_ONLY
def test_no_automatic_replan_when_the_setting_is_off(make_client, admin, dispatcher,
                                                     api_key_headers):
    live = make_client(background_jobs=True, auto_replan_on_emergency=False)
    world = World(day=utcnow().date())
    add_appointment(live, api_key_headers, world, lat=51.5, lon=-0.1, priority=1, window=None)
    assert ok(live.get(f"{API}/plans", headers=dispatcher))["total"] == 0


# --------------------------------------------------------------------- shift trims


def _shift() -> Shift:
    day = DAY
    return Shift(start=at(day, 8), end=at(day, 17), breaks=[
        Break(earliest_start=at(day, 12), latest_end=at(day, 14), duration_min=30)])


def test_trim_keeps_the_rest_of_a_shift_and_a_break_that_still_fits():
    trimmed = _trim_shift(_shift(), at(DAY, 13, 15))
    assert trimmed.start == at(DAY, 13, 15) and trimmed.end == at(DAY, 17)
    assert [(b.earliest_start, b.latest_end) for b in trimmed.breaks] == \
        [(at(DAY, 13, 15), at(DAY, 14))]


def test_trim_drops_a_break_that_no_longer_fits_and_a_finished_shift():
    assert _trim_shift(_shift(), at(DAY, 13, 45)).breaks == []
    assert _trim_shift(_shift(), at(DAY, 17)) is None
    untouched = _trim_shift(_shift(), datetime(2030, 1, 7, 6, tzinfo=UTC))
    assert untouched.start == at(DAY, 8) and len(untouched.breaks) == 1
