"""Reusable constrained field types for request bodies (one place, every domain).

Strings are bounded to their column sizes and refuse control characters: a
NUL byte cannot be stored in PostgreSQL, and silently differing behaviour
between backends is worse than a clear 422.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
)

from optimiser.schema import known_timezone

_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"


def text(max_length: int, *, min_length: int = 1) -> Any:
    """A single-line string: stripped, ``min_length``..``max_length``, no control chars."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length,
                                            max_length=max_length, pattern=_NO_CONTROL)]


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$"),
    AfterValidator(known_timezone),
    Field(examples=["Europe/London"]),
]
# Numbers in bodies are strict: a JSON number, never a numeric string or a boolean.
Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
Version = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1,
                               description="The version you read (ETag); 409 if stale")]
DbId = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]
Level = Annotated[int, Field(strict=True, ge=1, le=5, description="1 (basic) .. 5 (expert)")]
Email = Annotated[str, StringConstraints(max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")]


def _iso_only(value: Any) -> Any:
    """Refuse numbers and numeric strings: pydantic would read them as Unix timestamps."""
    if isinstance(value, bool | int | float) or (
            isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()):
        raise ValueError("expected an ISO 8601 date-time with a UTC offset, "
                         "e.g. 2026-11-23T08:00:00+00:00")
    return value


# An instant in request bodies and queries: ISO 8601 with an offset, nothing else.
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
# A JSON boolean, not 0/1/"yes" (lax coercion hides client bugs).
Flag = StrictBool
