"""Optimistic concurrency: every updatable row carries an integer ``version``.

Read schemas return it (and routes send ``ETag: "<version>"``); update bodies
must carry the version they were based on. ``require_version`` refuses a stale
one with 409 ``stale_version``. The column is also the mapper's
``version_id_col``, so two writers that both pass the check still cannot both
win: the loser's UPDATE matches no row and gets the same 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from api.errors import StaleVersion


class Versioned:
    """Mixin: a ``version`` column that SQLAlchemy increments on every UPDATE."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def require_version(entity: Any, given_version: int | None, *, what: str) -> None:
    """Raise 409 ``stale_version`` unless ``given_version`` is the row's current version."""
    if given_version is None or entity.version != given_version:
        raise StaleVersion(what, current_version=entity.version, given_version=given_version)


def set_etag(response: Response, entity: Any) -> None:
    """Expose the row's version as a strong ETag."""
    response.headers["ETag"] = f'"{entity.version}"'
