"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.auth.models import Role
from api.validation import DbId, Flag, Version

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{3,64}$")]
Password = Annotated[str, Field(min_length=8, max_length=256)]
KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=100)]

# Roles a person can log in with; ``integration`` is for API keys only.
UserRole = Literal["admin", "agent", "dispatcher", "technician"]
KeyRole = Literal["admin", "agent", "dispatcher", "integration"]


class Token(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...", "token_type": "bearer",
        "expires_in": 3600}]})

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class PrincipalRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "user", "id": 3, "name": "dana", "role": "dispatcher", "technician_id": None}]})

    kind: Literal["user", "api_key"]
    id: int
    name: str
    role: Role
    technician_id: int | None = None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "username": "tom.field", "password": "correct horse battery",
        "role": "technician", "technician_id": 4}]})

    username: Username
    password: Password
    role: UserRole
    technician_id: DbId | None = Field(default=None,
                                       description="Required for (and only for) technicians")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": 1, "role": "dispatcher", "active": True}]})

    version: Version
    password: Password | None = None
    role: UserRole | None = None
    technician_id: DbId | None = None
    active: Flag | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 7, "username": "tom.field", "role": "technician", "technician_id": 4,
        "active": True, "version": 1, "created_at": "2026-11-22T09:00:00Z",
        "updated_at": "2026-11-22T09:00:00Z"}]})

    id: int
    username: str
    role: Role
    technician_id: int | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "crm-bridge", "role": "integration"}]})

    name: KeyName
    role: KeyRole = "integration"


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 2, "name": "crm-bridge", "prefix": "3f9a1c0b", "role": "integration",
        "active": True, "created_by": "user:admin", "created_at": "2026-11-22T09:00:00Z",
        "revoked_at": None}]})

    id: int
    name: str
    prefix: str = Field(description="Public part of the key, to recognise it in lists")
    role: Role
    active: bool
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """Returned once, at creation: the only time the full key is shown."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 2, "name": "crm-bridge", "prefix": "3f9a1c0b", "role": "integration",
        "active": True, "created_by": "user:admin", "created_at": "2026-11-22T09:00:00Z",
        "revoked_at": None, "key": "fpk_3f9a1c0b_Zt0..."}]})

    key: str
