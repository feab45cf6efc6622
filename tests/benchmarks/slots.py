"""Slot offering speed: graded slots for a new visit in a busy territory (target < 300 ms).

The territory: the seeded London generator's technicians and appointments over
several working days. The committed work is made the way a calendar fills up:
each generated appointment is booked, in order, into the best slot the offer
gives it (its own windows, contract and skills apply), so every route is as
full and as constrained as real booked work. Then fresh drafts (random
location, duration, skills, contract, priority; a 5-day horizon, 2-hour
windows) are offered, and the time of each offer is measured:

- cold: ``offer_slots`` from the request (compile, time the eligible
  technicians' committed routes, then the offer): what one API call does;
- warm: ``SlotIndex.offer`` on an index that has already served the drafts
  once (its routes are timed; an agent trying several drafts against the
  same committed work).

- api (``--api``): ``POST /api/v1/slots`` through the app on a SQLite file
  holding the same territory (rows, migrations, auth, mapping to the exchange
  format and back included).

    .venv/bin/python tests/benchmarks/slots.py [--technicians 50] [--appointments 400]
        [--days 5] [--drafts 20] [--runs 5] [--seed 3] [--api]

Prints the machine, the instance, and the median / p90 / max per offer against
the 300 ms target. Not run by CI.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data.generate import generate_day  # noqa: E402
from optimiser.schema import Appointment, Location, PlanRequest  # noqa: E402
from optimiser.slots import SlotIndex, SlotOptions, offer_slots  # noqa: E402
from tests.benchmarks.common import machine_header  # noqa: E402

TARGET_MS = 300.0


def book_territory(request: PlanRequest, not_before, days: int) -> tuple[PlanRequest, int]:
    """Book every appointment, in order, into its best slot; return the committed request."""
    committed: list[Appointment] = []
    booked = 0
    options = SlotOptions(not_before=not_before, horizon_days=days + 2, slot_min=60)
    for appointment in request.appointments:
        current = request.model_copy(update={"appointments": committed})
        draft = appointment.model_copy(update={"pinned_technician": None})
        offer = offer_slots(current, draft, options)
        if offer.slots:
            best = offer.slots[0]
            appointment = appointment.model_copy(update={
                "planned_technician": best.technician_id, "planned_start": best.planned_start})
            booked += 1
        committed.append(appointment)
    return request.model_copy(update={"appointments": committed}), booked


def random_drafts(request: PlanRequest, count: int, seed: int) -> list[Appointment]:
    rng = random.Random(seed)
    lats = [a.location.lat for a in request.appointments]
    lons = [a.location.lon for a in request.appointments]
    skills = sorted({s for t in request.technicians for s in t.skills})
    contracts = [e.id for e in request.entitlements if e.onsite] or [None]
    drafts = []
    for k in range(count):
        skill = rng.choice(skills)
        drafts.append(Appointment(
            id=f"DRAFT-{k}",
            location=Location(lat=rng.uniform(min(lats), max(lats)),
                              lon=rng.uniform(min(lons), max(lons))),
            duration_min=rng.choice([30, 45, 60, 90]),
            required_skills={skill: rng.choice([1, 2, 2, 3])},
            entitlement_id=rng.choice(contracts),
            priority=rng.choice([2, 3, 3, 4]),
        ))
    return drafts


def summary(label: str, times_ms: list[float]) -> str:
    ordered = sorted(times_ms)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    median = statistics.median(ordered)
    verdict = "OK" if median < TARGET_MS else "OVER TARGET"
    return (f"{label:<34} median {median:7.1f} ms   p90 {p90:7.1f} ms   max "
            f"{ordered[-1]:7.1f} ms   target {TARGET_MS:.0f} ms: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--appointments", type=int, default=400)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--drafts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per draft")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--api", action="store_true",
                        help="also time POST /api/v1/slots on a SQLite file")
    args = parser.parse_args(argv)

    print(machine_header())
    dataset = generate_day(args.technicians, args.appointments, days=args.days, seed=args.seed)
    request = dataset.request
    first_shift = min(s.start for t in request.technicians for s in t.shifts)
    not_before = first_shift - timedelta(hours=1)
    started = time.perf_counter()
    request, booked = book_territory(request, not_before, args.days)
    print(f"territory: {len(request.technicians)} technicians, "
          f"{sum(len(t.shifts) for t in request.technicians)} shifts over {args.days} days, "
          f"{len(request.appointments)} appointments of which {booked} booked as committed work "
          f"(setup {time.perf_counter() - started:.1f} s, not timed)")

    drafts = random_drafts(request, args.drafts, args.seed)
    options = SlotOptions(not_before=not_before, horizon_days=args.days, slot_min=120,
                          per_window=1)
    cold: list[float] = []
    warm: list[float] = []
    offered = 0
    for draft in drafts:
        for _ in range(args.runs):
            t0 = time.perf_counter()
            offer = offer_slots(request, draft, options)
            cold.append((time.perf_counter() - t0) * 1000)
        offered += len(offer.slots)
    index = SlotIndex(request, options)
    for draft in drafts:  # times every route a draft can use
        index.offer(draft)
    for draft in drafts:
        for _ in range(args.runs):
            t0 = time.perf_counter()
            index.offer(draft)
            warm.append((time.perf_counter() - t0) * 1000)
    print(f"drafts: {len(drafts)} x {args.runs} runs, {offered / len(drafts):.1f} windows "
          f"offered per draft on average (5-day horizon, 2-hour windows)")
    print(summary("cold (offer_slots, one API call)", cold))
    print(summary("warm (SlotIndex.offer)", warm))
    if args.api:
        print(summary("api (POST /api/v1/slots, SQLite)",
                      time_api(request, drafts, not_before, args.days, args.runs)))
    return 0


def time_api(request: PlanRequest, drafts: list[Appointment], not_before, days: int,
             runs: int) -> list[float]:
    """Load the territory into a fresh SQLite database and time ``POST /slots``."""
    import tempfile

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth.models import User
    from api.auth.security import create_access_token
    from tests.api.conftest import make_test_settings

    with tempfile.TemporaryDirectory() as folder:
        settings = make_test_settings(f"sqlite:///{folder}/bench.db")
        app = create_app(settings)
        with TestClient(app) as client:
            entitlement_ids = _load(app, request)
            with app.state.sessionmaker.begin() as session:
                user = User(username="bench", password_hash="x", role="dispatcher",
                            active=True)
                session.add(user)
                session.flush()
                token = create_access_token(user_id=user.id, role="dispatcher",
                                            secret_key=settings.secret_key, expire_min=60)
            headers = {"Authorization": f"Bearer {token}"}
            times: list[float] = []
            for draft in drafts:
                body = {"location": {"lat": draft.location.lat, "lon": draft.location.lon},
                        "duration_min": draft.duration_min,
                        "required_skills": draft.required_skills,
                        "entitlement_id": entitlement_ids.get(draft.entitlement_id),
                        "priority": draft.priority, "not_before": not_before.isoformat(),
                        "days": days}
                for _ in range(runs):
                    t0 = time.perf_counter()
                    response = client.post("/api/v1/slots", json=body, headers=headers)
                    times.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"POST /slots answered {response.status_code}: "
                                         f"{response.text}")
            return times


def _load(app, request: PlanRequest) -> dict[str, int]:
    """The request's technicians, shifts, contracts and committed visits as rows."""
    from datetime import UTC, datetime

    from api.appointments.models import Appointment as Row
    from api.entitlements.models import Customer, Entitlement
    from api.technicians.models import Shift, Technician

    def iso(value: datetime) -> str:
        return value.astimezone(UTC).isoformat()

    with app.state.sessionmaker.begin() as session:
        customer = Customer(name="Bench Co", timezone="Europe/London")
        session.add(customer)
        session.flush()
        contracts: dict[str, int] = {}
        for e in request.entitlements:
            row = Entitlement(
                customer_id=customer.id, name=e.id, tier="bench", products=[],
                valid_from=datetime(2020, 1, 1, tzinfo=UTC), valid_until=e.valid_until,
                onsite=e.onsite, timezone=e.timezone, targets={},
                min_skill_level=e.min_skill_level,
                coverage=None if e.coverage is None else
                [p.model_dump(by_alias=True) for p in e.coverage])
            session.add(row)
            session.flush()
            contracts[e.id] = row.id
        technicians: dict[str, int] = {}
        for t in request.technicians:
            row = Technician(name=t.name or t.id, home_lat=t.start_location.lat,
                             home_lon=t.start_location.lon, skills=t.skills,
                             territories=t.territories, max_overtime_min=t.max_overtime_min,
                             capacity=t.capacity)
            session.add(row)
            session.flush()
            technicians[t.id] = row.id
            for s in t.shifts:
                session.add(Shift(technician_id=row.id, start=s.start, end=s.end, breaks=[
                    {"earliest_start": iso(b.earliest_start), "latest_end": iso(b.latest_end),
                     "duration_min": b.duration_min} for b in s.breaks]))
        now = datetime.now(UTC)
        for a in request.appointments:
            if a.planned_technician is None or a.planned_start is None:
                continue
            session.add(Row(
                entitlement_id=contracts.get(a.entitlement_id), lat=a.location.lat,
                lon=a.location.lon, duration_min=a.duration_min,
                required_skills=a.required_skills,
                windows=[{"start": iso(w.start), "end": iso(w.end)} for w in a.windows],
                window_start=min((w.start for w in a.windows), default=None),
                window_end=max((w.end for w in a.windows), default=None),
                sla_due=a.sla_due, priority=a.priority, territory=a.territory,
                demand=a.demand, preferred_technician_ids=[], excluded_technician_ids=[],
                status="scheduled", technician_id=technicians[a.planned_technician],
                scheduled_start=a.planned_start,
                scheduled_end=a.planned_start + timedelta(minutes=a.duration_min),
                status_changed_at=now, created_by="bench", created_at=now, updated_at=now))
    return contracts


if __name__ == "__main__":
    sys.exit(main())
