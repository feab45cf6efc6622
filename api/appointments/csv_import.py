"""Parsing and validating an appointments CSV file (pure: no database).

One row is one appointment. Columns (header row required, names case-insensitive,
order free, every column but ``duration_min`` optional):

    ticket_id, customer_id, entitlement_id, lat, lon, address, duration_min,
    required_skills   "hvac:3;electrical:1" (name:level pairs split by ';')
    windows           "2026-11-23T09:00:00+00:00/2026-11-23T12:00:00+00:00;..."
                      (ISO 8601 intervals, start/end, split by ';')
    sla_due, priority, territory, demand, pinned_technician_id,
    preferred_technician_ids, excluded_technician_ids   "4;7"
    external_ref, notes

An empty cell means "not given". Errors name the spreadsheet row (the header
is row 1, the first data row is row 2) and the column, and the whole file is
checked before anything is written: the caller writes all rows or none.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError

from api.appointments.schemas import AppointmentCreate, RowError

COLUMNS: tuple[str, ...] = (
    "ticket_id", "customer_id", "entitlement_id", "lat", "lon", "address", "duration_min",
    "required_skills", "windows", "sla_due", "priority", "territory", "demand",
    "pinned_technician_id", "preferred_technician_ids", "excluded_technician_ids",
    "external_ref", "notes",
)
REQUIRED_COLUMNS = ("duration_min",)
LIST_COLUMNS = ("preferred_technician_ids", "excluded_technician_ids")
MAX_ROWS = 10_000
MAX_ERRORS = 500
HEADER_ROW = 1
FIRST_DATA_ROW = 2


class CsvImportError(Exception):
    """The file cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the file")
        self.errors = errors


@dataclass(frozen=True)
class ParsedRow:
    row: int
    data: AppointmentCreate


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _parse_skills(cell: str) -> dict[str, str]:
    skills: dict[str, str] = {}
    for pair in _split(cell):
        name, sep, level = pair.partition(":")
        if not sep or not name.strip() or not level.strip():
            raise ValueError(f"{pair!r} is not name:level (e.g. hvac:3)")
        if name.strip() in skills:
            raise ValueError(f"skill {name.strip()!r} is listed twice")
        skills[name.strip()] = level.strip()
    return skills


def _parse_windows(cell: str) -> list[dict[str, str]]:
    windows = []
    for interval in _split(cell):
        start, sep, end = interval.partition("/")
        if not sep or not start.strip() or not end.strip():
            raise ValueError(f"{interval!r} is not an ISO 8601 interval start/end")
        windows.append({"start": start.strip(), "end": end.strip()})
    return windows


_CONVERTERS = {
    "required_skills": _parse_skills,
    "windows": _parse_windows,
    "preferred_technician_ids": _split,
    "excluded_technician_ids": _split,
}


def _column_of(location: tuple[Any, ...]) -> str:
    """The CSV column a pydantic error location refers to."""
    if not location:
        return "row"
    head = str(location[0])
    if head == "location":
        return str(location[1]) if len(location) > 1 and location[1] in ("lat", "lon") else "lat"
    return head


def _row_to_body(cells: dict[str, str], row: int, errors: list[RowError]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for column, raw in cells.items():
        cell = raw.strip()
        if not cell:
            continue
        converter = _CONVERTERS.get(column)
        if converter is None:
            body[column] = cell
            continue
        try:
            body[column] = converter(cell)
        except ValueError as exc:
            errors.append(RowError(row=row, field=column, message=str(exc)))
    lat, lon = body.pop("lat", None), body.pop("lon", None)
    if lat is not None or lon is not None:
        body["location"] = {key: value for key, value in (("lat", lat), ("lon", lon))
                            if value is not None}
    return body


def _read_frame(text: str) -> pd.DataFrame:
    """All lines as strings, header included (``header=None``).

    Reading the header as data makes pandas refuse a row with MORE cells than
    the header (with its line number) instead of silently dropping them or
    turning the first column into an index; a row with fewer cells is fine
    (missing trailing cells are empty).
    """
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=False, index_col=False)
    except pd.errors.EmptyDataError as exc:
        raise CsvImportError([RowError(row=HEADER_ROW, field="file",
                                       message="the file is empty")]) from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        found = re.search(r"line (\d+)", str(exc))
        row = int(found.group(1)) if found else HEADER_ROW
        raise CsvImportError([RowError(row=row, field="row",
                                       message=f"malformed CSV: {_parser_message(exc)}")]) from exc
    header = [str(name).strip().casefold() for name in frame.iloc[0]]
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = header
    return body


def _check_header(frame: pd.DataFrame) -> None:
    names = list(frame.columns)
    errors = []
    for name in names:
        if name not in COLUMNS:
            errors.append(RowError(row=HEADER_ROW, field=name or "(blank)",
                                   message=f"unknown column; expected some of: "
                                           f"{', '.join(COLUMNS)}"))
    if len(set(names)) != len(names):
        errors.append(RowError(row=HEADER_ROW, field="header", message="a column is repeated"))
    for name in REQUIRED_COLUMNS:
        if name not in names:
            errors.append(RowError(row=HEADER_ROW, field=name, message="required column missing"))
    if errors:
        raise CsvImportError(errors)


def decode(data: bytes) -> str:
    """The file as text: UTF-8 (a BOM from spreadsheet exports is accepted)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError([RowError(row=HEADER_ROW, field="file",
                                       message=f"not UTF-8 text: {exc.reason} at byte "
                                               f"{exc.start}")]) from exc


def parse_appointments_csv(data: bytes) -> list[ParsedRow]:
    """Every row as a validated ``AppointmentCreate``, or ``CsvImportError`` with all problems."""
    frame = _read_frame(decode(data))
    _check_header(frame)
    if frame.empty or not frame.map(lambda cell: bool(str(cell).strip())).any(axis=None):
        raise CsvImportError([RowError(row=FIRST_DATA_ROW, field="file",
                                       message="the file has a header but no rows")])
    if len(frame) > MAX_ROWS:
        raise CsvImportError([RowError(row=FIRST_DATA_ROW + MAX_ROWS, field="file",
                                       message=f"at most {MAX_ROWS} rows per import")])
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    for position, record in enumerate(frame.to_dict(orient="records")):
        row = FIRST_DATA_ROW + position  # blank lines are kept so row numbers stay true
        if not any(str(value).strip() for value in record.values()):
            continue
        row_errors: list[RowError] = []
        body = _row_to_body({str(k): str(v) for k, v in record.items()}, row, row_errors)
        try:
            data = AppointmentCreate.model_validate(body)
        except ValidationError as exc:
            reported = {error.field for error in row_errors}
            row_errors += [RowError(row=row, field=_column_of(err["loc"]), message=_message(err))
                           for err in exc.errors()
                           if _column_of(err["loc"]) not in reported]
        else:
            if not row_errors:
                parsed.append(ParsedRow(row=row, data=data))
        errors.extend(row_errors)
        if len(errors) >= MAX_ERRORS:
            errors.append(RowError(row=row, field="file",
                                   message=f"stopped after {MAX_ERRORS} problems"))
            break
    if errors:
        raise CsvImportError(errors)
    return parsed


def _message(error: dict[str, Any]) -> str:
    text = str(error.get("msg", "invalid"))
    text = text.removeprefix("Value error, ")
    location = error.get("loc", ())
    if len(location) > 1 and location[0] == "windows":
        text = f"window {int(location[1]) + 1} {location[2] if len(location) > 2 else ''}: " \
               f"{text}".replace("  ", " ")
    return text


def _parser_message(error: Exception) -> str:
    return str(error).split("C error: ")[-1].strip()
