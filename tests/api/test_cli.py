"""``python -m api`` commands against a fresh SQLite file (in-process for speed)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from api.auth.models import ApiKey, User
from api.auth.security import api_key_matches, verify_password
from api.cli import main
from api.database import make_engine, make_sessionmaker


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_migrate_then_create_user_from_stdin(database, monkeypatch, capsys):
    assert main(["migrate"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["create-user", "--username", "root", "--role", "admin",
                 "--password-stdin"]) == 0
    assert "created user root" in capsys.readouterr().out
    with database() as db:
        user = db.scalar(select(User).where(User.username == "root"))
        assert user.role == "admin" and verify_password("a-long-password", user.password_hash)


def test_create_user_bad_input_exits_2_and_writes_nothing(database, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["create-user", "--username", "tech", "--role", "technician",
                 "--password-stdin"]) == 2
    assert "technician_id" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["create-user", "--username", "x1x", "--role", "agent",
                 "--password-stdin"]) == 2
    assert "password" in capsys.readouterr().err
    with database() as db:
        assert db.scalars(select(User)).all() == []


def test_create_api_key_prints_it_once_and_stores_the_hash(database, capsys):
    assert main(["create-api-key", "--name", "crm"]) == 0
    key = capsys.readouterr().out.strip()
    with database() as db:
        row = db.scalar(select(ApiKey))
        assert row.role == "integration" and api_key_matches(key, row.key_hash)
        assert key not in row.key_hash
