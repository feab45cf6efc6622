"""Idempotency-Key on appointment POSTs: one row per key, the first answer replayed.

Acceptance: 100 replays of one POST with one key create exactly one row (both
backends), and concurrent replays from threads do too (PostgreSQL, where the
unique constraint, not luck, decides the race).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.appointments.models import IdempotencyKey
from tests.api.appointment_helpers import BODY, count_appointments

URL = "/api/v1/appointments"


def test_hundred_replays_create_exactly_one_row(client: TestClient, app: FastAPI,
                                                api_key_headers: dict[str, str]) -> None:
    headers = {**api_key_headers, "Idempotency-Key": "order-4711-visit"}
    first = client.post(URL, json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    for _ in range(99):
        again = client.post(URL, json=BODY, headers=headers)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Location"] == first.headers["Location"]
    assert count_appointments(app) == 1
    with app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_replay_matches_on_meaning_not_bytes(client: TestClient, app: FastAPI,
                                             api_key_headers: dict[str, str]) -> None:
    headers = {**api_key_headers, "Idempotency-Key": "k-meaning"}
    first = client.post(URL, json=BODY, headers=headers)
    # Same request with keys reordered and the window written with "Z".
    reordered = dict(reversed(list(BODY.items())))
    reordered["windows"] = [{"end": "2026-11-23T12:00:00Z", "start": "2026-11-23T09:00:00Z"}]
    again = client.post(URL, json=reordered, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert count_appointments(app) == 1


def test_same_key_different_body_is_refused(client: TestClient, app: FastAPI,
                                            api_key_headers: dict[str, str]) -> None:
    headers = {**api_key_headers, "Idempotency-Key": "k-reused"}
    assert client.post(URL, json=BODY, headers=headers).status_code == 201
    other = client.post(URL, json={**BODY, "duration_min": 90}, headers=headers)
    assert other.status_code == 422
    error = other.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["details"][0]["field"] == "header.Idempotency-Key"
    assert count_appointments(app) == 1


def test_keys_belong_to_their_caller(client: TestClient, app: FastAPI,
                                     make_api_key_headers: Any, headers_for: Any) -> None:
    key = {"Idempotency-Key": "shared-key"}
    one = client.post(URL, json=BODY, headers={**make_api_key_headers(), **key})
    two = client.post(URL, json=BODY, headers={**make_api_key_headers(), **key})
    three = client.post(URL, json=BODY, headers={**headers_for("dispatcher"), **key})
    assert {one.status_code, two.status_code, three.status_code} == {201}
    assert len({one.json()["id"], two.json()["id"], three.json()["id"]}) == 3
    assert count_appointments(app) == 3


def test_without_a_key_every_post_creates(client: TestClient, app: FastAPI,
                                          api_key_headers: dict[str, str]) -> None:
    for _ in range(3):
        assert client.post(URL, json=BODY, headers=api_key_headers).status_code == 201
    assert count_appointments(app) == 3


def test_a_failed_request_stores_nothing_and_can_be_retried(
        client: TestClient, app: FastAPI, api_key_headers: dict[str, str]) -> None:
    headers = {**api_key_headers, "Idempotency-Key": "k-retry"}
    bad = client.post(URL, json={**BODY, "pinned_technician_id": 999}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "body.pinned_technician_id"
    fixed = client.post(URL, json=BODY, headers=headers)
    assert fixed.status_code == 201
    assert count_appointments(app) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_unusable_keys_are_refused(client: TestClient, app: FastAPI,
                                   api_key_headers: dict[str, str], key: str) -> None:
    response = client.post(URL, json=BODY, headers={**api_key_headers, "Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "header.Idempotency-Key"
    assert count_appointments(app) == 0


def test_ticket_route_and_import_honour_the_key(client: TestClient, app: FastAPI,
                                                api_key_headers: dict[str, str]) -> None:
    csv_text = "duration_min,lat,lon\n30,51.5,-0.1\n40,51.6,-0.2\n"
    headers = {**api_key_headers, "Idempotency-Key": "import-1", "Content-Type": "text/csv"}
    first = client.post(f"{URL}/import", content=csv_text, headers=headers)
    assert first.status_code == 201, first.text
    # The same file as a multipart upload is the same request.
    again = client.post(f"{URL}/import", files={"file": ("visits.csv", csv_text, "text/csv")},
                        headers={**api_key_headers, "Idempotency-Key": "import-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert count_appointments(app) == 2
    other = client.post(f"{URL}/import", content=csv_text + "50,51.7,-0.3\n", headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_concurrent_replays_create_one_row(client: TestClient, app: FastAPI, backend: str,
                                           api_key_headers: dict[str, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """12 threads send the same keyed POST at once: one row, one answer for all.

    Every request is held after its key look-up (found nothing) until all of
    them got there, so all really race to insert (12: each holds a pooled
    connection meanwhile, and the engine's pool has 5 + 10 overflow). On
    PostgreSQL the losers' key inserts wait for the winner's commit and then
    fail on the unique index; on SQLite the writers queue on the database lock
    and fail the same way.
    """
    from api.appointments import service

    threads = 12
    headers = {**api_key_headers, "Idempotency-Key": "race-1"}
    # Generous timeout: on a loaded 2-core CI machine twelve requests (each verifying
    # an argon2-hashed API key) can take well over a minute to all reach the barrier.
    past_lookup = threading.Barrier(threads, timeout=300)
    create = service.create

    def create_when_all_looked(**kwargs: Any) -> Any:
        past_lookup.wait()
        return create(**kwargs)

    lost_races: list[int] = []
    rollback = Session.rollback

    def counting_rollback(session: Session) -> None:
        lost_races.append(1)  # only the losing path rolls back inside a successful request
        rollback(session)

    monkeypatch.setattr(service, "create", create_when_all_looked)
    monkeypatch.setattr(Session, "rollback", counting_rollback)
    ids_before = _ids_handed_out(app) if backend == "postgres" else 0

    def post(_: int) -> tuple[int, dict[str, Any], bool]:
        response = client.post(URL, json=BODY, headers=headers)
        return (response.status_code, response.json(),
                response.headers.get("Idempotent-Replayed") == "true")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(post, range(threads)))
    assert {status for status, _body, _replayed in results} == {201}, results
    assert len({body["id"] for _status, body, _replayed in results}) == 1
    assert sum(1 for *_rest, replayed in results if not replayed) == 1
    assert count_appointments(app) == 1
    assert len(lost_races) == threads - 1
    if backend == "postgres":
        # Every request inserted its appointment; the losers' rows were rolled back.
        assert _ids_handed_out(app) - ids_before == threads


def _ids_handed_out(app: FastAPI) -> int:
    """How many ids the appointments sequence has given out so far (PostgreSQL)."""
    with app.state.engine.connect() as conn:
        return conn.execute(text(
            "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            "FROM appointments_id_seq")).scalar_one()
