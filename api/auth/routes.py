"""HTTP endpoints: token, me, and admin management of users and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import service
from api.auth.dependencies import AdminPrincipal, CurrentPrincipal
from api.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    PrincipalRead,
    Token,
    UserCreate,
    UserRead,
    UserRole,
    UserUpdate,
)
from api.auth.security import create_access_token
from api.concurrency import set_etag
from api.database import SessionDep
from api.errors import Unauthorized, error_responses
from api.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/auth", tags=["auth"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/token", response_model=Token, responses=error_responses(401, 422),
             summary="Log in with username and password (OAuth2 password flow)")
def login(request: Request, db: SessionDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    user = service.authenticate(db=db, username=form.username, password=form.password)
    if user is None:
        raise Unauthorized("Incorrect username or password")
    settings = request.app.state.settings
    token = create_access_token(user_id=user.id, role=user.role,
                                secret_key=settings.secret_key,
                                expire_min=settings.access_token_expire_min)
    return Token(access_token=token, expires_in=settings.access_token_expire_min * 60)


@router.get("/me", response_model=PrincipalRead, responses=error_responses(401),
            summary="Who am I")
def me(principal: CurrentPrincipal) -> PrincipalRead:
    return PrincipalRead(kind=principal.kind, id=principal.id, name=principal.name,
                         role=principal.role, technician_id=principal.technician_id)


@router.get("/users", response_model=Page[UserRead], responses=error_responses(401, 403, 422),
            summary="List users (admin)")
def list_users(db: SessionDep, _admin: AdminPrincipal, page: PageDep,
               role: Annotated[UserRole | None, Query()] = None,
               active: bool | None = None) -> Page[Any]:
    return paginate(db, service.users_query(role=role, active=active), page, UserRead)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED,
             responses=error_responses(401, 403, 409, 422), summary="Create a user (admin)")
def create_user(db: SessionDep, admin: AdminPrincipal, body: UserCreate,
                response: Response) -> Any:
    user = service.create_user(db=db, data=body, actor=admin.actor)
    set_etag(response, user)
    return user


@router.get("/users/{user_id}", response_model=UserRead,
            responses=error_responses(401, 403, 404, 422), summary="Read a user (admin)")
def read_user(db: SessionDep, _admin: AdminPrincipal, user_id: Id, response: Response) -> Any:
    user = service.get_user(db=db, user_id=user_id)
    set_etag(response, user)
    return user


@router.patch("/users/{user_id}", response_model=UserRead,
              responses=error_responses(401, 403, 404, 409, 422),
              summary="Change a user's role, link, password or active flag (admin)")
def update_user(db: SessionDep, admin: AdminPrincipal, user_id: Id, body: UserUpdate,
                response: Response) -> Any:
    user = service.update_user(db=db, user_id=user_id, data=body, actor=admin.actor)
    set_etag(response, user)
    return user


@router.get("/api-keys", response_model=Page[ApiKeyRead],
            responses=error_responses(401, 403, 422), summary="List API keys (admin)")
def list_api_keys(db: SessionDep, _admin: AdminPrincipal, page: PageDep,
                  active: bool | None = None) -> Page[Any]:
    return paginate(db, service.api_keys_query(active=active), page, ApiKeyRead)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             responses=error_responses(401, 403, 422),
             summary="Create an API key (admin); the key is shown only in this response")
def create_api_key(db: SessionDep, admin: AdminPrincipal, body: ApiKeyCreate) -> ApiKeyCreated:
    created = service.create_api_key(db=db, data=body, actor=admin.actor)
    return ApiKeyCreated(**ApiKeyRead.model_validate(created.row).model_dump(), key=created.key)


@router.delete("/api-keys/{api_key_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(401, 403, 404, 422),
               summary="Revoke an API key (admin); the row stays for the audit trail")
def revoke_api_key(db: SessionDep, admin: AdminPrincipal, api_key_id: Id) -> Response:
    service.revoke_api_key(db=db, api_key_id=api_key_id, actor=admin.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
