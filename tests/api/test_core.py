"""The core's promises: one error envelope, paging, events, settings, no import-time DB."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.database import SessionDep, UTCDateTime
from api.settings import DEFAULT_SECRET_KEY, Settings

REPO = Path(__file__).resolve().parents[2]


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET_KEY)
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(environment="production", secret_key="short")
    assert Settings(environment="production", secret_key="p" * 40).environment == "production"


def test_production_refuses_the_default_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert Settings().secret_key == "k" * 40


def test_the_cli_exits_2_on_production_with_the_default_secret(tmp_path):
    env = {**os.environ, "ENVIRONMENT": "production",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    env.pop("SECRET_KEY", None)
    done = subprocess.run([sys.executable, "-m", "api", "migrate"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "SECRET_KEY" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_importing_the_app_opens_no_database(tmp_path):
    """Engines are built in the lifespan only: importing every module creates nothing."""
    target = tmp_path / "must-not-exist.db"
    code = (
        "import sqlalchemy, sqlalchemy.engine\n"
        "def refuse(*a, **k): raise SystemExit('engine built at import')\n"
        "sqlalchemy.create_engine = refuse\n"
        "sqlalchemy.engine.create_engine = refuse\n"
        "import pkgutil, importlib, api\n"
        "import api.app\n"
        "for m in pkgutil.walk_packages(api.__path__, 'api.'):\n"
        "    if '.migrations' not in m.name and m.name != 'api.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "app = api.app.create_app()\n"
        "print('ok', len(app.routes))\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{target}"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
    assert not target.exists()


def test_utc_datetime_refuses_naive_and_normalises_to_utc():
    from datetime import datetime, timedelta, timezone

    column = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1, 8, 0), None)
    local = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    bound = column.process_bind_param(local, None)
    assert bound.utcoffset() == timedelta(0) and bound.hour == 8
    assert column.process_result_value(datetime(2026, 1, 1, 8, 0), None).tzinfo is not None


def test_datetimes_come_back_aware_utc_on_both_backends(client, db, headers_for):
    from api.auth.models import User

    h = headers_for("agent")
    user = db.get(User, h.user_id)
    assert user.created_at.utcoffset().total_seconds() == 0


def test_unknown_route_uses_the_envelope(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not Found", "details": [],
                                  "meta": None}}


def test_method_not_allowed_uses_the_envelope(client):
    r = client.delete("/api/v1/health")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_request_validation_names_the_field(client, admin_headers):
    r = client.post("/api/v1/auth/users", json={"username": "x", "password": "short",
                                                "role": "boss"}, headers=admin_headers)
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "validation_error"
    fields = {d["field"] for d in body["details"]}
    assert {"body.username", "body.password", "body.role"} <= fields


def test_malformed_json_is_422_not_500(client, admin_headers):
    r = client.post("/api/v1/auth/users", content=b"{not json",
                    headers={**admin_headers, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


def test_pagination_bounds_and_totals(client, admin_headers, headers_for):
    for _ in range(3):
        headers_for("agent")
    page = client.get("/api/v1/auth/users", params={"limit": 2, "offset": 1},
                      headers=admin_headers).json()
    assert page["total"] == 4 and page["limit"] == 2 and page["offset"] == 1
    assert len(page["items"]) == 2
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        r = client.get("/api/v1/auth/users", params=bad, headers=admin_headers)
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["field"].startswith("query.")


def test_events_are_append_only(client, db, admin_headers):
    from api.events import Event, record_event

    event = record_event(db, entity_type="thing", entity_id=1, action="created", actor="tests")
    db.commit()
    event.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.commit()
    db.rollback()
    db.delete(db.get(Event, event.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.commit()


def test_events_filter_by_entity(client, db, admin_headers):
    from api.events import record_event

    for entity_id in (1, 1, 2):
        record_event(db, entity_type="thing", entity_id=entity_id, action="touched",
                     actor="tests", data={"n": entity_id})
    db.commit()
    r = client.get("/api/v1/events", params={"entity_type": "thing", "entity_id": "1"},
                   headers=admin_headers)
    assert r.status_code == 200
    assert r.json()["total"] == 2


def test_a_request_that_fails_after_writing_leaves_nothing_behind(client, settings, db):
    """One transaction per request: an error after some writes rolls all of them back."""
    from fastapi import APIRouter
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from api.app import create_app
    from api.entitlements import service
    from api.entitlements.models import Customer
    from api.entitlements.schemas import CustomerCreate
    from api.errors import DomainValidationError
    from api.events import Event

    router = APIRouter()

    @router.post("/probe")
    def probe(db: SessionDep) -> dict:
        service.create_customer(db=db, data=CustomerCreate(name="Half Written"), actor="t")
        raise DomainValidationError("body.late", "fails after the write")

    probe_app = create_app(settings)
    probe_app.include_router(router)
    with TestClient(probe_app) as probe_client:
        r = probe_client.post("/probe")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.late"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Customer)) == 0
    assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_concurrent_writers_cannot_both_win(client, app, admin_headers):
    """Both pass the version check; the second UPDATE matches no row and is refused."""
    import pytest
    from sqlalchemy.orm.exc import StaleDataError

    from api.technicians.models import Technician

    created = client.post("/api/v1/technicians", json={"name": "T", "home_lat": 1.0,
                                                       "home_lon": 2.0},
                          headers=admin_headers).json()
    first, second = app.state.sessionmaker(), app.state.sessionmaker()
    try:
        a = first.get(Technician, created["id"])
        b = second.get(Technician, created["id"])
        assert a.version == b.version == 1
        a.name = "first"
        first.commit()
        b.name = "second"
        with pytest.raises(StaleDataError):
            second.commit()
    finally:
        first.close()
        second.close()
    final = client.get(f"/api/v1/technicians/{created['id']}", headers=admin_headers).json()
    assert final["name"] == "first" and final["version"] == 2


def test_openapi_documents_the_error_envelope(client):
    spec = client.get("/openapi.json").json()
    assert "ErrorEnvelope" in spec["components"]["schemas"]
    op = spec["paths"]["/api/v1/auth/users"]["post"]
    assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorEnvelope")


def test_out_of_range_integers_are_422_on_both_backends(client, settings):
    """A value the database cannot store is the client's fault, whichever backend."""
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth.models import User

    router = APIRouter()

    @router.get("/probe/{number}")
    def probe(number: int, db: SessionDep) -> dict:
        db.get(User, number)
        return {}

    probe_app = create_app(settings)  # its own app: the shared one's OpenAPI stays as is
    probe_app.include_router(router)
    with TestClient(probe_app) as probe_client:
        assert probe_client.get("/probe/5").status_code == 200
        r = probe_client.get(f"/probe/{2**70}")
    assert r.status_code == 422, r.text
    assert "cannot be stored" in r.json()["error"]["message"]


def test_method_not_allowed_lists_every_documented_method(client, admin_headers):
    r = client.put("/api/v1/customers/1", json={}, headers=admin_headers)
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, PATCH"


def test_body_booleans_and_instants_are_not_coerced(client, admin_headers):
    r = client.post("/api/v1/customers", json={"name": "x", "active": 0}, headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.active"
    r = client.get("/api/v1/entitlements", params={"valid_at": "1700000000"},
                   headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "query.valid_at"


@pytest.mark.parametrize("zone", ["Europe", "Mars/Olympus"])
def test_settings_refuse_an_unknown_planning_time_zone(zone):
    with pytest.raises(ValidationError, match="planning_timezone"):
        Settings(planning_timezone=zone)


def test_settings_refuse_an_unknown_geocoder_at_start_up():
    with pytest.raises(ValidationError, match="geocoder"):
        Settings(geocoder="no-such-provider")
    assert Settings(geocoder="nominatim").geocoder == "nominatim"
    assert Settings(geocoder="offline").geocoder == "offline"
