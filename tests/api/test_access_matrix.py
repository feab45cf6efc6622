"""The role x endpoint matrix: one test per allowed and per refused outcome.

``CASES`` is THE table (the README's "Roles and access" section shows the same
outcomes; ``test_readme_matches_the_cases`` keeps them in step). To add your
endpoints: append ``Case`` rows covering all six callers (admin, agent,
dispatcher, technician, integration, anonymous), give allowed cases a valid
``body`` so they really succeed, put any ids you need into ``tests/api/world.py``,
remove the endpoints from ``PENDING``, and add the README rows.

A path is the OpenAPI template without ``/api/v1``; its ``{placeholders}`` are
filled from the world (``as_other=True``: from another technician's records,
for the technician-sees-only-their-own 404 cases). The matrix runs on SQLite
only: who may call what does not depend on the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.world import add_onsite_ticket, add_visits, build_world

ROLES = ("admin", "agent", "dispatcher", "technician", "integration", "anonymous")
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    role: str
    expected: int
    body: dict[str, Any] | str | None = field(default=None, hash=False, compare=False)
    as_other: bool = False

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def id(self) -> str:
        other = " other" if self.as_other else ""
        return f"{self.method} {self.path} {self.role}{other} -> {self.expected}"


def row(method: str, path: str, body: dict[str, Any] | str | None = None,
        **outcomes: int | tuple
        ) -> list[Case]:
    """Cases for one endpoint; a tuple ``(own, other)`` for technicians seeing only their own.
    Roles not named are refused: 403, anonymous 401."""
    cases = []
    for role in ROLES:
        default = 401 if role == "anonymous" else 403
        outcome = outcomes.get(role, default)
        if isinstance(outcome, tuple):
            cases.append(Case(method, path, role, outcome[0], body))
            cases.append(Case(method, path, role, outcome[1], body, as_other=True))
        else:
            cases.append(Case(method, path, role, outcome, body))
    return cases


ALL_READ = {"admin": 200, "agent": 200, "dispatcher": 200, "technician": 200,
            "integration": 200}
STAFF_READ = {"admin": 200, "agent": 200, "dispatcher": 200}
SHIFT = {"start": "2026-11-25T08:00:00+00:00", "end": "2026-11-25T16:00:00+00:00",
         "breaks": [{"earliest_start": "2026-11-25T11:00:00+00:00",
                     "latest_end": "2026-11-25T13:00:00+00:00", "duration_min": 30}]}

SLOT_DRAFT = {"location": {"lat": 51.52, "lon": -0.1}, "duration_min": 30,
              "not_before": "2026-11-23T07:00:00+00:00", "days": 1}

PLANS = {"admin": 200, "dispatcher": 200}
PLAN_QUEUED = {"admin": 202, "dispatcher": 202}

APPOINTMENT = {"location": {"lat": 51.52, "lon": -0.1}, "duration_min": 30}

CASES: list[Case] = [
    *row("GET", "/health", **ALL_READ, anonymous=200),
    *row("GET", "/auth/me", **ALL_READ),
    *row("GET", "/auth/users", admin=200),
    *row("POST", "/auth/users", {"username": "newcomer", "password": "long-enough-pw",
                                 "role": "agent"}, admin=201),
    *row("GET", "/auth/users/{user_id}", admin=200),
    *row("PATCH", "/auth/users/{user_id}", {"version": 1, "role": "dispatcher"}, admin=200),
    *row("GET", "/auth/api-keys", admin=200),
    *row("POST", "/auth/api-keys", {"name": "erp"}, admin=201),
    *row("DELETE", "/auth/api-keys/{api_key_id}", admin=204),
    *row("GET", "/events", **STAFF_READ),
    *row("GET", "/customers", **STAFF_READ),
    *row("POST", "/customers", {"name": "New Co"}, admin=201),
    *row("GET", "/customers/{customer_id}", **STAFF_READ),
    *row("PATCH", "/customers/{customer_id}", {"version": 1, "phone": "+44 1"}, admin=200),
    *row("DELETE", "/customers/{customer_id}", admin=204),
    *row("GET", "/entitlements", **STAFF_READ),
    *row("POST", "/entitlements", {"customer_id": "{customer_id}", "name": "Silver",
                                   "valid_from": "2026-01-01T00:00:00Z"}, admin=201),
    *row("GET", "/entitlements/{entitlement_id}", **STAFF_READ),
    *row("PATCH", "/entitlements/{entitlement_id}", {"version": 1, "tier": "silver"},
         admin=200),
    *row("DELETE", "/entitlements/{entitlement_id}", admin=204),
    *row("GET", "/technicians", **STAFF_READ),
    *row("POST", "/technicians", {"name": "New Tech", "home_lat": 51.5, "home_lon": -0.1},
         admin=201),
    *row("GET", "/technicians/{technician_id}", **STAFF_READ, technician=(200, 404)),
    *row("PATCH", "/technicians/{technician_id}", {"version": 1, "name": "Renamed"},
         admin=200),
    *row("DELETE", "/technicians/{technician_id}", admin=204),
    *row("GET", "/technicians/{technician_id}/shifts", **STAFF_READ, technician=(200, 404)),
    *row("POST", "/technicians/{technician_id}/shifts", SHIFT, admin=201, dispatcher=201),
    *row("GET", "/shifts", **STAFF_READ),
    *row("GET", "/shifts/{shift_id}", **STAFF_READ, technician=(200, 404)),
    *row("PATCH", "/shifts/{shift_id}", {"version": 1, "note": "van in service"}, admin=200,
         dispatcher=200),
    *row("DELETE", "/shifts/{shift_id}", admin=204, dispatcher=204),
    *row("POST", "/shifts/{shift_id}/status", {"version": 1, "status": "off_sick"}, admin=200,
         dispatcher=200),
    # dispatch (slots, booking, day route, field status)
    *row("POST", "/slots", SLOT_DRAFT, admin=200, agent=200, dispatcher=200),
    *row("POST", "/slots/book", {**SLOT_DRAFT, "window": {
        "start": "2026-11-23T08:00:00+00:00", "end": "2026-11-23T10:00:00+00:00"}},
        admin=201, agent=403, dispatcher=201),  # agents book for tickets only
    *row("GET", "/technicians/{technician_id}/route", admin=200, dispatcher=200,
         technician=(200, 404)),
    *row("POST", "/appointments/{appointment_id}/status", {"status": "en_route", "version": 1},
         admin=200, dispatcher=200, technician=(200, 404)),
    # appointments (a str body is a CSV file, sent as text/csv)
    *row("POST", "/appointments", APPOINTMENT, admin=201, dispatcher=201, integration=201),
    *row("GET", "/appointments", **ALL_READ),
    *row("POST", "/tickets/{ticket_id}/appointments", APPOINTMENT, admin=201, agent=201,
         dispatcher=201, integration=201),
    *row("POST", "/appointments/import", "duration_min,lat,lon\n30,51.52,-0.1\n", admin=201,
         dispatcher=201, integration=201),
    *row("GET", "/appointments/{appointment_id}", **{**ALL_READ, "technician": (200, 404)}),
    *row("PATCH", "/appointments/{appointment_id}", {"version": 1, "notes": "gate 1234"},
         admin=200, dispatcher=200),
    *row("POST", "/appointments/{appointment_id}/cancel", {"version": 1, "reason": "moved"},
         admin=200, dispatcher=200),
    # plans (the world's plan is a finished, publishable one; jobs posted here stay queued)
    *row("POST", "/plans", {"date": "2026-11-23", "time_limit_s": 1}, **PLAN_QUEUED),
    *row("GET", "/plans", **PLANS),
    *row("POST", "/plans/replan", {"date": "2026-11-23", "now": "2026-11-23T10:00:00+00:00",
                                   "time_limit_s": 1}, **PLAN_QUEUED),
    *row("GET", "/plans/{plan_id}", **PLANS),
    *row("GET", "/plans/{plan_id}/request", **PLANS),
    *row("DELETE", "/plans/{plan_id}", **PLAN_QUEUED),
    *row("POST", "/plans/{plan_id}/publish", **PLANS),
    # tickets and help-desk metrics
    *row("GET", "/tickets/priority-matrix", **STAFF_READ),
    *row("PUT", "/tickets/priority-matrix", {"version": 1, "cells": [
        {"impact": i, "urgency": u, "priority": min(5, i + u - 1)}
        for i in (1, 2, 3) for u in (1, 2, 3)]}, admin=200),
    *row("GET", "/tickets/tier-limits", **STAFF_READ),
    *row("PUT", "/tickets/tier-limits/{tier}", {"version": 1, "limit_min": 30}, admin=200),
    *row("POST", "/tickets", {"request_type": "incident", "channel": "web",
                              "customer_id": "{customer_id}", "product": "boiler-x200",
                              "summary": "Leak", "impact": 1, "urgency": 2},
         admin=201, agent=201),
    *row("GET", "/tickets", **STAFF_READ),
    *row("GET", "/tickets/{ticket_id}", **STAFF_READ),
    *row("PATCH", "/tickets/{ticket_id}", {"version": 1, "summary": "Cold radiators"},
         admin=200, agent=200),
    *row("POST", "/tickets/{ticket_id}/transitions", {"to": "validated", "version": 1},
         admin=200, agent=200),
    *row("POST", "/tickets/{ticket_id}/first-response", {"version": 1}, admin=200, agent=200),
    *row("POST", "/tickets/{ticket_id}/priority",
         {"version": 1, "priority": 1, "reason": "hospital ward"}, admin=200, agent=200),
    *row("POST", "/tickets/{ticket_id}/escalate", {"version": 1, "reason": "needs L2"},
         admin=200, agent=200),
    *row("GET", "/tickets/{ticket_id}/events", **STAFF_READ),
    *(case for metric in ("volume", "top-products", "sla", "times", "escalations", "backlog")
      for case in row("GET", f"/metrics/{metric}", **STAFF_READ)),
]

# Endpoints whose rows their domain owner has still to add (remove as you add them).
PENDING: set[str] = {
    "POST /auth/token",  # public by design (the login form); covered in test_auth.py
}


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        return ids[whole.group(1)] if whole else value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_access(case: Case, client, app, headers_for, api_key_headers):
    with app.state.sessionmaker.begin() as session:
        own, other = build_world(session)
        if "{appointment_id}" in case.path:
            add_visits(session, own, other)
        if case.path == "/tickets/{ticket_id}/appointments":
            add_onsite_ticket(session, own, other)
    ids = other if case.as_other else own
    if case.role == "anonymous":
        headers: dict[str, str] = {}
    elif case.role == "integration":
        headers = api_key_headers
    elif case.role == "technician":
        headers = headers_for("technician", technician_id=own["technician_id"])
    else:
        headers = headers_for(case.role)
    if isinstance(case.body, str):
        sent: dict[str, Any] = {"content": case.body,
                                "headers": {**headers, "Content-Type": "text/csv"}}
    else:
        sent = {"json": _fill(case.body, ids), "headers": headers}
    response = client.request(case.method, "/api/v1" + case.path.format(**ids), **sent)
    assert response.status_code == case.expected, response.text
    if case.expected >= 400:
        assert set(response.json()) == {"error"}


def _endpoints_in_openapi(app) -> set[str]:
    found = set()
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            found.add(f"{method.upper()} {path.removeprefix('/api/v1')}")
    return found


def test_every_endpoint_is_in_the_matrix_or_pending(app):
    existing = _endpoints_in_openapi(app)
    covered = {c.endpoint for c in CASES}
    assert covered - existing == set(), "matrix rows for endpoints that do not exist"
    assert existing - covered - PENDING == set(), "endpoints missing from the matrix"
    assert covered & PENDING == set(), "endpoints with rows: remove them from PENDING"


def test_every_matrix_endpoint_covers_all_callers():
    by_endpoint: dict[str, set[str]] = {}
    for case in CASES:
        by_endpoint.setdefault(case.endpoint, set()).add(case.role)
    incomplete = {e: sorted(set(ROLES) - roles) for e, roles in by_endpoint.items()
                  if roles != set(ROLES)}
    assert incomplete == {}


def _readme_matrix() -> dict[tuple[str, str], set[int]]:
    text = README.read_text()
    section = text.split("## Roles and access", 1)[1].split("\n## ", 1)[0]
    table: dict[tuple[str, str], set[int]] = {}
    header: list[str] | None = None
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        endpoint = cells[0].strip("`").replace("/api/v1", "")
        for role, cell in zip(header[1:], cells[1:], strict=True):
            table[(endpoint, role)] = {int(code) for code in re.findall(r"\b\d{3}\b", cell)}
    return table


def test_readme_matches_the_cases():
    expected: dict[tuple[str, str], set[int]] = {}
    for case in CASES:
        expected.setdefault((case.endpoint, case.role), set()).add(case.expected)
    readme = _readme_matrix()
    documented = {key: codes for key, codes in readme.items()
                  if key[0] in {c.endpoint for c in CASES}}
    assert documented == expected
