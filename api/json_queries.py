"""Portable SQL conditions on JSON columns (SQLite and PostgreSQL).

Filtering in SQL keeps paging and totals right; the two backends spell JSON
membership differently, so the spelling lives here once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB


def json_array_contains(column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    """``value`` is an element of the JSON array in ``column``."""
    if dialect == "postgresql":
        return cast(column, JSONB).contains(func.jsonb_build_array(cast(literal(value), String)))
    items = func.json_each(column).table_valued("value").alias("items")
    return exists(select(1).select_from(items).where(items.c.value == value))


def json_array_empty(column: Any, dialect: str) -> ColumnElement[bool]:
    """The JSON array in ``column`` has no elements."""
    if dialect == "postgresql":
        return func.jsonb_array_length(cast(column, JSONB)) == 0
    return func.json_array_length(column) == 0
