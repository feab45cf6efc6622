"""Re-plan stability on the demo day, library only: one emergency, how much of the day moves.

The published plan: ``data/demo/request.json`` solved for ``--time-limit`` s;
every routed visit gets its technician and start as ``planned_technician`` /
``planned_start``. Then one priority-1 visit (2 h SLA) is added beside the
busiest route and the day is re-planned for ``--replan-time-limit`` s, twice:
warm (the first plan starts from the published routes, ``optimiser.warm_start``)
and cold (the first plan by greedy insertion from scratch, ignoring the published
routes: the behaviour before the warm start on a day this size). Counted per
re-plan: the emergency placed or not, visits reassigned to another
technician, visits whose start moved beyond ``shift_tolerance_min``, visits
dropped that were planned, and wall/CPU seconds (the machine is shared).

    .venv/bin/python tests/benchmarks/replan.py [--time-limit 20] [--replan-time-limit 30]

Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import optimiser.solver as solver_module  # noqa: E402
from optimiser import solve  # noqa: E402
from optimiser.construct import construct_routes  # noqa: E402
from optimiser.schema import Appointment, Plan, PlanRequest, TimeWindow  # noqa: E402
from optimiser.validate import validate_plan  # noqa: E402
from tests.benchmarks.common import REPO, machine_header  # noqa: E402

EMERGENCY = "EMERGENCY-1"


def published(request: PlanRequest, plan: Plan) -> PlanRequest:
    """``request`` with every routed visit's technician and start as its planned ones."""
    placed = {s.appointment_id: (r.technician_id, s.start) for r in plan.routes for s in r.stops}
    appointments = []
    for a in request.appointments:
        update = {}
        if a.id in placed:
            update = {"planned_technician": placed[a.id][0], "planned_start": placed[a.id][1]}
        appointments.append(a.model_copy(update=update))
    return request.model_copy(update={"appointments": appointments})


def with_emergency(request: PlanRequest, plan: Plan) -> PlanRequest:
    """One P1 visit beside the middle stop of the busiest route, due within 2 hours of it."""
    busiest = max(plan.routes, key=lambda r: len(r.stops))
    beside = busiest.stops[len(busiest.stops) // 2]
    model = next(a for a in request.appointments if a.id == beside.appointment_id)
    location = model.location.model_copy(
        update={"lat": model.location.lat + 0.004, "lon": model.location.lon + 0.004})
    opens = beside.start - timedelta(hours=1)
    emergency = Appointment(
        id=EMERGENCY, location=location, duration_min=45,
        required_skills=dict(model.required_skills), territory=model.territory,
        windows=[TimeWindow(start=opens, end=opens + timedelta(hours=3))],
        sla_due=opens + timedelta(hours=2), priority=1)
    return request.model_copy(update={"appointments": [*request.appointments, emergency]})


def changes(request: PlanRequest, plan: Plan) -> dict:
    tolerance = timedelta(minutes=request.options.shift_tolerance_min)
    placed = {s.appointment_id: (r.technician_id, s.start) for r in plan.routes for s in r.stops}
    reassigned = shifted = dropped = 0
    for a in request.appointments:
        if a.planned_technician is None:
            continue
        if a.id not in placed:
            dropped += 1
            continue
        technician, start = placed[a.id]
        if technician != a.planned_technician:
            reassigned += 1
        elif abs(start - a.planned_start) > tolerance:
            shifted += 1
    return {"emergency_placed": EMERGENCY in placed, "reassigned": reassigned,
            "shifted": shifted, "dropped": dropped,
            "assigned": plan.kpis.assigned if plan.kpis else None,
            "violations": len(validate_plan(request, plan))}


def replan(request: PlanRequest, limit: float, warm: bool) -> dict:
    original = solver_module.published_routes
    if not warm:
        solver_module.published_routes = construct_routes
    try:
        started, cpu = time.perf_counter(), time.process_time()
        plan = solve(request, time_limit_s=limit)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    finally:
        solver_module.published_routes = original
    return {**changes(request, plan), "wall_s": round(seconds, 1), "cpu_s": round(cpu_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=20)
    parser.add_argument("--replan-time-limit", type=float, default=30)
    args = parser.parse_args()
    print(machine_header())
    request = PlanRequest.model_validate(
        json.loads((REPO / "data/demo/request.json").read_text()))
    started = time.perf_counter()
    first = solve(request, time_limit_s=args.time_limit)
    print(f"published plan: {first.kpis.assigned}/{first.kpis.appointments} visits in "
          f"{time.perf_counter() - started:.1f} s")
    day = with_emergency(published(request, first), first)
    for warm in (True, False):
        figures = replan(day, args.replan_time_limit, warm)
        print(f"{'warm' if warm else 'cold'} re-plan {args.replan_time_limit:g} s: "
              + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
