"""CSV import: parsing and validation (pure), then all-or-nothing through the API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.appointments.csv_import import CsvImportError, parse_appointments_csv
from api.appointments.models import GeocodeCache
from api.events import Event
from tests.api.appointment_helpers import count_appointments, make_technician

HEADER = "duration_min,lat,lon,address,required_skills,windows,priority,excluded_technician_ids"
GOOD_ROW = "45,51.5,-0.1,,hvac:3;electrical:1," \
           "2026-11-23T09:00:00+00:00/2026-11-23T12:00:00+00:00,2,4;5"


def _errors(text: str | bytes) -> list[tuple[int, str, str]]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(CsvImportError) as caught:
        parse_appointments_csv(data)
    return [(e.row, e.field, e.message) for e in caught.value.errors]


def test_parses_rows_with_lists_windows_and_skills() -> None:
    rows = parse_appointments_csv(
        f"{HEADER}\n{GOOD_ROW}\n30,,,\"Tower of London, London EC3N 4AB\",,,,\n".encode())
    assert [r.row for r in rows] == [2, 3]
    first = rows[0].data
    assert first.location is not None and (first.location.lat, first.location.lon) == (51.5, -0.1)
    assert first.required_skills == {"hvac": 3, "electrical": 1}
    assert first.windows[0].start.isoformat() == "2026-11-23T09:00:00+00:00"
    assert first.priority == 2 and first.excluded_technician_ids == [4, 5]
    assert rows[1].data.address == "Tower of London, London EC3N 4AB"
    assert rows[1].data.location is None


def test_bom_header_case_and_blank_lines_keep_true_row_numbers() -> None:
    data = ("\ufeffDuration_Min, LAT ,lon\n\n30,1,2\n\n").encode()
    rows = parse_appointments_csv(data)
    assert [r.row for r in rows] == [3]


def test_one_bad_row_names_row_and_field() -> None:
    bad = "45,51.5,-0.1,,hvac:3,,7,"
    errors = _errors(f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW}\n{bad}\n{GOOD_ROW}\n")
    assert errors == [(4, "priority", "Input should be less than or equal to 5")]


def test_every_problem_of_a_row_is_reported() -> None:
    errors = _errors(f"{HEADER}\nx,95,,,hvac,"
                     "2026-11-23T09:00:00+00:00/2026-11-23T08:00:00+00:00,0,a\n")
    fields = {field for _row, field, _message in errors}
    assert {"duration_min", "lat", "lon", "required_skills", "windows", "priority",
            "excluded_technician_ids"} <= fields
    assert all(row == 2 for row, _field, _message in errors)
    window_message = next(m for _r, f, m in errors if f == "windows")
    assert "end must be after start" in window_message


@pytest.mark.parametrize(("cell", "message"), [
    ("2026-11-23T09:00:00/2026-11-23T12:00:00", "timezone"),
    ("2026-11-23T09:00:00+00:00", "not an ISO 8601 interval"),
])
def test_window_cells(cell: str, message: str) -> None:
    errors = _errors(f"duration_min,lat,lon,windows\n30,1,2,{cell}\n")
    assert errors[0][:2] == (2, "windows") and message in errors[0][2]


def test_ticket_derived_fields_are_refused_with_a_ticket() -> None:
    errors = _errors("duration_min,ticket_id,sla_due,lat,lon\n"
                     "30,5,2026-11-23T09:00:00+00:00,1,2\n")
    assert errors == [(2, "sla_due",
                       "comes from the ticket; do not send it together with ticket_id")]


@pytest.mark.parametrize(("data", "expected"), [
    (b"", (1, "file")),
    (b"duration_min\n", (2, "file")),
    (b"lat,lon\n1,2\n", (1, "duration_min")),
    (b"duration_min,colour\n30,red\n", (1, "colour")),
    (b"duration_min,notes\n30,a\n40,b,c\n", (3, "row")),
    (b"duration_min,notes\n30,a,extra\n", (2, "row")),
    (b"\xff\xfeduration_min", (1, "file")),
])
def test_file_level_problems(data: bytes, expected: tuple[int, str]) -> None:
    assert _errors(data)[0][:2] == expected


def test_too_many_errors_stop_early() -> None:
    rows = "\n".join("x" for _ in range(600))
    errors = _errors(f"duration_min\n{rows}\n")
    assert len(errors) == 501 and errors[-1][1] == "file"


# ----------------------------------------------------------------- through the API

URL = "/api/v1/appointments/import"
CSV_OK = (f"{HEADER}\n{GOOD_ROW}\n"
          "30,,,\"Tower of London, London EC3N 4AB\",,,,\n"
          "60,51.45,-0.2,,plumbing:2,,4,\n")


def test_import_as_text_csv_creates_every_row(client: TestClient, app: FastAPI,
                                              api_key_headers: dict[str, str]) -> None:
    technicians = [make_technician(app), make_technician(app, name="B")]
    text = CSV_OK.replace("4;5", ";".join(map(str, technicians)))
    response = client.post(URL, content=text,
                           headers={**api_key_headers, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 3 and len(body["items"]) == 3
    assert body["items"][0]["excluded_technician_ids"] == technicians
    assert body["items"][1]["location"] == pytest.approx({"lat": 51.5081, "lon": -0.0759})
    assert body["items"][2]["priority"] == 4
    assert count_appointments(app) == 3
    with app.state.sessionmaker() as session:
        via = [e.data["via"] for e in session.scalars(select(Event).where(
            Event.entity_type == "appointment"))]
    assert via == ["import"] * 3


def test_import_as_multipart_upload(client: TestClient, app: FastAPI,
                                    headers_for: Any) -> None:
    text = "duration_min,lat,lon\n30,51.5,-0.1\n"
    response = client.post(URL, files={"file": ("visits.csv", text.encode(), "text/csv")},
                           headers=headers_for("dispatcher"))
    assert response.status_code == 201, response.text
    assert count_appointments(app) == 1


def test_one_bad_row_writes_nothing_and_names_row_and_field(
        client: TestClient, app: FastAPI, api_key_headers: dict[str, str]) -> None:
    rows = ["30,51.5,-0.1,,,,,"] * 5 + ["abc,51.5,-0.1,,,,,"] + ["30,51.5,-0.1,,,,,"]
    response = client.post(URL, content="\n".join([HEADER, *rows]) + "\n",
                           headers={**api_key_headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "nothing was written" in error["message"]
    assert error["details"] == [{
        "row": 7, "field": "duration_min",
        "message": "Input should be a valid number, unable to parse string as a number"}]
    assert count_appointments(app) == 0


def test_rows_failing_database_checks_write_nothing(client: TestClient, app: FastAPI,
                                                    api_key_headers: dict[str, str]) -> None:
    text = (f"{HEADER}\n30,51.5,-0.1,,,,,\n"
            "30,,,1 Nowhere Road Atlantis,,,,\n"
            "30,51.5,-0.1,,,,,77777\n")
    response = client.post(URL, content=text,
                           headers={**api_key_headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [(d["row"], d["field"]) for d in details] == [(3, "address"),
                                                        (4, "excluded_technician_ids")]
    assert count_appointments(app) == 0
    with app.state.sessionmaker() as session:
        assert session.scalars(select(GeocodeCache)).all() == []


def test_import_access_and_media_types(client: TestClient, headers_for: Any,
                                       api_key_headers: dict[str, str]) -> None:
    text = "duration_min,lat,lon\n30,51.5,-0.1\n"
    for role in ("agent", "technician"):
        response = client.post(URL, content=text,
                               headers={**headers_for(role), "Content-Type": "text/csv"})
        assert response.status_code == 403
    assert client.post(URL, content=text, headers={"Content-Type": "text/csv"}
                       ).status_code == 401
    wrong = client.post(URL, json={"rows": []}, headers=api_key_headers)
    assert wrong.status_code == 415
    assert wrong.json()["error"]["code"] == "unsupported_media_type"
    no_file = client.post(URL, data={"other": "x"}, files={"other_file": ("a", b"b")},
                          headers=api_key_headers)
    assert no_file.status_code == 422
    assert no_file.json()["error"]["details"][0]["field"] == "body.file"


def test_an_address_repeated_in_a_file_is_geocoded_once(
        client: TestClient, app: FastAPI, api_key_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from api.appointments import routes
    from api.appointments.gazetteer import GazetteerGeocoder

    asked: list[str] = []
    gazetteer = GazetteerGeocoder()

    def counting(query: str) -> Any:
        asked.append(query)
        return gazetteer.geocode(query)

    monkeypatch.setattr(routes, "build_geocoder", lambda _provider, _agent: counting)
    rows = ['30,,,"Tower of London, London EC3N 4AB",,,,'] * 50 + \
           ['30,,,"1 Nowhere Road, Atlantis",,,,'] * 3
    response = client.post(URL, content="\n".join([HEADER, *rows]) + "\n",
                           headers={**api_key_headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert [d["row"] for d in response.json()["error"]["details"]] == [52, 53, 54]
    assert len(asked) == 2
