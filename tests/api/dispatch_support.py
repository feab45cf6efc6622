"""Setup helpers for the dispatch tests: technicians, shifts and committed visits as rows.

Geometry: every point lies on the meridian 0.12 W, so a leg of ``d`` degrees of
latitude is ``radians(d) x 6371.0088 km x 1.3`` (road factor) and takes that
distance at 40 km/h: the exchange format's default haversine travel, by hand.
Day: Monday 2030-01-07, UTC (the tests' planning time zone).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

LON = -0.12
DAY = "2030-01-07"


def at(clock: str, day: int = 0) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2030, 1, 7 + day, hours, minutes, tzinfo=UTC)


def leg_km(lat_a: float, lat_b: float) -> float:
    return math.radians(abs(lat_a - lat_b)) * 6371.0088 * 1.3


def leg_min(lat_a: float, lat_b: float) -> float:
    return leg_km(lat_a, lat_b) / 40 * 60


def ceil_second(value: datetime) -> datetime:
    whole = value.replace(microsecond=0)
    return whole if whole == value else whole + timedelta(seconds=1)


def iso(value: datetime) -> str:
    return value.isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def add_technician(app: FastAPI, *, name: str = "Ana Ruiz", home_lat: float = 51.50,
                   skills: dict[str, int] | None = None, shift: tuple[str, str] | None =
                   ("08:00", "17:00"), lunch: bool = True, day: int = 0, **fields: Any) -> int:
    """A technician at (home_lat, 0.12 W) with one planned shift that day (and a lunch
    break of 30 min between 12:00 and 14:00)."""
    from api.technicians.models import Shift, Technician

    with app.state.sessionmaker.begin() as session:
        technician = Technician(name=name, home_lat=home_lat, home_lon=LON,
                                skills=skills if skills is not None else {"hvac": 3},
                                territories=[], **fields)
        session.add(technician)
        session.flush()
        if shift is not None:
            breaks = [{"earliest_start": iso(at("12:00", day)), "latest_end": iso(at("14:00", day)),
                       "duration_min": 30}] if lunch else []
            session.add(Shift(technician_id=technician.id, start=at(shift[0], day),
                              end=at(shift[1], day), breaks=breaks))
        return technician.id


def add_visit(app: FastAPI, technician_id: int | None, start: datetime | None, *,
              lat: float, duration_min: float = 60, status: str = "scheduled",
              windows: list[tuple[datetime, datetime]] = (), ticket_id: int | None = None,
              customer_id: int | None = None, address: str | None = None,
              skills: dict[str, int] | None = None) -> int:
    """An appointment row in ``status`` with its technician and planned start."""
    from api.appointments.models import Appointment

    now = datetime.now(UTC)
    with app.state.sessionmaker.begin() as session:
        row = Appointment(
            ticket_id=ticket_id, customer_id=customer_id, lat=lat, lon=LON, address=address,
            duration_min=duration_min, required_skills=skills or {"hvac": 1},
            windows=[{"start": iso(s), "end": iso(e)} for s, e in windows],
            window_start=min((s for s, _ in windows), default=None),
            window_end=max((e for _, e in windows), default=None),
            priority=3, demand=0, preferred_technician_ids=[], excluded_technician_ids=[],
            status=status, technician_id=technician_id, scheduled_start=start,
            scheduled_end=start + timedelta(minutes=duration_min) if start else None,
            status_changed_at=now, created_by="user:tests", created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        return row.id
