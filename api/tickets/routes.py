"""HTTP endpoints of the tickets domain (and, mounted alongside, the help-desk metrics)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy import select

from api.auth.dependencies import AdminPrincipal, Principal, Role, require_roles
from api.concurrency import set_etag
from api.database import SessionDep
from api.errors import DomainValidationError, error_responses
from api.events import Event, EventRead
from api.pagination import Page, PageDep, paginate
from api.tickets import service
from api.tickets.lifecycle import Status
from api.tickets.metrics_routes import router as metrics_router
from api.tickets.models import Ticket
from api.tickets.schemas import (
    Channel,
    EscalateRequest,
    FirstResponseRequest,
    MatrixCell,
    PriorityMatrixRead,
    PriorityMatrixUpdate,
    PriorityOverride,
    RequestType,
    TicketCreate,
    TicketRead,
    TicketUpdate,
    TierLimitRead,
    TierLimitUpdate,
    TransitionRequest,
)
from api.tickets.tiers import TIERS

tickets = APIRouter(prefix="/tickets", tags=["tickets"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Desk = Annotated[Principal, Depends(require_roles(Role.agent))]
Reader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher))]


def _read(ticket: Ticket, principal: Principal, response: Response) -> TicketRead:
    set_etag(response, ticket)
    return TicketRead.model_validate(ticket).for_role(principal.role.value)


# ------------------------------------------------------- admin data (static paths first)


def _matrix_read(db: Any) -> PriorityMatrixRead:
    cells = service.load_matrix(db=db)
    return PriorityMatrixRead(
        version=service.matrix_version(db=db),
        cells=[MatrixCell(impact=i, urgency=u, priority=p) for (i, u), p in sorted(cells.items())],
    )


@tickets.get(
    "/priority-matrix",
    response_model=PriorityMatrixRead,
    responses=error_responses(401, 403),
    summary="The impact x urgency -> priority matrix",
)
def read_matrix(db: SessionDep, _who: Reader) -> PriorityMatrixRead:
    return _matrix_read(db)


@tickets.put(
    "/priority-matrix",
    response_model=PriorityMatrixRead,
    responses=error_responses(401, 403, 409, 422),
    summary="Replace the priority matrix (admin); existing tickets keep their priority",
)
def replace_matrix(
    db: SessionDep, admin: AdminPrincipal, body: PriorityMatrixUpdate
) -> PriorityMatrixRead:
    cells: dict[tuple[int, int], int] = {}
    for position, cell in enumerate(body.cells):
        key = (cell.impact, cell.urgency)
        if key in cells:
            raise DomainValidationError(f"body.cells.{position}", f"duplicate cell {key}")
        cells[key] = cell.priority
    service.replace_matrix(db=db, cells=cells, version=body.version, actor=admin)
    return _matrix_read(db)


@tickets.get(
    "/tier-limits",
    response_model=list[TierLimitRead],
    responses=error_responses(401, 403),
    summary="Business minutes a ticket may stay in each tier before it moves up",
)
def read_tier_limits(db: SessionDep, _who: Reader) -> list[Any]:
    return service.tier_limit_rows(db=db)


@tickets.put(
    "/tier-limits/{tier}",
    response_model=TierLimitRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Change one tier's limit (admin); null = never escalate from it",
)
def update_tier_limit(
    db: SessionDep,
    admin: AdminPrincipal,
    tier: Annotated[str, Path(pattern="^L[1-4]$")],
    body: TierLimitUpdate,
    response: Response,
) -> Any:
    row = service.update_tier_limit(
        db=db, tier=tier, limit_min=body.limit_min, version=body.version, actor=admin
    )
    set_etag(response, row)
    return row


# ------------------------------------------------------------------------ tickets


@tickets.post(
    "",
    response_model=TicketRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 422),
    summary="Log a ticket (priority from the matrix, entitlement check, SLA clocks started)",
)
def create_ticket(db: SessionDep, who: Desk, body: TicketCreate, response: Response) -> TicketRead:
    ticket = service.create(db=db, data=body, actor=who)
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return _read(ticket, who, response)


@tickets.get(
    "",
    response_model=Page[TicketRead],
    responses=error_responses(401, 403, 422),
    summary="List tickets (newest first); repeated filters mean any of",
)
def list_tickets(
    db: SessionDep,
    who: Reader,
    page: PageDep,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    priority: Annotated[list[Annotated[int, Query(ge=1, le=5)]] | None, Query()] = None,
    tier: Annotated[list[str] | None, Query()] = None,
    customer_id: Annotated[int | None, Query(ge=1)] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    request_type: Annotated[list[RequestType] | None, Query(alias="type")] = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    breached: Annotated[bool | None, Query(description="Has a breached SLA clock")] = None,
) -> Page[Any]:
    for position, value in enumerate(tier or []):
        if value not in TIERS:
            raise DomainValidationError(
                f"query.tier.{position}", f"must be one of {', '.join(TIERS)}"
            )
    statement = service.list_statement(
        status=[s.value for s in status_ or []],
        priority_=priority,
        tier=tier,
        customer_id=customer_id,
        channel=[c.value for c in channel or []],
        request_type=[r.value for r in request_type or []],
        product=product,
        breached=breached,
    )
    result = paginate(db, statement, page, TicketRead)
    for item in result.items:
        item.for_role(who.role.value)
    return result


@tickets.get(
    "/{ticket_id}",
    response_model=TicketRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Read a ticket with its SLA clocks and the moves open to you",
)
def read_ticket(db: SessionDep, who: Reader, ticket_id: Id, response: Response) -> TicketRead:
    return _read(service.get(db=db, ticket_id=ticket_id), who, response)


@tickets.patch(
    "/{ticket_id}",
    response_model=TicketRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Edit descriptive fields (version required; 409 when stale)",
)
def update_ticket(
    db: SessionDep, who: Desk, ticket_id: Id, body: TicketUpdate, response: Response
) -> TicketRead:
    return _read(service.update(db=db, ticket_id=ticket_id, data=body, actor=who), who, response)


@tickets.post(
    "/{ticket_id}/transitions",
    response_model=TicketRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Move the ticket along its lifecycle (409 names the allowed moves)",
)
def transition_ticket(
    db: SessionDep, who: Desk, ticket_id: Id, body: TransitionRequest, response: Response
) -> TicketRead:
    ticket = service.transition(
        db=db, ticket_id=ticket_id, to=body.to, version=body.version, note=body.note, actor=who
    )
    return _read(ticket, who, response)


@tickets.post(
    "/{ticket_id}/first-response",
    response_model=TicketRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Record the first response to the customer (stops the response clock)",
)
def first_response(
    db: SessionDep, who: Desk, ticket_id: Id, body: FirstResponseRequest, response: Response
) -> TicketRead:
    ticket = service.respond(
        db=db, ticket_id=ticket_id, version=body.version, note=body.note, actor=who
    )
    return _read(ticket, who, response)


@tickets.post(
    "/{ticket_id}/priority",
    response_model=TicketRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Override the priority with a reason (audited); null returns to the matrix",
)
def override_priority(
    db: SessionDep, who: Desk, ticket_id: Id, body: PriorityOverride, response: Response
) -> TicketRead:
    ticket = service.override_priority(
        db=db,
        ticket_id=ticket_id,
        version=body.version,
        new_priority=body.priority,
        reason=body.reason,
        actor=who,
    )
    return _read(ticket, who, response)


@tickets.post(
    "/{ticket_id}/escalate",
    response_model=TicketRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Move the ticket up a tier by hand (status escalated where allowed)",
)
def escalate_ticket(
    db: SessionDep, who: Desk, ticket_id: Id, body: EscalateRequest, response: Response
) -> TicketRead:
    ticket = service.escalate(
        db=db,
        ticket_id=ticket_id,
        version=body.version,
        reason=body.reason,
        to_tier=body.to_tier,
        actor=who,
    )
    return _read(ticket, who, response)


@tickets.get(
    "/{ticket_id}/events",
    response_model=Page[EventRead],
    responses=error_responses(401, 403, 404, 422),
    summary="The ticket's event log, oldest first",
)
def ticket_events(db: SessionDep, _who: Reader, ticket_id: Id, page: PageDep) -> Page[Any]:
    service.get(db=db, ticket_id=ticket_id)
    statement = (
        select(Event)
        .where(Event.entity_type == service.ENTITY, Event.entity_id == str(ticket_id))
        .order_by(Event.id)
    )
    return paginate(db, statement, page, EventRead)


router = APIRouter()
router.include_router(tickets)
router.include_router(metrics_router)
