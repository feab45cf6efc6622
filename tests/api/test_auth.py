"""Login, tokens, API keys, user management and the stored secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.auth.models import ApiKey, User
from api.auth.security import create_access_token
from tests.api.conftest import TEST_PASSWORD, TEST_SECRET


def _create_user(client, admin, **body):
    payload = {"username": "alice", "password": "s3cret-password", "role": "agent", **body}
    return client.post("/api/v1/auth/users", json=payload, headers=admin)


def test_password_login_returns_a_working_bearer_token(client, admin_headers):
    assert _create_user(client, admin_headers).status_code == 201
    r = client.post("/api/v1/auth/token",
                    data={"username": "alice", "password": "s3cret-password"})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() | {"id": 0} == {"kind": "user", "id": 0, "name": "alice", "role": "agent",
                                    "technician_id": None}


def test_wrong_password_and_unknown_user_get_the_same_401(client, admin_headers):
    _create_user(client, admin_headers)
    wrong = client.post("/api/v1/auth/token", data={"username": "alice", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "bob", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "unauthorized"


def test_passwords_are_stored_as_argon2_hashes(client, admin_headers, db):
    _create_user(client, admin_headers)
    stored = db.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2id$")
    assert "s3cret-password" not in stored


def test_no_credentials_is_401_with_envelope(client):
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthorized"


def test_tampered_expired_and_foreign_tokens_are_refused(client, headers_for, app):
    h = headers_for("agent")
    good = h["Authorization"].removeprefix("Bearer ")
    expired = create_access_token(user_id=h.user_id, role="agent", secret_key=TEST_SECRET,
                                  expire_min=1, now=datetime.now(UTC) - timedelta(hours=1))
    foreign = create_access_token(user_id=h.user_id, role="admin",
                                  secret_key="another-secret-another-secret-0000", expire_min=5)
    for token in (good[:-2] + "xx", expired, foreign, "not-a-jwt"):
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token


def test_deactivated_user_is_refused_at_once(client, admin_headers, headers_for):
    h = headers_for("agent")
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200
    r = client.patch(f"/api/v1/auth/users/{h.user_id}", json={"version": 1, "active": False},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_role_change_applies_to_existing_tokens(client, admin_headers, headers_for):
    h = headers_for("agent")
    client.patch(f"/api/v1/auth/users/{h.user_id}", json={"version": 1, "role": "admin"},
                 headers=admin_headers)
    assert client.get("/api/v1/auth/users", headers=h).status_code == 200


def test_api_key_is_shown_once_stored_hashed_and_revocable(client, admin_headers, db):
    r = client.post("/api/v1/auth/api-keys", json={"name": "crm"}, headers=admin_headers)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert created["role"] == "integration" and key.startswith(f"fpk_{created['prefix']}_")
    row = db.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
    assert key not in row.key_hash and len(row.key_hash) == 64
    listed = client.get("/api/v1/auth/api-keys", headers=admin_headers).json()["items"]
    assert all("key" not in item for item in listed)

    me = client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert me.json()["kind"] == "api_key" and me.json()["role"] == "integration"
    assert client.delete(f"/api/v1/auth/api-keys/{created['id']}",
                         headers=admin_headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers={"X-API-Key": key}).status_code == 401


def test_malformed_and_guessed_api_keys_are_401(client, api_key_headers):
    key = api_key_headers["X-API-Key"]
    for bad in ("", "garbage", key[:-1] + ("A" if key[-1] != "A" else "B"), "fpk_zz_zz"):
        r = client.get("/api/v1/auth/me", headers={"X-API-Key": bad})
        assert r.status_code == 401, bad


def test_technician_user_needs_an_existing_technician(client, admin_headers, db):
    r = _create_user(client, admin_headers, role="technician")
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "body.technician_id"
    r = _create_user(client, admin_headers, role="technician", technician_id=999999)
    assert r.status_code == 422
    r = _create_user(client, admin_headers, role="agent", technician_id=1)
    assert r.status_code == 422
    assert db.scalar(select(User).where(User.username == "alice")) is None


def test_duplicate_username_is_409(client, admin_headers):
    assert _create_user(client, admin_headers).status_code == 201
    r = _create_user(client, admin_headers)
    assert r.status_code == 409
    assert r.json()["error"]["details"][0]["field"] == "body.username"


def test_user_update_with_stale_version_is_409_and_changes_nothing(client, admin_headers):
    user = _create_user(client, admin_headers).json()
    url = f"/api/v1/auth/users/{user['id']}"
    first = client.patch(url, json={"version": 1, "role": "dispatcher"}, headers=admin_headers)
    assert first.status_code == 200 and first.json()["version"] == 2
    assert first.headers["etag"] == '"2"'
    stale = client.patch(url, json={"version": 1, "role": "admin"}, headers=admin_headers)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_version"
    assert stale.json()["error"]["meta"] == {"current_version": 2}
    assert client.get(url, headers=admin_headers).json()["role"] == "dispatcher"


def test_user_changes_are_in_the_event_log(client, admin_headers):
    user = _create_user(client, admin_headers).json()
    client.patch(f"/api/v1/auth/users/{user['id']}", json={"version": 1, "password": "x" * 12},
                 headers=admin_headers)
    events = client.get("/api/v1/events", params={"entity_type": "user",
                                                  "entity_id": str(user["id"])},
                        headers=admin_headers).json()
    assert [e["action"] for e in events["items"]] == ["updated", "created"]
    assert events["items"][0]["data"] == {"changes": {"password": "changed"}}
    assert events["items"][1]["actor"] == f"user:{admin_headers.username}"


def test_test_password_is_the_one_fixtures_use(client, headers_for):
    h = headers_for("dispatcher")
    r = client.post("/api/v1/auth/token", data={"username": h.username,
                                                "password": TEST_PASSWORD})
    assert r.status_code == 200
