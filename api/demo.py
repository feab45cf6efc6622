"""``python -m api demo``: a working service on the demo data set in one command.

Creates (or reuses) a SQLite database, applies the migrations, loads
``data/demo/`` re-based so the generated day is TOMORROW (technicians with
shifts for tomorrow and the four days after, customers and contracts by tier,
tickets through the ticket desk so their SLA clocks run, one appointment per
ticket), creates one demo user per role and an integration API key, prints
them, and serves the API with the in-process plan worker.

Loading goes through the domains' own services where they carry rules
(tickets derive priority and SLA; appointments take their SLA from the
ticket's contract) and writes plain rows where there are none (technicians,
shifts, customers, contracts).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

DEFAULT_DATABASE = "sqlite:///./fieldplan-demo.db"
DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
#: Days of shifts loaded from tomorrow on (the generated day, then copies of it).
SHIFT_DAYS = 5

#: Demo log-ins, one per role (printed at start-up; a demo, not a secret).
DEMO_USERS: dict[str, str] = {
    "admin": "admin-demo-pass",
    "agent": "agent-demo-pass",
    "dispatcher": "dispatcher-demo-pass",
    "technician": "technician-demo-pass",
}

#: Contract targets (minutes) by tier and priority, in business minutes of the
#: contract's calendar. P1 on-site within 4 hours matches the generator's P1 SLA.
TIER_TARGETS: dict[str, dict[str, dict[str, int]]] = {
    "gold": {"1": {"response_min": 15, "onsite_min": 240, "resolution_min": 480},
             "2": {"response_min": 30, "onsite_min": 480, "resolution_min": 960},
             "3": {"response_min": 60, "onsite_min": 960, "resolution_min": 1920},
             "4": {"response_min": 120, "onsite_min": 1440, "resolution_min": 2880},
             "5": {"response_min": 240, "onsite_min": 2880, "resolution_min": 5760}},
    "silver": {"1": {"response_min": 30, "onsite_min": 240, "resolution_min": 600},
               "2": {"response_min": 60, "onsite_min": 600, "resolution_min": 1200},
               "3": {"response_min": 120, "onsite_min": 1200, "resolution_min": 2400},
               "4": {"response_min": 240, "onsite_min": 1800, "resolution_min": 3600},
               "5": {"response_min": 480, "onsite_min": 2880, "resolution_min": 7200}},
    "bronze": {"1": {"response_min": 60, "onsite_min": 240, "resolution_min": 960},
               "2": {"response_min": 120, "onsite_min": 960, "resolution_min": 1920},
               "3": {"response_min": 240, "onsite_min": 1440, "resolution_min": 2880},
               "4": {"response_min": 480, "onsite_min": 2400, "resolution_min": 4800},
               "5": {"response_min": 960, "onsite_min": 4800, "resolution_min": 9600}},
}

DEMO_ACTOR = "system:demo"


@dataclass
class Loaded:
    """What the loader wrote (printed by the CLI, checked by the tests)."""

    day: date
    technicians: int = 0
    shifts: int = 0
    customers: int = 0
    entitlements: int = 0
    tickets: int = 0
    appointments: int = 0
    skipped: list[str] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    api_key: str | None = None
    technician_id: int | None = None  # the demo technician user's technician


class Rebase:
    """Moves generated instants by whole local days, so 08:00 stays 08:00 across DST."""

    def __init__(self, generated: date, target: date, timezone: str) -> None:
        self.days = (target - generated).days
        self.zone = ZoneInfo(timezone)

    def __call__(self, value: str | datetime | None, extra_days: int = 0) -> datetime | None:
        if value is None:
            return None
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        local = instant.astimezone(self.zone).replace(tzinfo=None)
        moved = local + timedelta(days=self.days + extra_days)
        return moved.replace(tzinfo=self.zone).astimezone(UTC)


def _read(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    request = json.loads((directory / "request.json").read_text())
    metadata = json.loads((directory / "metadata.json").read_text())
    return request, metadata


def _technicians(db: Session, request: dict[str, Any], metadata: dict[str, Any],
                 rebase: Rebase, loaded: Loaded) -> dict[str, int]:
    from api.technicians.models import Shift, Technician

    ids: dict[str, int] = {}
    for item in request["technicians"]:
        about = metadata.get("technicians", {}).get(item["id"], {})
        technician = Technician(
            name=about.get("name") or item.get("name") or item["id"],
            email=about.get("email"), skills=item.get("skills", {}),
            home_lat=item["start_location"]["lat"], home_lon=item["start_location"]["lon"],
            territories=item.get("territories", []),
            max_overtime_min=item.get("max_overtime_min", 0), capacity=item.get("capacity"),
            active=True)
        db.add(technician)
        db.flush()
        ids[item["id"]] = technician.id
        loaded.technicians += 1
        for extra in range(SHIFT_DAYS):
            for shift in item["shifts"]:
                db.add(Shift(
                    technician_id=technician.id, start=rebase(shift["start"], extra),
                    end=rebase(shift["end"], extra), status="planned",
                    breaks=[{"earliest_start": rebase(b["earliest_start"], extra).isoformat(),
                             "latest_end": rebase(b["latest_end"], extra).isoformat(),
                             "duration_min": b["duration_min"]}
                            for b in shift.get("breaks", [])]))
                loaded.shifts += 1
    db.flush()
    return ids


def _contracts(db: Session, request: dict[str, Any], metadata: dict[str, Any], rebase: Rebase,
               now: datetime, loaded: Loaded) -> tuple[dict[str, int], dict[str, int]]:
    """Customers (by name) and one contract per generated entitlement.

    Returns (appointment id -> customer id, entitlement id -> row id).
    """
    from api.entitlements.models import Customer, Entitlement

    contracts = {e["id"]: e for e in request.get("entitlements", [])}
    customers: dict[str, int] = {}
    customer_of: dict[str, int] = {}
    entitlement_rows: dict[str, int] = {}
    for item in request["appointments"]:
        about = metadata["appointments"].get(item["id"], {})
        name = about.get("customer") or f"Customer of {item['id']}"
        if name not in customers:
            customer = Customer(name=name, address=about.get("address"),
                                lat=item["location"]["lat"], lon=item["location"]["lon"],
                                timezone=metadata.get("timezone", "UTC"), active=True)
            db.add(customer)
            db.flush()
            customers[name] = customer.id
            loaded.customers += 1
        customer_of[item["id"]] = customers[name]
        contract = contracts.get(item.get("entitlement_id") or "")
        if contract is None or contract["id"] in entitlement_rows:
            continue
        tier = about.get("contract_tier") or "bronze"
        valid_until = rebase(contract.get("valid_until"))
        row = Entitlement(
            customer_id=customers[name], name=f"{tier.title()} cover {contract['id']}",
            tier=tier, products=[about.get("asset") or "field service"],
            valid_from=min(now, valid_until or now) - timedelta(days=365),
            valid_until=valid_until, onsite=contract.get("onsite", True),
            coverage=contract.get("coverage"), timezone=contract.get("timezone", "UTC"),
            targets=TIER_TARGETS.get(tier, TIER_TARGETS["bronze"]),
            min_skill_level=contract.get("min_skill_level"), usage_count=0, active=True)
        db.add(row)
        db.flush()
        entitlement_rows[contract["id"]] = row.id
        loaded.entitlements += 1
    return customer_of, entitlement_rows


def _impact_urgency(priority: int) -> tuple[int, int]:
    """Impact and urgency that the default matrix maps to ``priority`` (closest pair)."""
    return {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}[priority]


def _appointments(db: Session, request: dict[str, Any], metadata: dict[str, Any],
                  rebase: Rebase, now: datetime, technician_ids: dict[str, int],
                  customer_of: dict[str, int], entitlement_rows: dict[str, int],
                  actor: Any, loaded: Loaded) -> None:
    from api.appointments import service as appointments
    from api.appointments.geocoding import build_geocoder
    from api.appointments.schemas import AppointmentCreate
    from api.errors import ApiError
    from api.tickets import service as tickets
    from api.tickets.schemas import TicketCreate

    # Every demo visit carries coordinates; the offline gazetteer is never asked.
    geocoding = appointments.Geocoding(provider="offline",
                                       geocode=build_geocoder("offline", "fieldplan-demo"))
    for item in request["appointments"]:
        about = metadata["appointments"].get(item["id"], {})
        reported = rebase(about.get("reported_at")) or now
        ticket_id = None
        try:
            with db.begin_nested():
                impact, urgency = _impact_urgency(item.get("priority", 3))
                ticket = tickets.create(db=db, actor=actor, now=now, data=TicketCreate(
                    request_type="incident", channel="phone",
                    customer_id=customer_of[item["id"]],
                    product=about.get("asset") or "field service",
                    summary=(about.get("summary") or f"Visit {item['id']}")[:300],
                    impact=impact, urgency=urgency, needs_onsite=True,
                    received_at=min(reported, now)))
                ticket_id = ticket.id
                loaded.tickets += 1
        except (ApiError, ValueError) as exc:
            loaded.skipped.append(f"ticket for {item['id']}: {exc}")
        pinned = technician_ids.get(item.get("pinned_technician") or "")
        fields: dict[str, Any] = {
            "location": item["location"], "address": about.get("address"),
            "duration_min": item["duration_min"],
            "required_skills": item.get("required_skills", {}),
            "windows": [{"start": rebase(w["start"]), "end": rebase(w["end"])}
                        for w in item.get("windows", [])],
            "priority": item.get("priority"), "territory": item.get("territory"),
            "demand": item.get("demand", 0), "pinned_technician_id": pinned,
            "external_ref": item["id"],
        }
        if ticket_id is None:
            fields.update(customer_id=customer_of[item["id"]],
                          entitlement_id=entitlement_rows.get(item.get("entitlement_id") or ""),
                          sla_due=rebase(item.get("sla_due")))
        else:
            fields["ticket_id"] = ticket_id
        try:
            with db.begin_nested():
                appointments.create(db=db, data=AppointmentCreate(**fields), actor=actor,
                                    geocoding=geocoding)
                loaded.appointments += 1
        except (ApiError, ValueError) as exc:
            loaded.skipped.append(f"appointment {item['id']}: {exc}")


def _users(db: Session, first_technician: int | None, loaded: Loaded) -> None:
    from api.auth import service
    from api.auth.schemas import ApiKeyCreate, UserCreate

    for role, password in DEMO_USERS.items():
        technician_id = first_technician if role == "technician" else None
        service.create_user(db=db, actor=DEMO_ACTOR, data=UserCreate(
            username=role, password=password, role=role, technician_id=technician_id))
        loaded.users[role] = password
    loaded.technician_id = first_technician
    created = service.create_api_key(db=db, actor=DEMO_ACTOR,
                                     data=ApiKeyCreate(name="demo-integration",
                                                       role="integration"))
    loaded.api_key = created.key


def load_demo(db: Session, *, directory: Path = DEMO_DIR, today: date | None = None,
              now: datetime | None = None) -> Loaded:
    """Load the demo data set into an empty database, re-based so its day is tomorrow."""
    from api.auth.dependencies import Principal, Role

    request, metadata = _read(directory)
    timezone = metadata.get("timezone", "UTC")
    now = now or datetime.now(UTC)
    today = today or now.astimezone(ZoneInfo(timezone)).date()
    generated = date.fromisoformat(metadata["generator"]["start_date"])
    tomorrow = today + timedelta(days=1)
    rebase = Rebase(generated, tomorrow, timezone)
    loaded = Loaded(day=tomorrow)
    actor = Principal(kind="user", id=0, name="demo", role=Role.admin)
    technician_ids = _technicians(db, request, metadata, rebase, loaded)
    customer_of, entitlement_rows = _contracts(db, request, metadata, rebase, now, loaded)
    _appointments(db, request, metadata, rebase, now, technician_ids, customer_of,
                  entitlement_rows, actor, loaded)
    first = next(iter(technician_ids.values()), None)
    _users(db, first, loaded)
    db.flush()
    return loaded


def _already_loaded(db: Session) -> bool:
    from api.technicians.models import Technician

    return bool(db.scalar(select(func.count()).select_from(Technician)))


def _print_banner(settings: Any, host: str, port: int, loaded: Loaded | None) -> None:
    base = f"http://{host}:{port}"
    print("\nfieldplan demo")
    print(f"  database : {settings.database_url}")
    if loaded is not None:
        print(f"  loaded   : {loaded.technicians} technicians ({loaded.shifts} shifts from "
              f"{loaded.day.isoformat()}), {loaded.customers} customers, "
              f"{loaded.entitlements} contracts, {loaded.tickets} tickets, "
              f"{loaded.appointments} appointments")
        for line in loaded.skipped[:10]:
            print(f"  skipped  : {line}")
        print(f"  plan day : {loaded.day.isoformat()} (tomorrow)")
    print(f"  API docs : {base}/docs")
    print(f"  health   : {base}/api/v1/health")
    print("  log-ins  : " + ", ".join(f"{u} / {p}" for u, p in DEMO_USERS.items()))
    if loaded is not None and loaded.api_key:
        print(f"  API key  : {loaded.api_key}  (role integration, header X-API-Key)")
    print("  walkthrough: README.md, section 'Demo walkthrough'\n", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.database import make_engine, make_sessionmaker, migrate
    from api.settings import Settings

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if args.reset and database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    _, metadata = _read(DEMO_DIR)
    settings = Settings(database_url=database_url, job_backend="inprocess",
                        background_jobs=True,
                        planning_timezone=os.environ.get("PLANNING_TIMEZONE",
                                                         metadata.get("timezone", "UTC")))
    engine = make_engine(settings.database_url)
    migrate(engine)
    loaded = None
    with make_sessionmaker(engine).begin() as db:
        if _already_loaded(db):
            print("demo data already loaded earlier (its day may be past: use --reset to "
                  "load it again for tomorrow)")
        else:
            loaded = load_demo(db)
    engine.dispose()
    _print_banner(settings, args.host, args.port, loaded)
    uvicorn.run(create_app(settings), host=args.host, port=args.port)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--reset", action="store_true",
                        help="delete the demo database first and load the data again")
    parser.set_defaults(handler=cmd_demo)
