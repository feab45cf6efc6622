"""HTTP endpoints of the appointments domain (HTTP only: rules live in ``service``).

Who may do what (the README's "Roles and access" table lists every route):
- create: dispatcher, integration (API key), agent (from a ticket only), admin;
- read and list: every role, a technician only its own appointments (others 404);
- update (PATCH) and cancel: dispatcher, admin;
- CSV import: dispatcher, integration, admin.
POSTs that create honour ``Idempotency-Key`` (see ``idempotency``).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field

from api.appointments import service
from api.appointments.csv_import import CsvImportError
from api.appointments.geocoding import build_geocoder
from api.appointments.idempotency import Outcome, run_idempotent
from api.appointments.lifecycle import AppointmentStatus
from api.appointments.models import Appointment
from api.appointments.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentFields,
    AppointmentRead,
    AppointmentUpdate,
    ImportResult,
    RowError,
)
from api.auth.dependencies import Principal, Role, require_roles
from api.concurrency import set_etag
from api.database import SessionDep
from api.errors import (
    ApiError,
    DomainValidationError,
    ErrorBody,
    ErrorDetail,
    ErrorEnvelope,
    Forbidden,
    NotFound,
    error_responses,
)
from api.pagination import Page, PageDep, paginate
from api.tickets.models import Ticket
from optimiser.schema import known_timezone

router = APIRouter(tags=["appointments"], responses=error_responses(401, 403, 422))

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Creator = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher,
                                                     Role.integration))]
Importer = Annotated[Principal, Depends(require_roles(Role.dispatcher, Role.integration))]
Reader = Annotated[Principal, Depends(require_roles(Role.agent, Role.dispatcher,
                                                    Role.technician, Role.integration))]
Office = Annotated[Principal, Depends(require_roles(Role.dispatcher))]
IdempotencyKeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", description="Retry-safe POST: the same key (for the same "
    "caller) replays the first answer and never creates a second row")]
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv", "text/plain")


def get_geocoding(request: Request) -> service.Geocoding:
    """The configured geocoding provider (built once per process and provider)."""
    settings = request.app.state.settings
    return service.Geocoding(provider=settings.geocoder,
                             geocode=build_geocoder(settings.geocoder,
                                                    settings.geocoder_user_agent))


GeocodingDep = Annotated[service.Geocoding, Depends(get_geocoding)]


def _read(appointment: Appointment) -> dict[str, Any]:
    return AppointmentRead.model_validate(appointment).model_dump(mode="json")


def _created(appointment: Appointment) -> Outcome:
    return Outcome(status_code=status.HTTP_201_CREATED, body=_read(appointment),
                   headers={"ETag": f'"{appointment.version}"',
                            "Location": f"/api/v1/appointments/{appointment.id}"})


def _validated_payload(data: Any) -> Any:
    return data.model_dump(mode="json", exclude_unset=True)


# ---------------------------------------------------------------------- create


@router.post("/appointments", status_code=status.HTTP_201_CREATED,
             response_model=AppointmentRead, responses=error_responses(409),
             summary="Create an appointment (from a ticket via ticket_id, or standalone)")
def create_appointment(data: AppointmentCreate, db: SessionDep, principal: Creator,
                       geocoding: GeocodingDep, idempotency_key: IdempotencyKeyHeader = None
                       ) -> JSONResponse:
    if principal.role == Role.agent and data.ticket_id is None:
        raise Forbidden("Agents create appointments from tickets: send ticket_id")
    return run_idempotent(
        db, principal=principal, key=idempotency_key, operation="POST /appointments",
        payload=_validated_payload(data),
        action=lambda: _created(service.create(db=db, data=data, actor=principal,
                                               geocoding=geocoding)))


@router.post("/tickets/{ticket_id}/appointments", status_code=status.HTTP_201_CREATED,
             response_model=AppointmentRead, responses=error_responses(404, 409),
             summary="Create an appointment for a ticket that needs on-site work")
def create_ticket_appointment(ticket_id: Id, data: AppointmentFields, db: SessionDep,
                              principal: Creator, geocoding: GeocodingDep,
                              idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    if db.get(Ticket, ticket_id) is None:
        raise NotFound("ticket", ticket_id)
    return run_idempotent(
        db, principal=principal, key=idempotency_key,
        operation=f"POST /tickets/{ticket_id}/appointments", payload=_validated_payload(data),
        action=lambda: _created(service.create(db=db, data=data, actor=principal,
                                               geocoding=geocoding, ticket_id=ticket_id)))


class RowErrorDetail(ErrorDetail):
    row: int = Field(description="Spreadsheet row: the header is row 1", examples=[7])


class ImportErrorBody(ErrorBody):
    details: list[RowErrorDetail] = Field(default_factory=list)  # type: ignore[assignment]


class ImportErrorEnvelope(ErrorEnvelope):
    """The one error envelope; each detail also names the file's row."""

    error: ImportErrorBody


