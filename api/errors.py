"""Typed domain errors and the ONE error envelope every failure is returned in.

Services raise ``NotFound``, ``Conflict``, ``StaleVersion``, ``InvalidTransition``,
``Forbidden``, ``Unauthorized`` or ``DomainValidationError``; handlers here turn
them, FastAPI's request validation errors and plain ``HTTPException`` into

    {"error": {"code": "...", "message": "...", "details": [{"field": ..., "message": ...}]}}

so clients parse one shape. Unexpected exceptions become a 500 in the same
shape without a traceback (it is logged server-side).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- envelope models


class ErrorDetail(BaseModel):
    field: str | None = Field(default=None, examples=["body.priority"])
    message: str = Field(examples=["Input should be less than or equal to 5"])


class ErrorBody(BaseModel):
    code: str = Field(examples=["validation_error"])
    message: str = Field(examples=["The request is invalid"])
    details: list[ErrorDetail] = Field(default_factory=list)
    # Extra, machine-readable context (current version, allowed transitions, ...).
    meta: dict[str, Any] | None = None


class ErrorEnvelope(BaseModel):
    """The one shape of every error response."""

    error: ErrorBody


def _response(status: int, description: str) -> dict[str, Any]:
    return {"model": ErrorEnvelope, "description": description}


# Reusable `responses=` fragments for routes (OpenAPI documents the envelope).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _response(401, "Missing or invalid credentials"),
    403: _response(403, "Authenticated but not allowed"),
    404: _response(404, "Not found (or not visible to you)"),
    409: _response(409, "Conflict: stale version, duplicate or invalid transition"),
    422: _response(422, "Invalid input; details name each field and why"),
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The envelope documented for the given status codes (default: all of them)."""
    chosen = codes or tuple(c for c in ERROR_RESPONSES if isinstance(c, int))
    return {code: ERROR_RESPONSES.get(code) or _response(code, _describe(code))
            for code in chosen}


def _describe(code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


# ------------------------------------------------------------------- domain errors


class ApiError(Exception):
    """Base of the typed errors; carries everything the envelope needs."""

    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: Sequence[ErrorDetail | dict[str, Any]] = (),
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = [d if isinstance(d, ErrorDetail) else ErrorDetail(**d) for d in details]
        self.meta = meta
        self.headers = headers

    def envelope(self) -> ErrorEnvelope:
        return ErrorEnvelope(
            error=ErrorBody(code=self.code, message=self.message, details=self.details,
                            meta=self.meta)
        )


class NotFound(ApiError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str, identifier: Any = None, **kwargs: Any) -> None:
        message = f"{what} {identifier} not found" if identifier is not None \
            else f"{what} not found"
        super().__init__(message, **kwargs)


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class StaleVersion(Conflict):
    """The client edited an old copy: it must re-read and retry."""

    code = "stale_version"

    def __init__(self, what: str, *, current_version: int, given_version: int | None) -> None:
        super().__init__(
            f"{what} was changed by someone else: current version is {current_version}, "
            f"you sent {given_version}",
            details=[ErrorDetail(field="body.version",
                                 message=f"stale; current version is {current_version}")],
            meta={"current_version": current_version},
            headers={"ETag": f'"{current_version}"'},
        )
        self.current_version = current_version


class InvalidTransition(Conflict):
    """A lifecycle move the transition table does not allow from the current state."""

    code = "invalid_transition"

    def __init__(self, what: str, *, current: str, requested: str,
                 allowed: Sequence[str]) -> None:
        allowed_list = sorted(allowed)
        super().__init__(
            f"{what} cannot go from {current!r} to {requested!r}; allowed: "
            f"{', '.join(allowed_list) or 'none'}",
            meta={"current": current, "requested": requested, "allowed": allowed_list},
        )
        self.allowed = allowed_list


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"

    def __init__(self, message: str = "You are not allowed to do this", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str = "Not authenticated", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class DomainValidationError(ApiError):
    """Input that is well-formed but breaks a business rule; names the field and why."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, why: str, **kwargs: Any) -> None:
        super().__init__(f"{field}: {why}",
                         details=[ErrorDetail(field=field, message=why)], **kwargs)
        self.field = field
        self.why = why


# ------------------------------------------------------------------------ handlers

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
    429: "too_many_requests",
}


def _json(status: int, envelope: ErrorEnvelope, headers: dict[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse(status_code=status, content=envelope.model_dump(mode="json"),
                        headers=headers)


def _field_path(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _json(exc.status_code, exc.envelope(), exc.headers)


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        ErrorDetail(field=_field_path(err.get("loc", ())), message=str(err.get("msg", "")))
        for err in exc.errors()
    ]
    body = ErrorBody(code="validation_error", message="The request is invalid", details=details)
    return _json(422, ErrorEnvelope(error=body))


def _allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI documents for this path (Starlette lists only the first
    route's methods when one path has a route per method)."""
    index = getattr(request.app.state, "allow_index", None)
    if index is None:
        index = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            methods = sorted(m.upper() for m in operations if m.upper() in _HTTP_METHODS)
            index.append((re.compile(f"^{pattern}$"), methods))
        request.app.state.allow_index = index
    methods = sorted({m for pattern, ms in index if pattern.match(request.url.path) for m in ms})
    return ", ".join(methods) if methods else None


_HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error" if exc.status_code < 500 else "internal_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = allowed
    return _json(exc.status_code, ErrorEnvelope(error=ErrorBody(code=code, message=message)),
                 headers or None)


async def _stale_data(_request: Request, exc: Exception) -> JSONResponse:
    # Two writers passed the version check at the same time; the loser's UPDATE
    # matched no row. Same answer as a stale version in the body.
    body = ErrorBody(code="stale_version",
                     message="The record was changed by someone else; re-read and retry")
    return _json(409, ErrorEnvelope(error=body))


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    # Services check uniqueness and references first and raise typed errors; this
    # only catches the race where two writers insert the same key at once.
    log.warning("integrity error reached the handler: %s", exc)
    body = ErrorBody(code="conflict",
                     message="The change conflicts with existing data (duplicate or reference)")
    return _json(409, ErrorEnvelope(error=body))


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    # A value the database cannot store (out of range, NUL byte, too long) that
    # slipped past the request schema: the request is at fault, not the server.
    log.warning("data error reached the handler: %s", exc)
    body = ErrorBody(code="validation_error",
                     message="A value cannot be stored (out of range, too long or invalid "
                             "characters)")
    return _json(422, ErrorEnvelope(error=body))


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    # SQLite's driver refuses integers beyond 64 bits with OverflowError where
    # PostgreSQL raises a DataError; answer both the same way. Any other
    # overflow is a server bug and stays a 500.
    if "too large to convert to SQLite INTEGER" in str(exc):
        return await _data_error(request, exc)
    return await _unexpected(request, exc)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    body = ErrorBody(code="internal_error", message="Internal server error")
    return _json(500, ErrorEnvelope(error=body))


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the envelope."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(Exception, _unexpected)
