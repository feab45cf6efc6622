"""``GET /api/v1/metrics/...``: help-desk metrics as JSON rows or CSV.

CSV when ``?format=csv`` or the ``Accept`` header asks for ``text/csv``
(the query parameter wins). Both carry the same table.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel

from api.auth.dependencies import Principal, Role, require_roles
from api.database import SessionDep, utcnow
from api.errors import DomainValidationError, error_responses
from api.tickets import metrics
from api.tickets.metrics import Period, TimeBasis, VolumeBy

router = APIRouter(prefix="/metrics", tags=["metrics"])

MetricsReader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher))]


class Format(StrEnum):
    json = "json"
    csv = "csv"


class MetricTable(BaseModel):
    metric: str
    generated_at: datetime
    filters: dict[str, Any]
    rows: list[dict[str, Any]]


def period(
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="received_at >=")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="received_at <")] = None,
) -> Period:
    if from_ is not None and to is not None and to <= from_:
        raise DomainValidationError("query.to", "must be after from")
    return Period(start=from_, end=to)


PeriodDep = Annotated[Period, Depends(period)]
FormatQuery = Annotated[Format | None, Query(alias="format", description="json (default) or csv")]

CSV_RESPONSE = {200: {"content": {"text/csv": {}}, "description": "JSON table, or CSV"}}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _respond(
    request: Request, fmt: Format | None, name: str, frame: pd.DataFrame, filters: dict[str, Any]
) -> Any:
    wants_csv = fmt == Format.csv or (
        fmt is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            content=frame.to_csv(index=False),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    rows = [
        {str(k): _clean(v) for k, v in record.items()}
        for record in frame.astype(object).to_dict(orient="records")
    ]
    return MetricTable(metric=name, generated_at=utcnow(), filters=filters, rows=rows)


def _filters(span: Period, **extra: Any) -> dict[str, Any]:
    return {
        "from": span.start.isoformat() if span.start else None,
        "to": span.end.isoformat() if span.end else None,
        **extra,
    }


COMMON = {
    "response_model": MetricTable,
    "responses": {**error_responses(401, 403, 422), **CSV_RESPONSE},
}


@router.get("/volume", summary="Tickets received per channel, type, product, tier, ...", **COMMON)
def volume(
    request: Request,
    db: SessionDep,
    _who: MetricsReader,
    span: PeriodDep,
    by: VolumeBy = VolumeBy.channel,
    fmt: FormatQuery = None,
) -> Any:
    frame = metrics.volume(db=db, by=by, period=span)
    return _respond(request, fmt, f"volume_by_{by.value}", frame, _filters(span, by=by.value))


@router.get("/top-products", summary="Most requested products", **COMMON)
def top_products(
    request: Request,
    db: SessionDep,
    _who: MetricsReader,
    span: PeriodDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
    fmt: FormatQuery = None,
) -> Any:
    frame = metrics.top_products(db=db, period=span, limit=limit)
    return _respond(request, fmt, "top_products", frame, _filters(span, limit=limit))


@router.get("/sla", summary="SLA clocks met and breached, met % per priority and kind", **COMMON)
def sla_met(
    request: Request, db: SessionDep, _who: MetricsReader, span: PeriodDep, fmt: FormatQuery = None
) -> Any:
    frame = metrics.sla_by_priority(db=db, period=span)
    return _respond(request, fmt, "sla_by_priority", frame, _filters(span))


@router.get("/times", summary="Mean and p90 minutes to first response and to resolve", **COMMON)
def times(
    request: Request,
    db: SessionDep,
    _who: MetricsReader,
    span: PeriodDep,
    basis: TimeBasis = TimeBasis.wall,
    fmt: FormatQuery = None,
) -> Any:
    frame = metrics.response_and_resolution_times(db=db, period=span, basis=basis)
    return _respond(request, fmt, "times", frame, _filters(span, basis=basis.value))


@router.get("/escalations", summary="Tier moves (automatic and manual) by tier", **COMMON)
def escalation_counts(
    request: Request, db: SessionDep, _who: MetricsReader, span: PeriodDep, fmt: FormatQuery = None
) -> Any:
    frame = metrics.escalations(db=db, period=span)
    filters = _filters(span, on="event time", total=int(frame["escalations"].sum()))
    return _respond(request, fmt, "escalations", frame, filters)


@router.get("/backlog", summary="Open tickets by age bucket and priority", **COMMON)
def backlog(
    request: Request,
    db: SessionDep,
    _who: MetricsReader,
    at: Annotated[AwareDatetime | None, Query(description="Age reference (default now)")] = None,
    fmt: FormatQuery = None,
) -> Any:
    now = at or utcnow()
    frame = metrics.backlog(db=db, now=now)
    return _respond(request, fmt, "backlog", frame, {"at": now.isoformat()})
