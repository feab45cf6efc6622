"""A small service day built through the HTTP API only (for the plan tests).

Technicians and shifts are created by an admin, appointments are posted by an
integration (API key), exactly as a real deployment would fill the service.
Locations are around central London; everyone shares one skill so any
technician can take any visit unless a test says otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"
TERMINAL = {"done", "failed", "cancelled"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat()


@dataclass
class World:
    day: date
    technicians: list[int] = field(default_factory=list)
    shifts: dict[int, int] = field(default_factory=dict)  # technician id -> shift id
    appointments: list[int] = field(default_factory=list)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def add_technician(client: TestClient, admin: dict[str, str], world: World, *, name: str,
                   lat: float, lon: float, skills: dict[str, int] | None = None,
                   territories: list[str] | None = None, start_hour: int = 8,
                   end_hour: int = 17) -> int:
    technician = ok(client.post(f"{API}/technicians", headers=admin, json={
        "name": name, "home_lat": lat, "home_lon": lon,
        "skills": skills if skills is not None else {"hvac": 3},
        "territories": territories or []}), 201)
    shift = ok(client.post(f"{API}/technicians/{technician['id']}/shifts", headers=admin, json={
        "start": iso(at(world.day, start_hour)), "end": iso(at(world.day, end_hour)),
        "breaks": [{"earliest_start": iso(at(world.day, 12)),
                    "latest_end": iso(at(world.day, 14)), "duration_min": 30}]}), 201)
    world.technicians.append(technician["id"])
    world.shifts[technician["id"]] = shift["id"]
    return technician["id"]


def add_appointment(client: TestClient, integration: dict[str, str], world: World, *,
                    lat: float, lon: float, duration_min: float = 45, priority: int = 3,
                    window: tuple[int, int] | None = (8, 16), skills: dict[str, int] | None = None,
                    territory: str | None = None, ref: str | None = None) -> int:
    body: dict[str, Any] = {
        "location": {"lat": lat, "lon": lon}, "duration_min": duration_min,
        "priority": priority, "required_skills": skills if skills is not None else {"hvac": 1},
        "sla_due": iso(at(world.day, 17)),
    }
    if window is not None:
        body["windows"] = [{"start": iso(at(world.day, window[0])),
                            "end": iso(at(world.day, window[1]))}]
    if territory is not None:
        body["territory"] = territory
    if ref is not None:
        body["external_ref"] = ref
    created = ok(client.post(f"{API}/appointments", headers=integration, json=body), 201)
    world.appointments.append(created["id"])
    return created["id"]


def grid_day(client: TestClient, admin: dict[str, str], integration: dict[str, str],
             day: date, *, technicians: int = 3, appointments: int = 12) -> World:
    """``technicians`` living on a west-east line, ``appointments`` spread between them."""
    world = World(day=day)
    for k in range(technicians):
        add_technician(client, admin, world, name=f"Tech {k + 1}", lat=51.50,
                       lon=-0.25 + 0.25 * k)
    for k in range(appointments):
        add_appointment(client, integration, world, lat=51.48 + 0.04 * (k % 3),
                        lon=-0.28 + 0.56 * k / max(1, appointments - 1),
                        duration_min=30 + 15 * (k % 3), priority=2 + k % 4,
                        ref=f"grid-{k + 1}")
    return world


def request_plan(client: TestClient, headers: dict[str, str], day: date, **body: Any) -> dict:
    response = client.post(f"{API}/plans", headers=headers,
                           json={"date": day.isoformat(), **body})
    job = ok(response, 202)
    assert response.headers["Location"] == f"{API}/plans/{job['id']}"
    return job


def wait_plan(client: TestClient, headers: dict[str, str], plan_id: int, *,
              timeout: float = 60) -> dict:
    """Poll ``GET /plans/{id}`` until the job has finished."""
    deadline = time.monotonic() + timeout
    while True:
        job = ok(client.get(f"{API}/plans/{plan_id}", headers=headers))
        if job["status"] in TERMINAL:
            return job
        assert time.monotonic() < deadline, f"plan {plan_id} still {job['status']}: {job}"
        time.sleep(0.2)


def placements(plan: dict) -> dict[int, tuple[int, datetime]]:
    """appointment id -> (technician id, start) from an exchange-format plan."""
    return {int(stop["appointment_id"]): (int(route["technician_id"]),
                                          datetime.fromisoformat(stop["start"]))
            for route in plan["routes"] for stop in route["stops"]}


def later(value: datetime, minutes: float) -> datetime:
    return value + timedelta(minutes=minutes)
