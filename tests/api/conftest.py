"""Shared fixtures for the API tests: both database backends, an app, a client, auth.

Every test that uses ``client`` (or ``app``/``db``) runs twice: on a SQLite
file and on the local PostgreSQL (marked ``postgres``; deselect with
``-m "not postgres"``). Each pytest process (and each xdist worker) gets its
own SQLite file and its own freshly created PostgreSQL DATABASE, dropped at the
end, so parallel workers and other people's test runs never collide. The app
(and its migrations) is built once per backend per process; every test starts
from empty tables.

Auth: ``headers_for("dispatcher")`` returns bearer headers for a fresh user of
that role (a technician user is linked to a fresh technician row unless you
pass ``technician_id=``); ``api_key_headers`` is an ``X-API-Key`` header for a
fresh integration key.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.app import create_app
from api.auth.models import Role, User
from api.auth.schemas import ApiKeyCreate
from api.auth.security import create_access_token, hash_password
from api.settings import Settings

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TEST_PASSWORD = "test-password-123"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


# ------------------------------------------------------------------ databases


def _admin_conninfo() -> str:
    url = make_url(POSTGRES_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this process and backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'api.db'}"
        return
    name = f"fieldplan_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_test_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url, "secret_key": TEST_SECRET,
        "environment": "development", "background_jobs": False,
        "geocoder": "offline", "job_backend": "inprocess",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_test_settings(database_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def _session_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:  # runs the lifespan: engine + migrations
        yield client


_table_names: dict[str, list[str]] = {}


def _empty_all_tables(engine: Engine) -> None:
    """Delete every row (foreign-key checks off for the purpose; DELETE beats TRUNCATE
    by far on tables this small)."""
    key = str(engine.url)
    if key not in _table_names:
        tables = MetaData()
        tables.reflect(bind=engine)
        _table_names[key] = [t.name for t in reversed(tables.sorted_tables)
                             if t.name != "alembic_version"]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                for name in _table_names[key]:
                    conn.execute(text(f'DELETE FROM "{name}"'))
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET session_replication_role = DEFAULT"))
                conn.commit()
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


@pytest.fixture
def client(_session_client: TestClient, app: FastAPI) -> TestClient:
    """The app's TestClient, on empty tables. Server errors raise in the test."""
    _empty_all_tables(app.state.engine)
    return _session_client


@pytest.fixture
def make_client(database_url: str, client: TestClient) -> Iterator[Callable[..., TestClient]]:
    """Another app on the same database with some settings changed (lifespan runs)."""
    opened: list[TestClient] = []

    def _make(**overrides: Any) -> TestClient:
        extra = TestClient(create_app(make_test_settings(database_url, **overrides)))
        extra.__enter__()
        opened.append(extra)
        return extra

    yield _make
    for extra in opened:
        extra.__exit__(None, None, None)


@pytest.fixture
def db(client: TestClient, app: FastAPI) -> Iterator[Session]:
    """A session on the test database for setup and checks; call ``db.commit()`` yourself."""
    session: Session = app.state.sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


# ---------------------------------------------------------------------- auth


class AuthHeaders(dict):
    """Request headers, plus who they authenticate (``user_id``, ``technician_id``)."""

    user_id: int
    username: str
    role: str
    technician_id: int | None


_usernames = itertools.count(1)
_password_hash_cache: list[str] = []


def _password_hash() -> str:
    # argon2 is slow on purpose; hash the shared test password once per process.
    if not _password_hash_cache:
        _password_hash_cache.append(hash_password(TEST_PASSWORD))
    return _password_hash_cache[0]


def create_technician_row(session: Session, **fields: Any) -> int:
    """A minimal technician (for linking technician users); returns its id."""
    from api.technicians.models import Technician

    values: dict[str, Any] = {"name": "Test Technician", "home_lat": 51.5, "home_lon": -0.12,
                              "skills": {}, "territories": []}
    values.update(fields)
    technician = Technician(**values)
    session.add(technician)
    session.flush()
    return technician.id


@pytest.fixture
def headers_for(client: TestClient, app: FastAPI) -> Callable[..., AuthHeaders]:
    """``headers_for(role, technician_id=None)``: bearer headers for a fresh user."""

    def _headers(role: str | Role, *, technician_id: int | None = None) -> AuthHeaders:
        role = Role(role)
        if role == Role.integration:
            raise ValueError("integration is an API-key role: use api_key_headers")
        settings: Settings = app.state.settings
        with app.state.sessionmaker.begin() as session:
            if role == Role.technician and technician_id is None:
                technician_id = create_technician_row(session)
            user = User(username=f"{role.value}-{next(_usernames)}-{uuid.uuid4().hex[:6]}",
                        password_hash=_password_hash(), role=role.value,
                        technician_id=technician_id if role == Role.technician else None,
                        active=True)
            session.add(user)
            session.flush()
            user_id, username = user.id, user.username
        token = create_access_token(user_id=user_id, role=role.value,
                                    secret_key=settings.secret_key,
                                    expire_min=settings.access_token_expire_min)
        headers = AuthHeaders(Authorization=f"Bearer {token}")
        headers.user_id, headers.username, headers.role = user_id, username, role.value
        headers.technician_id = technician_id if role == Role.technician else None
        return headers

    return _headers


@pytest.fixture
def admin_headers(headers_for: Callable[..., AuthHeaders]) -> AuthHeaders:
    return headers_for("admin")


@pytest.fixture
def make_api_key_headers(client: TestClient, app: FastAPI) -> Callable[..., dict[str, str]]:
    """``make_api_key_headers(role="integration")``: ``X-API-Key`` headers for a fresh key."""
    from api.auth import service

    def _make(role: str = "integration") -> dict[str, str]:
        with app.state.sessionmaker.begin() as session:
            created = service.create_api_key(
                db=session, data=ApiKeyCreate(name=f"test-{uuid.uuid4().hex[:8]}", role=role),
                actor="tests")
        return {"X-API-Key": created.key}

    return _make


@pytest.fixture
def api_key_headers(make_api_key_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key_headers()
