"""Plan jobs through the API on the demo day: overhead, plan quality, publish, re-plan stability.

What it measures (in-process worker, SQLite file, the demo data set re-based to
tomorrow):

- load: ``python -m api demo``'s loader (tickets and appointments through their
  services);
- job overhead: a tiny job (5 technicians, 20 visits, 1 s) from ``POST /plans``
  to ``done`` as seen by a polling client, minus the solver's own time (child
  process start, heartbeat, validation, storage, polling);
- the demo day: assigned visits, solve time, ``POST /publish`` time;
- re-plan stability: one emergency posted, the rest of the day re-planned from
  07:30, and the changes counted (moved within the free tolerance, shifted
  beyond it, reassigned, dropped, inserted).

    .venv/bin/python tests/benchmarks/plan_jobs.py [--time-limit 20] [--replan-time-limit 30]

Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.database import make_engine, make_sessionmaker, migrate  # noqa: E402
from api.demo import DEMO_USERS, load_demo  # noqa: E402
from api.settings import Settings  # noqa: E402
from tests.benchmarks.common import REPO, machine_header  # noqa: E402

API = "/api/v1"


def _login(client: TestClient, role: str) -> dict[str, str]:
    token = client.post(f"{API}/auth/token",
                        data={"username": role, "password": DEMO_USERS[role]}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _finish(client: TestClient, headers: dict[str, str], plan_id: int) -> tuple[dict, float]:
    started = time.perf_counter()
    while True:
        job = client.get(f"{API}/plans/{plan_id}", headers=headers).json()
        if job["status"] not in ("queued", "running"):
            return job, time.perf_counter() - started
        time.sleep(0.05)


def _post_plan(client: TestClient, headers: dict[str, str], path: str, body: dict
               ) -> tuple[dict, float]:
    started = time.perf_counter()
    response = client.post(f"{API}{path}", headers=headers, json=body)
    assert response.status_code == 202, response.text
    job, _ = _finish(client, headers, response.json()["id"])
    return job, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=20)
    parser.add_argument("--replan-time-limit", type=float, default=30)
    args = parser.parse_args()
    print(machine_header())

    folder = Path(tempfile.mkdtemp(prefix="plan-jobs-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    with make_sessionmaker(engine).begin() as db:
        loaded = load_demo(db)
    print(f"demo load: {loaded.technicians} technicians, {loaded.appointments} visits "
          f"in {time.perf_counter() - started:.1f} s")
    engine.dispose()

    settings = Settings(database_url=url, background_jobs=True, job_backend="inprocess",
                        planning_timezone="Europe/London", plan_job_heartbeat_s=0.25,
                        secret_key="benchmark-secret-key-long-enough-0123456789")
    with TestClient(create_app(settings)) as client:
        dispatcher = _login(client, "dispatcher")
        _overhead(client, dispatcher)
        day = loaded.day.isoformat()
        job, wall = _post_plan(client, dispatcher, "/plans",
                               {"date": day, "time_limit_s": args.time_limit})
        kpis = job["kpis"]
        print(f"demo day plan ({args.time_limit:g} s limit): {job['status']}, "
              f"{kpis['assigned']}/{kpis['appointments']} assigned, solver "
              f"{job['plan']['solve_time_s']:.1f} s, request to done {wall:.1f} s, "
              f"{job['progress']['solutions']} improving solutions")
        started = time.perf_counter()
        published = client.post(f"{API}/plans/{job['id']}/publish", headers=dispatcher)
        print(f"publish: {published.json()['scheduled']} visits written in "
              f"{time.perf_counter() - started:.2f} s")
        _replan(client, dispatcher, loaded, day, args.replan_time_limit)


def _overhead(client: TestClient, dispatcher: dict[str, str]) -> None:
    from api.plans.models import PlanJob

    request = json.loads((REPO / "data/samples/day-5x20/request.json").read_text())
    request.setdefault("options", {})["time_limit_s"] = 1
    rows = []
    for _ in range(3):
        with client.app.state.sessionmaker.begin() as db:
            job = PlanJob(kind="daily", params={}, status="queued", request=request,
                          snapshot={}, fingerprint="-", created_by="bench", attempts=0,
                          cancel_requested=False, created_at=datetime.now(UTC))
            db.add(job)
            db.flush()
            job_id = job.id
        client.app.state.plan_backend.submit(job_id)
        done, wall = _finish(client, dispatcher, job_id)
        rows.append(wall - done["plan"]["solve_time_s"])
    print("job overhead (tiny job, submit to done seen by a client, minus solver time): "
          + ", ".join(f"{r:.2f} s" for r in rows))


def _replan(client: TestClient, dispatcher: dict[str, str], loaded, day: str,
            limit: float) -> None:
    integration = {"X-API-Key": loaded.api_key}
    emergency = client.post(f"{API}/appointments", headers=integration, json={
        "location": {"lat": 51.515, "lon": -0.09}, "duration_min": 60, "priority": 1,
        "required_skills": {"electrical": 2},
        "windows": [{"start": f"{day}T08:00:00+00:00", "end": f"{day}T12:00:00+00:00"}]})
    assert emergency.status_code == 201, emergency.text
    job, wall = _post_plan(client, dispatcher, "/plans/replan", {
        "date": day, "now": f"{day}T07:30:00+00:00", "time_limit_s": limit})
    kinds = Counter(
        c["change"] + ("_within_tolerance" if c.get("within_tolerance") else "")
        for c in job["changes"])
    placed = {s["appointment_id"] for r in job["plan"]["routes"] for s in r["stops"]}
    print(f"re-plan from 07:30 with one emergency ({limit:g} s limit): {job['status']}, "
          f"{job['kpis']['assigned']} assigned in {wall:.1f} s, emergency "
          f"{'placed' if str(emergency.json()['id']) in placed else 'NOT placed'}; "
          f"changes: {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
