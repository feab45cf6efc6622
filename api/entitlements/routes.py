"""HTTP endpoints for customers and entitlements (HTTP only; rules live in ``service``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from api.auth.dependencies import Principal, Role, require_roles
from api.concurrency import set_etag
from api.database import SessionDep
from api.entitlements import service
from api.entitlements.schemas import (
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    EntitlementCreate,
    EntitlementRead,
    EntitlementUpdate,
)
from api.errors import error_responses
from api.pagination import Page, PageDep, paginate
from api.validation import Instant

router = APIRouter(tags=["customers and entitlements"])

Reader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher))]
Admin = Annotated[Principal, Depends(require_roles())]
CustomerId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EntitlementId = Annotated[int, Path(ge=1, le=2**31 - 1)]

READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 422)


# ------------------------------------------------------------------- customers


@router.get("/customers", response_model=Page[CustomerRead],
            responses=error_responses(401, 403, 422), summary="List customers")
def list_customers(
    db: SessionDep, _who: Reader, page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Name contains")] = None,
    active: bool | None = None,
) -> Page[Any]:
    return paginate(db, service.customers_query(q=q, active=active), page, CustomerRead)


@router.post("/customers", response_model=CustomerRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(401, 403, 422), summary="Create a customer (admin)")
def create_customer(db: SessionDep, admin: Admin, body: CustomerCreate,
                    response: Response) -> Any:
    customer = service.create_customer(db=db, data=body, actor=admin.actor)
    set_etag(response, customer)
    return customer


@router.get("/customers/{customer_id}", response_model=CustomerRead, responses=READ,
            summary="Read a customer")
def read_customer(db: SessionDep, _who: Reader, customer_id: CustomerId,
                  response: Response) -> Any:
    customer = service.get_customer(db=db, customer_id=customer_id)
    set_etag(response, customer)
    return customer


@router.patch("/customers/{customer_id}", response_model=CustomerRead, responses=WRITE,
              summary="Update a customer (admin); body carries the version you read")
def update_customer(db: SessionDep, admin: Admin, customer_id: CustomerId,
                    body: CustomerUpdate, response: Response) -> Any:
    customer = service.update_customer(db=db, customer_id=customer_id, data=body,
                                       actor=admin.actor)
    set_etag(response, customer)
    return customer


@router.delete("/customers/{customer_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=WRITE,
               summary="Delete a customer without entitlements or tickets (admin)")
def delete_customer(db: SessionDep, admin: Admin, customer_id: CustomerId) -> Response:
    service.delete_customer(db=db, customer_id=customer_id, actor=admin.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- entitlements


@router.get("/entitlements", response_model=Page[EntitlementRead],
            responses=error_responses(401, 403, 422), summary="List entitlements")
def list_entitlements(
    db: SessionDep, _who: Reader, page: PageDep,
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    product: Annotated[str | None, Query(min_length=1, max_length=100,
                                         description="Covers this product "
                                                     "(catch-all contracts included)")] = None,
    tier: Annotated[str | None, Query(max_length=30)] = None,
    active: bool | None = None,
    valid_at: Annotated[Instant | None,
                        Query(description="Valid at this instant (ISO 8601 with offset)")
                        ] = None,
) -> Page[Any]:
    statement = service.entitlements_query(
        dialect=db.get_bind().dialect.name, customer_id=customer_id, product=product,
        tier=tier, active=active, valid_at=valid_at)
    return paginate(db, statement, page, EntitlementRead)


@router.post("/entitlements", response_model=EntitlementRead,
             status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 422),
             summary="Create an entitlement (admin)")
def create_entitlement(db: SessionDep, admin: Admin, body: EntitlementCreate,
                       response: Response) -> Any:
    entitlement = service.create_entitlement(db=db, data=body, actor=admin.actor)
    set_etag(response, entitlement)
    return entitlement


@router.get("/entitlements/{entitlement_id}", response_model=EntitlementRead, responses=READ,
            summary="Read an entitlement")
def read_entitlement(db: SessionDep, _who: Reader, entitlement_id: EntitlementId,
                     response: Response) -> Any:
    entitlement = service.get_entitlement(db=db, entitlement_id=entitlement_id)
    set_etag(response, entitlement)
    return entitlement


@router.patch("/entitlements/{entitlement_id}", response_model=EntitlementRead,
              responses=WRITE,
              summary="Update an entitlement (admin); body carries the version you read")
def update_entitlement(db: SessionDep, admin: Admin, entitlement_id: EntitlementId,
                       body: Annotated[EntitlementUpdate, Body()], response: Response) -> Any:
    entitlement = service.update_entitlement(db=db, entitlement_id=entitlement_id, data=body,
                                             actor=admin.actor)
    set_etag(response, entitlement)
    return entitlement


@router.delete("/entitlements/{entitlement_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=WRITE,
               summary="Delete an entitlement nothing refers to (admin); "
                       "else set active=false")
def delete_entitlement(db: SessionDep, admin: Admin, entitlement_id: EntitlementId) -> Response:
    service.delete_entitlement(db=db, entitlement_id=entitlement_id, actor=admin.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