class ImportRejected(ApiError):
    """422 for a CSV file with bad rows; ``details`` are ``{"row", "field", "message"}``."""

    status_code = 422
    code = "validation_error"

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"the file was not imported: {len(errors)} problem(s); nothing "
                         f"was written")
        self.rows = [RowErrorDetail(row=e.row, field=e.field, message=e.message)
                     for e in errors]

    def envelope(self) -> ImportErrorEnvelope:
        return ImportErrorEnvelope(error=ImportErrorBody(code=self.code, message=self.message,
                                                         details=self.rows))


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"

    def __init__(self, content_type: str) -> None:
        super().__init__(f"send text/csv or multipart/form-data (field 'file'), not "
                         f"{content_type or 'no content type'}")


async def csv_upload(request: Request) -> bytes:
    """The CSV bytes from a multipart ``file`` field or a ``text/csv`` body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise DomainValidationError("body.file", "send the CSV as the multipart field "
                                                     "'file'")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
    elif content_type in CSV_TYPES:
        data = await request.body()
    else:
        raise UnsupportedMediaType(content_type)
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainValidationError("body.file", f"larger than {MAX_UPLOAD_BYTES} bytes")
    return data


_CSV_BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}


@router.post("/appointments/import", status_code=status.HTTP_201_CREATED,
             response_model=ImportResult,
             responses={**error_responses(409, 415),
                        422: {"model": ImportErrorEnvelope,
                              "description": "Bad rows, each named; nothing was written"}},
             openapi_extra=_CSV_BODY_DOC,
             summary="Import appointments from CSV: every row or none")
def import_appointments(data: Annotated[bytes, Depends(csv_upload)], db: SessionDep,
                        principal: Importer, geocoding: GeocodingDep,
                        idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    def action() -> Outcome:
        try:
            created = service.import_csv(db=db, data=data, actor=principal,
                                         geocoding=geocoding)
        except CsvImportError as exc:
            raise ImportRejected(exc.errors) from exc
        body = ImportResult(created=len(created),
                            items=[AppointmentRead.model_validate(a) for a in created])
        return Outcome(status_code=status.HTTP_201_CREATED, body=body.model_dump(mode="json"))

    return run_idempotent(db, principal=principal, key=idempotency_key,
                          operation="POST /appointments/import",
                          payload={"sha256_of_file": hashlib.sha256(data).hexdigest()},
                          action=action)


# ------------------------------------------------------------------------ reads


def _timezone(name: str) -> str:
    try:
        return known_timezone(name)
    except ValueError as exc:
        raise DomainValidationError("query.tz", str(exc)) from exc


@router.get("/appointments", response_model=Page[AppointmentRead],
            summary="List appointments (technicians: their own only)")
def list_appointments(
    db: SessionDep,
    principal: Reader,
    page: PageDep,
    status_: Annotated[list[AppointmentStatus], Query(alias="status")] = [],  # noqa: B006
    technician_id: Annotated[int | None, Query(ge=1)] = None,
    territory: str | None = None,
    priority: Annotated[list[int], Query(description="1-5; repeat for several")] = [],  # noqa: B006
    ticket_id: Annotated[int | None, Query(ge=1)] = None,
    external_ref: str | None = None,
    day: Annotated[date | None, Query(alias="date", description=(
        "Local date: visits scheduled to start that day, or unscheduled visits whose "
        "windows overlap it"))] = None,
    tz: Annotated[str, Query(description="IANA time zone of `date`")] = "UTC",
) -> Page[Any]:
    for value in priority:
        if not 1 <= value <= 5:
            raise DomainValidationError("query.priority", f"{value} is not between 1 and 5")
    statement = service.list_statement(
        principal=principal, status=status_, technician_id=technician_id,
        territory=territory, priority=priority, ticket_id=ticket_id,
        external_ref=external_ref, day=day, timezone=_timezone(tz))
    return paginate(db, statement, page, AppointmentRead)


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead,
            responses=error_responses(404))
def get_appointment(appointment_id: Id, db: SessionDep, principal: Reader,
                    response: Response) -> Appointment:
    appointment = service.get(db=db, appointment_id=appointment_id, principal=principal)
    set_etag(response, appointment)
    return appointment


# ---------------------------------------------------------------------- changes


@router.patch("/appointments/{appointment_id}", response_model=AppointmentRead,
              responses=error_responses(404, 409),
              summary="Change fields (send the version you read); status follows the "
                      "transition table")
def update_appointment(appointment_id: Id, data: AppointmentUpdate, db: SessionDep,
                       principal: Office, geocoding: GeocodingDep, response: Response
                       ) -> Appointment:
    appointment = service.get(db=db, appointment_id=appointment_id)
    service.update(db=db, appointment=appointment, data=data, actor=principal,
                   geocoding=geocoding)
    set_etag(response, appointment)
    return appointment


@router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentRead,
             responses=error_responses(404, 409))
def cancel_appointment(appointment_id: Id, data: AppointmentCancel, db: SessionDep,
                       principal: Office, response: Response) -> Appointment:
    appointment = service.get(db=db, appointment_id=appointment_id)
    service.cancel(db=db, appointment=appointment, actor=principal, version=data.version,
                   reason=data.reason)
    set_etag(response, appointment)
    return appointment
