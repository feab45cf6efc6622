"""CSV import: parsing and validation (pure), then all-or-nothing through the API."""

from __future__ import annotations

import pytest

from api.appointments.csv_import import CsvImportError, parse_appointments_csv

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
