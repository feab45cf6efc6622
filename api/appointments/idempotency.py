"""``Idempotency-Key`` for POSTs: a retried request gets the first answer, never a second row.

Semantics (after Stripe and the IETF draft "The Idempotency-Key HTTP Header
Field"):
- Keys are scoped to the caller (user or API key): two callers may use the
  same key independently.
- The first SUCCESSFUL answer (status code, body and the headers that matter)
  is stored in the same transaction as the rows it created, and replayed
  verbatim for every later request with that key (``Idempotent-Replayed: true``).
- The same key with a different request (other body or endpoint) is refused
  with 422 ``idempotency_key_reused`` (the draft's choice; Stripe uses 400/409):
  the client has a bug, and replaying the first answer would hide it.
- A request that fails (validation, conflict) stores nothing, so it can be
  retried with the same key once fixed.
- Concurrency: the unique (principal, key) constraint decides. Two requests
  racing with one key both do their work, but only one insert of the key
  survives; the loser's transaction is rolled back whole and it replays the
  winner's answer. So the idempotent operation must be its request's only write.
Keys are kept indefinitely (``created_at`` is indexed for a later purge job).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.appointments.models import IdempotencyKey
from api.auth.dependencies import Principal
from api.errors import DomainValidationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
HEADER_FIELD = f"header.{HEADER}"
# Response headers worth replaying (the body and status code always are).
KEPT_HEADERS = ("etag", "location")


class IdempotencyKeyReused(DomainValidationError):
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Outcome:
    """What an idempotent operation answered: stored and replayed as is."""

    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, *, replayed: bool) -> JSONResponse:
        headers = dict(self.headers)
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return JSONResponse(status_code=self.status_code, content=self.body, headers=headers)


def principal_scope(principal: Principal) -> str:
    """Who a key belongs to: by row id, so renaming a user or key changes nothing."""
    return f"{principal.kind}:{principal.id}"


def fingerprint(operation: str, payload: Any) -> str:
    """SHA-256 of the operation and its canonical JSON payload (key order and spacing ignored)."""
    canonical = json.dumps({"operation": operation, "payload": payload}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    """The key as sent, or 422 naming the header when it cannot be a key."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainValidationError(
            HEADER_FIELD, f"must be 1 to {MAX_KEY_LENGTH} printable characters")
    return key


def _find(db: Session, scope: str, key: str) -> IdempotencyKey | None:
    return db.scalar(select(IdempotencyKey).where(IdempotencyKey.principal == scope,
                                                  IdempotencyKey.key == key))


def _replay(stored: IdempotencyKey, request_hash: str) -> JSONResponse:
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused(
            HEADER_FIELD,
            f"this key was already used for a different request ({stored.operation}); "
            f"use a new key for a new request")
    outcome = Outcome(status_code=stored.status_code, body=stored.response_body,
                      headers=dict(stored.response_headers or {}))
    return outcome.response(replayed=True)


def run_idempotent(
    db: Session,
    *,
    principal: Principal,
    key: str | None,
    operation: str,
    payload: Any,
    action: Callable[[], Outcome],
) -> JSONResponse:
    """Run ``action`` once per (principal, key); later calls replay its ``Outcome``.

    ``operation`` names the endpoint (e.g. ``POST /appointments``) and ``payload``
    is the validated request body as JSON data; both go into the fingerprint.
    Without a key the action simply runs.
    """
    if key is None:
        return action().response(replayed=False)
    scope = principal_scope(principal)
    check_key(key)
    request_hash = fingerprint(operation, payload)
    stored = _find(db, scope, key)
    if stored is not None:
        return _replay(stored, request_hash)
    outcome = action()
    kept = {name: value for name, value in outcome.headers.items()
            if name.lower() in KEPT_HEADERS}
    db.add(IdempotencyKey(principal=scope, key=key, operation=operation,
                          request_hash=request_hash, status_code=outcome.status_code,
                          response_body=outcome.body, response_headers=kept))
    try:
        db.flush()
    except IntegrityError:
        # Another request with this key committed first (PostgreSQL held our
        # insert until it did). Undo everything this request wrote and answer
        # as that request did.
        db.rollback()
        stored = _find(db, scope, key)
        if stored is None:  # the violation was about something else
            raise
        return _replay(stored, request_hash)
    return outcome.response(replayed=False)
