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

    .venv/bin/python tests/benchmarks/slots.py [--technicians 50] [--appointments 400]
        [--days 5] [--drafts 20] [--runs 5] [--seed 3]

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
