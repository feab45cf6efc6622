"""Users and API keys: creation, lookup, update, revocation (keyword-only, no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.auth.models import ApiKey, Role, User
from api.auth.schemas import ApiKeyCreate, UserCreate, UserUpdate
from api.auth.security import (
    generate_api_key,
    hash_api_key,
    hash_password,
    verify_dummy_password,
    verify_password,
)
from api.concurrency import require_version
from api.database import utcnow
from api.errors import Conflict, DomainValidationError, NotFound
from api.events import record_event


def get_user(*, db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def get_user_by_username(*, db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def authenticate(*, db: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None (same timing either way)."""
    user = get_user_by_username(db=db, username=username)
    if user is None:
        verify_dummy_password(password)
        return None
    if not verify_password(password, user.password_hash) or not user.active:
        return None
    return user


def _check_technician_link(db: Session, role: str, technician_id: int | None,
                           field: str) -> None:
    # Imported here: the technicians package depends on auth for its routes.
    from api.technicians.models import Technician

    if role == Role.technician.value:
        if technician_id is None:
            raise DomainValidationError(field, "a technician user needs technician_id")
        if db.get(Technician, technician_id) is None:
            raise DomainValidationError(field, f"technician {technician_id} does not exist")
    elif technician_id is not None:
        raise DomainValidationError(field, f"only technician users link to a technician, "
                                           f"not role {role!r}")


def create_user(*, db: Session, data: UserCreate, actor: str,
                password_hash: str | None = None) -> User:
    """A new user; ``password_hash`` lets callers reuse a precomputed hash (tests, seeds)."""
    if get_user_by_username(db=db, username=data.username) is not None:
        raise Conflict(f"username {data.username!r} is taken",
                       details=[{"field": "body.username", "message": "already taken"}])
    _check_technician_link(db, data.role, data.technician_id, "body.technician_id")
    user = User(username=data.username,
                password_hash=password_hash or hash_password(data.password),
                role=data.role, technician_id=data.technician_id, active=True)
    db.add(user)
    db.flush()
    record_event(db, entity_type="user", entity_id=user.id, action="created", actor=actor,
                 data={"username": user.username, "role": user.role,
                       "technician_id": user.technician_id})
    return user


def update_user(*, db: Session, user_id: int, data: UserUpdate, actor: str) -> User:
    user = get_user(db=db, user_id=user_id)
    require_version(user, data.version, what=f"user {user_id}")
    changes = data.model_dump(exclude_unset=True, exclude={"version", "password"})
    role = changes.get("role", user.role)
    technician_id = changes.get("technician_id", user.technician_id)
    if role != Role.technician.value and "role" in changes and "technician_id" not in changes:
        technician_id = None  # leaving the technician role drops the link
    _check_technician_link(db, role, technician_id, "body.technician_id")
    logged: dict[str, Any] = {}
    for name, value in {**changes, "technician_id": technician_id}.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            logged[name] = value
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        logged["password"] = "changed"
    if logged:
        db.flush()
        record_event(db, entity_type="user", entity_id=user.id, action="updated", actor=actor,
                     data={"changes": logged})
    return user


def users_query(*, role: str | None = None, active: bool | None = None) -> Select[Any]:
    statement = select(User)
    if role is not None:
        statement = statement.where(User.role == role)
    if active is not None:
        statement = statement.where(User.active == active)
    return statement.order_by(User.id)


@dataclass(frozen=True)
class NewApiKey:
    row: ApiKey
    key: str


def create_api_key(*, db: Session, data: ApiKeyCreate, actor: str) -> NewApiKey:
    """A new key; the plain key exists only in the returned object, never in the database."""
    key, prefix = generate_api_key()
    row = ApiKey(name=data.name, prefix=prefix, key_hash=hash_api_key(key), role=data.role,
                 active=True, created_by=actor)
    db.add(row)
    db.flush()
    record_event(db, entity_type="api_key", entity_id=row.id, action="created", actor=actor,
                 data={"name": row.name, "role": row.role, "prefix": prefix})
    return NewApiKey(row=row, key=key)


def get_api_key(*, db: Session, api_key_id: int) -> ApiKey:
    row = db.get(ApiKey, api_key_id)
    if row is None:
        raise NotFound("API key", api_key_id)
    return row


def revoke_api_key(*, db: Session, api_key_id: int, actor: str) -> ApiKey:
    row = get_api_key(db=db, api_key_id=api_key_id)
    if row.active:
        row.active = False
        row.revoked_at = utcnow()
        db.flush()
        record_event(db, entity_type="api_key", entity_id=row.id, action="revoked", actor=actor)
    return row


def api_keys_query(*, active: bool | None = None) -> Select[Any]:
    statement = select(ApiKey)
    if active is not None:
        statement = statement.where(ApiKey.active == active)
    return statement.order_by(ApiKey.id)
