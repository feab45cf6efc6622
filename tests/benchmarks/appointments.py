"""Appointments API figures: idempotent replays and bulk CSV import, SQLite and PostgreSQL.

Runs the real app in process (TestClient, migrations applied) on a fresh
SQLite file and a fresh PostgreSQL database, and prints:
- create: mean latency of a first POST with an Idempotency-Key, and of a replay;
- import: wall time for files of N rows (coordinates, then addresses geocoded by
  the offline gazetteer, which also exercises the geocode cache).

    .venv/bin/python tests/benchmarks/appointments.py
    .venv/bin/python tests/benchmarks/appointments.py --rows 1000,5000 --backends sqlite
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from api.appointments.gazetteer import LONDON
from api.auth import service as auth_service
from api.auth.schemas import ApiKeyCreate
from api.settings import Settings

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BODY = {"location": {"lat": 51.52, "lon": -0.10}, "duration_min": 45,
        "required_skills": {"hvac": 2}, "priority": 2,
        "windows": [{"start": "2026-11-23T09:00:00+00:00", "end": "2026-11-23T12:00:00+00:00"}]}


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    name = f"fieldplan_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def csv_rows(count: int, *, addresses: bool) -> str:
    lines = ["duration_min,lat,lon,address,windows,priority"]
    window = "2026-11-23T09:00:00+00:00/2026-11-23T12:00:00+00:00"
    for i in range(count):
        if addresses:
            address = LONDON[i % len(LONDON)][0].replace('"', "")
            lines.append(f'{30 + i % 60},,,"{address}",{window},{1 + i % 5}')
        else:
            lines.append(f"{30 + i % 60},{51.3 + (i % 50) / 100},{-0.4 + (i % 70) / 100},,"
                         f"{window},{1 + i % 5}")
    return "\n".join(lines) + "\n"


def run(backend: str, rows: list[int], replays: int) -> None:
    with database(backend) as url:
        settings = Settings(database_url=url, secret_key="x" * 40, background_jobs=False,
                            geocoder="offline")
        app = create_app(settings)
        with TestClient(app) as client:
            with app.state.sessionmaker.begin() as session:
                key = auth_service.create_api_key(
                    db=session, data=ApiKeyCreate(name="bench", role="integration"),
                    actor="bench").key
            headers = {"X-API-Key": key}
            firsts, again = [], []
            for i in range(replays):
                h = {**headers, "Idempotency-Key": f"bench-{i}"}
                start = time.perf_counter()
                assert client.post("/api/v1/appointments", json=BODY, headers=h).status_code == 201
                firsts.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert client.post("/api/v1/appointments", json=BODY, headers=h).status_code == 201
                again.append(time.perf_counter() - start)
            print(f"{backend:8} create   first POST {statistics.mean(firsts) * 1000:6.1f} ms  "
                  f"replay {statistics.mean(again) * 1000:6.1f} ms  (mean of {replays})")
            for count in rows:
                for addresses in (False, True):
                    text = csv_rows(count, addresses=addresses)
                    start = time.perf_counter()
                    response = client.post("/api/v1/appointments/import", content=text,
                                           headers={**headers, "Content-Type": "text/csv"})
                    elapsed = time.perf_counter() - start
                    assert response.status_code == 201, response.text[:500]
                    kind = "addresses" if addresses else "lat/lon"
                    print(f"{backend:8} import   {count:6d} rows ({kind:9}) {elapsed:6.2f} s  "
                          f"{count / elapsed:8.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="1000,5000")
    parser.add_argument("--replays", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    rows = [int(r) for r in args.rows.split(",")]
    for backend in args.backends.split(","):
        run(backend, rows, args.replays)


if __name__ == "__main__":
    main()
