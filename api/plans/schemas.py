"""Request and response bodies of the plan endpoints.

A finished job returns the plan in the exchange format
(``shared/spec/plan-format.md``): routes, unassigned appointments with their
reasons, KPIs. Exchange ids are the database ids as strings (appointment
``"12"`` is ``/api/v1/appointments/12``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from optimiser.schema import Plan

MAX_TIME_LIMIT_S = 3600
MAX_DAYS = 14


class PlanCreate(BaseModel):
    """Plan ``days`` days from ``date`` (in ``settings.planning_timezone``)."""

    model_config = ConfigDict(extra="forbid")

    date: date
    territory: str | None = Field(default=None, min_length=1, max_length=100,
                                  description="Only technicians and appointments of this "
                                              "territory (technicians without territories "
                                              "count as covering it).")
    days: int = Field(default=1, ge=1, le=MAX_DAYS)
    time_limit_s: float | None = Field(default=None, gt=0, le=MAX_TIME_LIMIT_S,
                                       description="Search budget; default "
                                                   "settings.plan_time_limit_s.")
    seed: int | None = Field(default=None, ge=0, description="Solver seed (default 0).")


class ReplanCreate(BaseModel):
    """Re-plan the rest of ``date`` from the live state at ``now``."""

    model_config = ConfigDict(extra="forbid")

    date: date
    territory: str | None = Field(default=None, min_length=1, max_length=100)
    now: AwareDatetime | None = Field(default=None,
                                      description="The moment to re-plan from (default: the "
                                                  "current time); must carry an offset.")
    time_limit_s: float | None = Field(default=None, gt=0, le=MAX_TIME_LIMIT_S)
    seed: int | None = Field(default=None, ge=0)
    move_cost_min: float | None = Field(default=None, ge=0,
                                        description="Cost of giving a published visit to "
                                                    "another technician (travel minutes).")
    shift_tolerance_min: float | None = Field(default=None, ge=0,
                                              description="How far a published visit may "
                                                          "move in time for free (minutes).")


class Progress(BaseModel):
    elapsed_s: float | None = None
    objective: float | None = None
    assigned: int | None = None
    solutions: int | None = None


class PlanJobSummary(BaseModel):
    """One job in a list: no plan body."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    params: dict[str, Any]
    progress: Progress | None = None
    kpis: dict[str, Any] | None = None
    error: str | None = None
    attempts: int
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool
    published_at: datetime | None = None
    published_by: str | None = None


class PlanJobRead(PlanJobSummary):
    """A job with its result: the plan (exchange format), violations, re-plan changes."""

    plan: Plan | None = None
    violations: list[dict[str, Any]] | None = None
    changes: list[dict[str, Any]] | None = Field(
        default=None, description="Re-plans: appointments reassigned, shifted, unassigned or "
                                  "inserted compared with the published plan (from/to).")
    fingerprint: str
    heartbeat_at: datetime | None = None


class PublishedVisit(BaseModel):
    appointment_id: int
    status: str
    technician_id: int | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None


class PublishResult(BaseModel):
    plan_id: int
    published_at: datetime
    scheduled: int = Field(description="Visits written as scheduled.")
    dispatched: int = Field(description="Visits written as dispatched (today's, see rule).")
    unscheduled: int = Field(description="Previously planned visits this plan leaves out.")
    visits: list[PublishedVisit]
