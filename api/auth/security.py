"""Password hashing (pwdlib, argon2), JWT access tokens and API-key material.

API keys are long random secrets, so a SHA-256 digest is enough to store them
safely and lets every request be checked without a slow KDF; passwords are
low-entropy and get argon2.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash

from api.errors import Unauthorized

JWT_ALGORITHM = "HS256"
API_KEY_SCHEME = "fpk"

_password_hasher = PasswordHash.recommended()  # argon2id


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _password_hasher.verify(password, password_hash)
    except Exception:  # malformed hash in the database: treat as a wrong password
        return False


# A hash of a throw-away password, verified against when the username is unknown
# so that response time does not reveal which usernames exist.
_DUMMY_HASH: str | None = None


def verify_dummy_password(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _DUMMY_HASH)


def create_access_token(*, user_id: int, role: str, secret_key: str, expire_min: int,
                        now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "typ": "access",
              "iat": issued, "exp": issued + timedelta(minutes=expire_min)}
    return jwt.encode(claims, secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, *, secret_key: str) -> dict[str, Any]:
    """The token's claims; 401 when expired, tampered with or not an access token."""
    try:
        claims = jwt.decode(token, secret_key, algorithms=[JWT_ALGORITHM],
                            options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid token") from exc
    if claims.get("typ") != "access" or not str(claims.get("sub", "")).isdigit():
        raise Unauthorized("Invalid token")
    return claims


def generate_api_key() -> tuple[str, str]:
    """A new key ``fpk_<prefix>_<secret>`` and its public prefix."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def api_key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_SCHEME or len(parts[1]) != 8:
        return None
    return parts[1]


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), key_hash)
