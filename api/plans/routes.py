"""HTTP endpoints of plans: request, poll, list, stop, publish, re-plan (dispatcher, admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from api.auth.dependencies import Principal, Role, require_roles
from api.database import SessionDep
from api.errors import error_responses
from api.pagination import Page, PageDep, paginate
from api.plans import publish as publishing
from api.plans import service
from api.plans.jobs import backend_for
from api.plans.models import PlanJob
from api.plans.schemas import (
    PlanCreate,
    PlanJobRead,
    PlanJobSummary,
    PublishResult,
    ReplanCreate,
)
from optimiser.schema import PlanRequest

router = APIRouter(prefix="/plans", tags=["plans"])

Dispatcher = Annotated[Principal, Depends(require_roles(Role.dispatcher))]
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _accepted(request: Request, response: Response, db: SessionDep, job: PlanJob
              ) -> PlanJob:
    service.submit_after_commit(db, job.id, backend_for(request.app).submit)
    response.headers["Location"] = str(request.url_for("get_plan", plan_id=job.id).path)
    return job


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=PlanJobRead,
             responses=error_responses(401, 403, 422),
             summary="Request a plan for a day (or days): 202 with the job; poll its Location")
def create_plan(data: PlanCreate, request: Request, response: Response, db: SessionDep,
                principal: Dispatcher) -> PlanJob:
    job = service.create_daily(db=db, data=data, settings=request.app.state.settings,
                               actor=principal.actor)
    return _accepted(request, response, db, job)


@router.post("/replan", status_code=status.HTTP_202_ACCEPTED, response_model=PlanJobRead,
             responses=error_responses(401, 403, 422),
             summary="Re-plan the rest of a day from the live state (in-day re-planning)")
def create_replan(data: ReplanCreate, request: Request, response: Response, db: SessionDep,
                  principal: Dispatcher) -> PlanJob:
    job = service.create_replan(db=db, data=data, settings=request.app.state.settings,
                                actor=principal.actor)
    return _accepted(request, response, db, job)


@router.get("", response_model=Page[PlanJobSummary], responses=error_responses(401, 403, 422),
            summary="List plan jobs, newest first")
def list_plans(db: SessionDep, _principal: Dispatcher, page: PageDep,
               kind: Annotated[Literal["daily", "replan"] | None, Query()] = None,
               job_status: Annotated[
                   Literal["queued", "running", "done", "failed", "cancelled"] | None,
                   Query(alias="status")] = None) -> Page[Any]:
    return paginate(db, service.list_statement(kind=kind, status=job_status), page,
                    PlanJobSummary)


@router.get("/{plan_id}", response_model=PlanJobRead, responses=error_responses(401, 403, 404),
            summary="A plan job: status, progress while running, the plan when finished")
def get_plan(plan_id: PlanId, db: SessionDep, _principal: Dispatcher) -> PlanJob:
    return service.get(db=db, job_id=plan_id)


@router.get("/{plan_id}/request", response_model=PlanRequest, response_model_exclude_none=True,
            responses=error_responses(401, 403, 404),
            summary="The exchange-format request the plan was solved from (for outside checks)")
def get_plan_request(plan_id: PlanId, db: SessionDep, _principal: Dispatcher) -> dict:
    return service.get(db=db, job_id=plan_id).request


@router.delete("/{plan_id}", status_code=status.HTTP_202_ACCEPTED, response_model=PlanJobRead,
               responses=error_responses(401, 403, 404),
               summary="Stop a job: it ends 'cancelled' keeping its best plan so far "
                       "(a finished job is returned unchanged)")
def cancel_plan(plan_id: PlanId, db: SessionDep, principal: Dispatcher) -> PlanJob:
    return service.cancel(db=db, job_id=plan_id, actor=principal.actor)


@router.post("/{plan_id}/publish", response_model=PublishResult,
             responses=error_responses(401, 403, 404, 409),
             summary="Write the plan onto the appointments (409 stale_plan if its data changed)")
def publish_plan(plan_id: PlanId, request: Request, db: SessionDep,
                 principal: Dispatcher) -> PublishResult:
    return publishing.publish(db=db, job_id=plan_id, actor=principal,
                              settings=request.app.state.settings)
