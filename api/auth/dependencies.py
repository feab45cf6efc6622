"""Who is calling, and may they call this route?

``CurrentPrincipal`` resolves a bearer JWT or an ``X-API-Key`` header to a
``Principal``; ``require_roles(...)`` is attached per route. Admin may do
everything, so it passes every ``require_roles`` check without being listed.
The user row is re-read on every request: deactivating a user or changing
their role takes effect immediately, not when their token expires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import select

from api.auth.models import ApiKey, Role, User
from api.auth.security import api_key_matches, api_key_prefix, decode_access_token
from api.database import SessionDep
from api.errors import Forbidden, Unauthorized

TOKEN_URL = "/api/v1/auth/token"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user or an API key."""

    kind: Literal["user", "api_key"]
    id: int
    name: str
    role: Role
    technician_id: int | None = None

    @property
    def username(self) -> str:
        return self.name

    @property
    def actor(self) -> str:
        """How the event log names this caller, e.g. ``user:alice``."""
        return f"{self.kind}:{self.name}"

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.admin or self.role in roles


def _from_token(db: SessionDep, request: Request, token: str) -> Principal:
    claims = decode_access_token(token, secret_key=request.app.state.settings.secret_key)
    user = db.get(User, int(claims["sub"]))
    if user is None or not user.active:
        raise Unauthorized("User is unknown or inactive")
    return Principal(kind="user", id=user.id, name=user.username, role=Role(user.role),
                     technician_id=user.technician_id)


def _from_api_key(db: SessionDep, key: str) -> Principal:
    prefix = api_key_prefix(key)
    row = None if prefix is None else db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or not row.active or not api_key_matches(key, row.key_hash):
        raise Unauthorized("Invalid API key", headers={"WWW-Authenticate": "APIKey"})
    return Principal(kind="api_key", id=row.id, name=row.name, role=Role(row.role))


def get_principal(
    request: Request,
    db: SessionDep,
    token: Annotated[str | None, Security(oauth2_scheme)] = None,
    api_key: Annotated[str | None, Security(api_key_scheme)] = None,
) -> Principal:
    if token:
        return _from_token(db, request, token)
    if api_key:
        return _from_api_key(db, api_key)
    raise Unauthorized()


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """Dependency factory: the caller must have one of ``roles`` (admin always may)."""
    allowed = frozenset(roles)

    def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role != Role.admin and principal.role not in allowed:
            raise Forbidden(f"Role {principal.role.value!r} may not do this")
        return principal

    _check.__name__ = "require_" + "_or_".join(sorted(r.value for r in allowed) or ["admin"])
    return _check


AdminPrincipal = Annotated[Principal, Depends(require_roles())]

__all__ = [
    "AdminPrincipal", "CurrentPrincipal", "Principal", "Role", "TOKEN_URL",
    "get_principal", "require_roles",
]
