"""Request and response bodies of the ticket endpoints."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.tickets import lifecycle
from api.tickets.lifecycle import Status
from api.tickets.tiers import TIERS
from api.validation import DbId, Version, text

Level = Annotated[int, Field(ge=1, le=3, description="1 = high, 3 = low")]
PriorityValue = Annotated[int, Field(ge=1, le=5, description="1 = critical, 5 = lowest")]
Reason = text(500, min_length=3)
LongText = Annotated[str, StringConstraints(max_length=20000, pattern=r"^[^\x00]*$")]
"""Free text over several lines; only NUL is refused (PostgreSQL cannot store it)."""


class RequestType(StrEnum):
    """The four MOF request types."""

    information = "information"
    service_fulfilment = "service_fulfilment"
    new_service = "new_service"
    incident = "incident"


class Channel(StrEnum):
    phone = "phone"
    email = "email"
    web = "web"
    walk_in = "walk_in"
    api = "api"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _tier(value: str) -> str:
    if value not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(TIERS)}")
    return value


# ------------------------------------------------------------------- requests


class TicketCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "request_type": "incident",
                    "channel": "phone",
                    "customer_id": 1,
                    "product": "boiler-x200",
                    "summary": "No heating on floor 2",
                    "impact": 2,
                    "urgency": 1,
                    "needs_onsite": True,
                }
            ]
        },
    )

    request_type: RequestType
    channel: Channel
    customer_id: DbId
    product: text(200)
    asset: text(200) | None = None
    summary: text(300)
    description: LongText = ""
    impact: Level
    urgency: Level
    needs_onsite: bool = False
    assignee_id: DbId | None = None
    received_at: AwareDatetime | None = Field(
        default=None,
        description="When the request reached the desk (e-mail received, call taken); "
        "defaults to now. Starts the SLA clocks; must not be in the future.",
    )


class TicketUpdate(Strict):
    """Descriptive fields; status, priority and tier have their own audited endpoints."""

    version: Version
    summary: text(300) | None = None
    description: LongText | None = None
    asset: text(200) | None = None
    request_type: RequestType | None = None
    channel: Channel | None = None
    impact: Level | None = None
    urgency: Level | None = None
    assignee_id: DbId | None = None


class TransitionRequest(Strict):
    to: Status
    version: Version
    note: LongText | None = None


class FirstResponseRequest(Strict):
    version: Version
    note: LongText | None = None


class PriorityOverride(Strict):
    version: Version
    priority: PriorityValue | None = Field(
        description="The new priority, or null to return to the matrix value"
    )
    reason: Reason


class EscalateRequest(Strict):
    version: Version
    reason: Reason
    to_tier: str | None = Field(default=None, description="Default: the next tier up")

    @field_validator("to_tier")
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        return value if value is None else _tier(value)


class MatrixCell(Strict):
    impact: Level
    urgency: Level
    priority: PriorityValue


class PriorityMatrixUpdate(Strict):
    version: Version
    cells: list[MatrixCell] = Field(min_length=9, max_length=9)


class TierLimitUpdate(Strict):
    version: Version
    limit_min: float | None = Field(
        ge=1, le=525600, allow_inf_nan=False, description="Business minutes; null = never"
    )


# ------------------------------------------------------------------- responses


class SlaClockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    stage: str
    started_at: datetime
    target_min: float
    due_at: datetime
    paused_total_min: float
    paused_since: datetime | None
    met_at: datetime | None
    breached_at: datetime | None


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    request_type: str
    channel: str
    customer_id: int
    product: str
    asset: str | None
    summary: str
    description: str
    impact: int
    urgency: int
    priority: int
    priority_overridden: bool
    priority_override_reason: str | None
    status: str
    allowed_transitions: list[str] = Field(
        default_factory=list, description="Next statuses the caller's role may move it to"
    )
    tier: str
    tier_entered_at: datetime
    needs_onsite: bool
    assignee_id: int | None
    entitlement_id: int | None
    entitlement_status: str
    entitlement_message: str | None
    sla_source: str
    sla_timezone: str
    clocks: list[SlaClockRead]
    reopen_count: int
    escalation_count: int
    created_by: str
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    validated_at: datetime | None
    recorded_at: datetime | None
    screened_at: datetime | None
    prioritised_at: datetime | None
    assigned_at: datetime | None
    escalated_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, value: Any) -> Any:
        """Flatten an ORM ticket: policy snapshot fields and the table's next statuses."""
        if not hasattr(value, "sla_policy"):
            return value
        data = {name: getattr(value, name) for name in cls.model_fields if hasattr(value, name)}
        data["allowed_transitions"] = lifecycle.allowed_targets(value.status)
        data["sla_source"] = value.sla_policy["source"]
        data["sla_timezone"] = value.sla_policy["calendar"]["timezone"]
        data["clocks"] = [SlaClockRead.model_validate(c) for c in value.clocks]
        return data

    def for_role(self, role: str) -> TicketRead:
        """Keep only the next statuses ``role`` may move the ticket to."""
        self.allowed_transitions = [
            to for to in self.allowed_transitions if lifecycle.may(role, self.status, to)
        ]
        return self


class PriorityMatrixRead(BaseModel):
    version: int
    cells: list[MatrixCell]


class TierLimitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tier: str
    limit_min: float | None
    version: int
