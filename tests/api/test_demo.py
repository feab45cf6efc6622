"""The demo loader: the demo data set in a fresh SQLite database, then a day planned over HTTP.

The loader re-bases the generated day to tomorrow (here: a fixed "today" on
the day the clocks go forward, to check local times survive), goes through the
ticket and appointment services, and creates one log-in per role and an
integration key; the dispatcher then plans tomorrow and publishes it, and
the demo technician sees their route.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.appointments.models import Appointment
from api.database import make_engine, make_sessionmaker, migrate
from api.demo import DEMO_DIR, DEMO_USERS, load_demo
from api.technicians.models import Shift
from tests.api.conftest import make_test_settings
from tests.api.plans_support import assert_plan_valid
from tests.api.plans_world import wait_plan

API = "/api/v1"
TODAY = date(2027, 3, 28)  # Sunday, first day of British Summer Time (demo data is GMT)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = make_engine(url)
    migrate(engine)
    with make_sessionmaker(engine).begin() as db:
        loaded = load_demo(db, today=TODAY, now=datetime(2027, 3, 28, 9, tzinfo=LONDON))
    yield url, engine, loaded
    engine.dispose()


def test_the_demo_set_loads_completely_and_is_rebased_to_tomorrow(demo_database):
    _, engine, loaded = demo_database
    generated = json.loads((DEMO_DIR / "request.json").read_text())
    assert loaded.skipped == []
    assert loaded.day == date(2027, 3, 29)
    assert loaded.technicians == len(generated["technicians"])
    assert loaded.appointments == loaded.tickets == len(generated["appointments"])
    assert set(loaded.users) == set(DEMO_USERS) and loaded.api_key
    with make_sessionmaker(engine)() as db:
        shifts = db.scalars(select(Shift).order_by(Shift.start)).all()
        # Local shift times are kept across the DST change (08:00 stays 08:00 in London).
        local_starts = {s.start.astimezone(LONDON).time() for s in shifts}
        assert local_starts == {datetime.fromisoformat(s["start"]).astimezone(LONDON).time()
                                for t in generated["technicians"] for s in t["shifts"]}
        days = sorted({s.start.astimezone(LONDON).date() for s in shifts})
        assert days[0] == date(2027, 3, 29) and len(days) == 5
        windows = db.scalars(select(Appointment.window_start)
                             .where(Appointment.window_start.is_not(None))).all()
        assert min(w.astimezone(LONDON).date() for w in windows) == date(2027, 3, 29)
        refs = db.scalar(select(func.count(func.distinct(Appointment.external_ref))))
        assert refs == len(generated["appointments"])


def _login(client: TestClient, role: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token",
                           data={"username": role, "password": DEMO_USERS[role]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_plan_the_demo_day_over_http(demo_database):
    url, _, loaded = demo_database
    settings = make_test_settings(url, background_jobs=True, planning_timezone="Europe/London",
                                  plan_job_heartbeat_s=0.25)
    with TestClient(create_app(settings)) as client:
        dispatcher = _login(client, "dispatcher")
        posted = client.post(f"{API}/plans", headers=dispatcher,
                             json={"date": loaded.day.isoformat(), "time_limit_s": 3})
        assert posted.status_code == 202, posted.text
        plan_id = posted.json()["id"]
        job = wait_plan(client, dispatcher, plan_id, timeout=120)
        assert job["status"] == "done", job
        request = client.get(f"{API}/plans/{plan_id}/request", headers=dispatcher).json()
        assert len(request["technicians"]) == loaded.technicians
        assert len(request["appointments"]) == loaded.appointments
        assert_plan_valid(request, job["plan"])
        assert job["kpis"]["assigned"] >= loaded.appointments // 2

        published = client.post(f"{API}/plans/{plan_id}/publish", headers=dispatcher)
        assert published.status_code == 200, published.text
        assert published.json()["scheduled"] == job["kpis"]["assigned"]

        technician = _login(client, "technician")
        route = client.get(f"{API}/technicians/{loaded.technician_id}/route",
                           headers=technician, params={"date": loaded.day.isoformat()})
        assert route.status_code == 200, route.text
        mine = next((r for r in job["plan"]["routes"]
                     if r["technician_id"] == str(loaded.technician_id)), {"stops": []})
        assert [s["appointment_id"] for s in route.json()["stops"]] == \
            [int(s["appointment_id"]) for s in mine["stops"]]
