"""How long one escalation run takes over a backlog of open tickets (SQLite or PostgreSQL).

    python tests/benchmarks/escalation.py [--tickets 2000] [--database-url URL]

Creates the tickets through the ticket service (half on a Mon-Fri 08-18
New York contract, half on a 24x7 one, a quarter of them on hold), then times
``run_escalation`` three times at the same instant: the first run does the
work (tier moves, warnings), the next ones find nothing new (idempotence) and
show the cost of a quiet tick, which is what the ticker pays every interval.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.benchmarks.common import machine_header


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from api.database import make_engine, make_sessionmaker, migrate
    from api.entitlements.models import Customer, Entitlement
    from api.tickets.escalation import run_escalation
    from api.tickets.schemas import TicketCreate
    from api.tickets.service import Actor, create, transition

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'escalation.db'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    actor = Actor(name="bench", role="agent")
    start = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)  # a Monday
    weekdays = [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}]
    targets = {str(p): {"response_min": 60 * p, "onsite_min": 240 * p, "resolution_min": 600 * p}
               for p in range(1, 6)}  # fmt: skip

    began = time.perf_counter()
    with sessions.begin() as db:
        customers = []
        for index, coverage in enumerate((weekdays, None)):
            customer = Customer(name=f"bench {index}", timezone="UTC")
            db.add(customer)
            db.flush()
            db.add(Entitlement(customer_id=customer.id, name="bench", products=[],
                               valid_from=start - timedelta(days=365), coverage=coverage,
                               timezone="America/New_York", targets=targets))  # fmt: skip
            customers.append(customer.id)
        db.flush()
        for n in range(args.tickets):
            at = start + timedelta(minutes=n % 600)
            ticket = create(db=db, actor=actor, now=at, data=TicketCreate(
                request_type="incident", channel="web", customer_id=customers[n % 2],
                product=f"p{n % 37}", summary="bench", impact=1 + n % 3, urgency=1 + n % 3,
                needs_onsite=n % 3 == 0, received_at=at))  # fmt: skip
            if n % 4 == 0:
                for step, to in enumerate(["validated", "recorded", "screened", "prioritised",
                                           "assigned", "awaiting_parts"]):  # fmt: skip
                    transition(
                        db=db,
                        ticket_id=ticket.id,
                        to=to,
                        version=ticket.version,
                        note=None,
                        actor=actor,
                        now=at + timedelta(minutes=step + 1),
                    )
    setup = time.perf_counter() - began

    now = start + timedelta(days=2)
    print(machine_header())
    print(
        f"database: {engine.dialect.name}; {args.tickets} open tickets; setup {setup:.1f} s "
        f"({1000 * setup / args.tickets:.1f} ms per ticket incl. intake transitions)"
    )
    for label in ("first run", "repeat (idempotent)", "repeat (idempotent)"):
        with sessions.begin() as db:
            began = time.perf_counter()
            summary = run_escalation(db=db, now=now)
            elapsed = time.perf_counter() - began
        print(
            f"{label:22s} {elapsed:6.2f} s  ({1000 * elapsed / args.tickets:.2f} ms/ticket)  "
            f"moves {summary['tier_moves']}, warnings {summary['sla_warning_50']}/"
            f"{summary['sla_warning_75']}, breaches {summary['sla_breached']}"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
