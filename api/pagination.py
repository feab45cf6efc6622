"""Paged list responses: ``{"items": [...], "total": n, "limit": l, "offset": o}``.

Every list endpoint takes ``PageDep`` and returns ``Page[ReadSchema]`` built by
``paginate`` so totals, ordering and bounds work the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageParams:
    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-500)")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="Rows to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def paginate(db: Session, statement: Select[Any], params: PageParams,
             schema: type[BaseModel]) -> Page[Any]:
    """Run ``statement`` (which must already be ordered) for one page plus the total."""
    total = db.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows: Sequence[Any] = db.scalars(statement.limit(params.limit).offset(params.offset)).all()
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in rows],
        total=total or 0, limit=params.limit, offset=params.offset,
    )
