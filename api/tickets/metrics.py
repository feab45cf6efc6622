"""Help-desk metrics as pandas tables: volume, SLA met %, response and resolution times,
escalations, backlog age and the most requested products.

Each function reads the rows it needs in one query and returns a ``DataFrame``
(one row per group, stable column order), which the routes send as JSON rows
or CSV. Periods filter on ``received_at`` (when the request reached the desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.events import Event
from api.tickets import lifecycle, sla
from api.tickets.models import SlaClock, Ticket
from api.tickets.sla import Stage

BACKLOG_BUCKETS: tuple[tuple[str, float], ...] = (
    ("<1h", 1),
    ("1-4h", 4),
    ("4-24h", 24),
    ("1-3d", 72),
    ("3-7d", 168),
    (">7d", float("inf")),
)
"""Age buckets (upper bound in hours, exclusive) for open tickets."""


class VolumeBy(StrEnum):
    channel = "channel"
    type = "type"
    product = "product"
    tier = "tier"
    priority = "priority"
    status = "status"


_COLUMN = {VolumeBy.type: "request_type"}


class TimeBasis(StrEnum):
    wall = "wall"
    business = "business"


@dataclass(frozen=True)
class Period:
    start: datetime | None = None
    end: datetime | None = None

    def apply(self, statement):  # type: ignore[no-untyped-def]
        if self.start is not None:
            statement = statement.where(Ticket.received_at >= self.start)
        if self.end is not None:
            statement = statement.where(Ticket.received_at < self.end)
        return statement


def _frame(db: Session, statement, columns: list[str]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame(db.execute(statement).all(), columns=columns)


def volume(*, db: Session, by: VolumeBy, period: Period) -> pd.DataFrame:
    """Tickets received per value of ``by``, most first."""
    column = _COLUMN.get(by, by.value)
    frame = _frame(db, period.apply(select(getattr(Ticket, column))), [by.value])
    counts = frame.groupby(by.value).size().rename("tickets").reset_index()
    counts["share_pct"] = (100 * counts["tickets"] / max(len(frame), 1)).round(1)
    return counts.sort_values(["tickets", by.value], ascending=[False, True], kind="stable")


def top_products(*, db: Session, period: Period, limit: int) -> pd.DataFrame:
    return volume(db=db, by=VolumeBy.product, period=period).head(limit)


def sla_by_priority(*, db: Session, period: Period) -> pd.DataFrame:
    """Per priority and clock kind: clocks met, breached and the met %.

    Only decided clocks count (met, or breached whether the ticket is still
    open or not); running, paused and cancelled clocks are reported apart.
    """
    statement = period.apply(
        select(Ticket.priority, SlaClock.kind, SlaClock.stage).join(
            SlaClock, SlaClock.ticket_id == Ticket.id
        )
    )
    frame = _frame(db, statement, ["priority", "kind", "stage"])
    rows = []
    for (level, kind), group in sorted(frame.groupby(["priority", "kind"])):
        stages = group["stage"].value_counts()
        met, breached = int(stages.get(Stage.met, 0)), int(stages.get(Stage.breached, 0))
        decided = met + breached
        rows.append(
            {
                "priority": int(level),
                "kind": kind,
                "met": met,
                "breached": breached,
                "running": int(stages.get(Stage.running, 0) + stages.get(Stage.paused, 0)),
                "cancelled": int(stages.get(Stage.cancelled, 0)),
                "met_pct": round(100 * met / decided, 1) if decided else None,
            }
        )
    columns = ["priority", "kind", "met", "breached", "running", "cancelled", "met_pct"]
    return pd.DataFrame(rows, columns=columns)


def _minutes(frame: pd.DataFrame, end: str, basis: TimeBasis) -> pd.Series:
    if basis == TimeBasis.wall:
        return (frame[end] - frame["received_at"]).dt.total_seconds() / 60
    values = []
    for start, stop, policy in zip(frame["received_at"], frame[end], frame["sla_policy"],
                                   strict=True):  # fmt: skip
        if pd.isna(stop):
            values.append(float("nan"))
            continue
        calendar = sla.calendar_from_json(policy["calendar"])
        values.append(calendar.business_minutes_between(start.to_pydatetime(),
                                                        stop.to_pydatetime()))  # fmt: skip
    return pd.Series(values, index=frame.index, dtype="float64")


def response_and_resolution_times(*, db: Session, period: Period, basis: TimeBasis) -> pd.DataFrame:
    """Mean and 90th percentile minutes from receipt to first response and to resolution.

    One row per priority and an ``all`` row. Resolution counts tickets that are
    resolved or closed now (a reopened ticket counts again once re-resolved).
    ``basis=business`` counts only the minutes inside each ticket's contract hours.
    """
    statement = period.apply(
        select(Ticket.priority, Ticket.status, Ticket.received_at, Ticket.first_response_at,
               Ticket.resolved_at, Ticket.sla_policy)
    )  # fmt: skip
    columns = ["priority", "status", "received_at", "first_response_at", "resolved_at",
               "sla_policy"]  # fmt: skip
    frame = _frame(db, statement, columns)
    for column in ("received_at", "first_response_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    done = frame["status"].isin([lifecycle.Status.resolved, lifecycle.Status.closed])
    frame.loc[~done, "resolved_at"] = pd.NaT
    frame["respond_min"] = _minutes(frame, "first_response_at", basis)
    frame["resolve_min"] = _minutes(frame, "resolved_at", basis)
    groups = [(str(level), g) for level, g in sorted(frame.groupby("priority"))]
    rows = []
    for label, group in [*groups, ("all", frame)]:
        row: dict[str, object] = {"priority": label}
        for name in ("respond", "resolve"):
            values = group[f"{name}_min"].dropna()
            row[f"{name}_count"] = int(len(values))
            row[f"{name}_mean_min"] = round(float(values.mean()), 1) if len(values) else None
            row[f"{name}_p90_min"] = round(float(values.quantile(0.9)), 1) if len(values) else None
        rows.append(row)
    return pd.DataFrame(rows)


def escalations(*, db: Session, period: Period) -> pd.DataFrame:
    """Tier moves (automatic and manual) recorded in the event log, per move."""
    statement = select(Event.at, Event.data).where(
        Event.entity_type == "ticket", Event.action == "tier_escalated"
    )
    if period.start is not None:
        statement = statement.where(Event.at >= period.start)
    if period.end is not None:
        statement = statement.where(Event.at < period.end)
    records = [
        {"from_tier": data.get("from_tier"), "to_tier": data.get("to_tier"),
         "automatic": bool(data.get("automatic"))}
        for _at, data in db.execute(statement).all()
        if data
    ]  # fmt: skip
    frame = pd.DataFrame(records, columns=["from_tier", "to_tier", "automatic"])
    counts = frame.groupby(["from_tier", "to_tier", "automatic"]).size()
    return counts.rename("escalations").reset_index()


def backlog(*, db: Session, now: datetime) -> pd.DataFrame:
    """Open tickets (not resolved, closed or cancelled) by age since receipt, per priority."""
    statement = select(Ticket.priority, Ticket.received_at).where(
        Ticket.status.in_(sorted(lifecycle.OPEN))
    )
    frame = _frame(db, statement, ["priority", "received_at"])
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    ages = (pd.Timestamp(now) - frame["received_at"]).dt.total_seconds() / 3600
    edges = [float("-inf")] + [upper for _label, upper in BACKLOG_BUCKETS]
    labels = [label for label, _upper in BACKLOG_BUCKETS]
    frame["age"] = pd.cut(ages, bins=edges, labels=labels, right=False)
    rows = []
    for label in labels:
        in_bucket = frame[frame["age"] == label]
        row: dict[str, object] = {"age": label, "tickets": int(len(in_bucket))}
        for level in range(1, 6):
            row[f"p{level}"] = int((in_bucket["priority"] == level).sum())
        rows.append(row)
    return pd.DataFrame(rows)
