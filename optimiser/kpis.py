"""Key figures of a plan: one table per stop, the spec's KPIs, a benchmark summary.

The figures are computed from the plan's own times and travel legs, with the
request supplying what a plan does not repeat (priorities, SLA deadlines,
shift ends). SLA hits and overtime are re-derived from the times rather than
copied from the plan's flags, so a KPI never inherits a mislabelled stop;
``optimiser.validate`` is where a plan's flags are checked against its times.

Definitions (the spec leaves these open):

- ``sla_met`` / ``sla_missed`` count ASSIGNED visits that have an ``sla_due``:
  met when the visit starts at or before it. Unassigned appointments are
  counted in ``unassigned`` / ``unassigned_by_priority``, not as SLA misses.
- ``lateness_min``: total minutes by which assigned visits started after their
  ``sla_due``.
- ``overtime_min``: total minutes by which routes return after their shift end.
- ``utilisation``: busy minutes (service + travel, including the legs home) of
  all routes, divided by the available minutes of ALL shifts of ALL technicians
  in the request (shift length minus its break durations). It is the share of
  the workforce's paid time that the plan fills, so an idle technician lowers
  it; overtime can push it above 1. ``route_frame`` gives the per-route view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from optimiser.schema import Kpis, Plan, PlanRequest, Route, Shift

#: Weight of one assigned visit by priority (P1..P5) in the benchmark summary:
#: each level is worth twice the next one down.
PRIORITY_WEIGHTS: dict[int, int] = {1: 16, 2: 8, 3: 4, 4: 2, 5: 1}

STOP_COLUMNS = [
    "technician", "shift_index", "appointment", "priority", "arrival", "start", "end",
    "travel_min", "distance_km", "sla_due", "sla_met", "lateness_min", "duration_min",
]

ROUTE_COLUMNS = [
    "technician", "shift_index", "stops", "service_min", "travel_min", "distance_km",
    "break_min", "shift_min", "available_min", "overtime_min", "utilisation",
]


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _shift_of(request: PlanRequest, route: Route) -> Shift | None:
    """The request shift a route runs in, or None for an unknown technician/shift."""
    for tech in request.technicians:
        if tech.id == route.technician_id:
            if 0 <= route.shift_index < len(tech.shifts):
                return tech.shifts[route.shift_index]
            return None
    return None


def _available_min(shift: Shift) -> float:
    return _minutes(shift.end, shift.start) - sum(b.duration_min for b in shift.breaks)


def _overtime_min(request: PlanRequest, route: Route) -> float:
    shift = _shift_of(request, route)
    if shift is None:
        return route.overtime_min
    return max(0.0, _minutes(route.return_, shift.end))


def stop_frame(request: PlanRequest, plan: Plan) -> pd.DataFrame:
    """One row per scheduled stop, in route order; times as UTC timestamps.

    ``sla_met`` is a nullable boolean (``<NA>`` for visits without ``sla_due``);
    ``lateness_min`` is 0 for those. ``duration_min`` is the visit as planned
    (end - start).
    """
    appointments = {a.id: a for a in request.appointments}
    rows = []
    for route in plan.routes:
        for stop in route.stops:
            appointment = appointments.get(stop.appointment_id)
            sla_due = appointment.sla_due if appointment else None
            if sla_due is None:
                sla_met, lateness = None, 0.0
            else:
                sla_met = stop.start <= sla_due
                lateness = max(0.0, _minutes(stop.start, sla_due))
            rows.append({
                "technician": route.technician_id,
                "shift_index": route.shift_index,
                "appointment": stop.appointment_id,
                "priority": appointment.priority if appointment else pd.NA,
                "arrival": stop.arrival,
                "start": stop.start,
                "end": stop.end,
                "travel_min": stop.travel_min,
                "distance_km": stop.distance_km,
                "sla_due": sla_due,
                "sla_met": sla_met,
                "lateness_min": lateness,
                "duration_min": _minutes(stop.end, stop.start),
            })
    frame = pd.DataFrame(rows, columns=STOP_COLUMNS)
    for column in ("arrival", "start", "end", "sla_due"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["shift_index"] = frame["shift_index"].astype("int64")
    frame["priority"] = frame["priority"].astype("Int64")
    frame["sla_met"] = frame["sla_met"].astype("boolean")
    for column in ("travel_min", "distance_km", "lateness_min", "duration_min"):
        frame[column] = frame[column].astype("float64")
    return frame


def route_frame(request: PlanRequest, plan: Plan) -> pd.DataFrame:
    """One row per route: work, travel, overtime and the route's own utilisation.

    A route's ``utilisation`` is (service + travel) / (shift minus breaks).
    """
    rows = []
    for route in plan.routes:
        shift = _shift_of(request, route)
        service = sum(_minutes(s.end, s.start) for s in route.stops)
        shift_min = _minutes(shift.end, shift.start) if shift else float("nan")
        available = _available_min(shift) if shift else float("nan")
        busy = service + route.travel_min
        rows.append({
            "technician": route.technician_id,
            "shift_index": route.shift_index,
            "stops": len(route.stops),
            "service_min": service,
            "travel_min": route.travel_min,
            "distance_km": route.distance_km,
            "break_min": sum(_minutes(b.end, b.start) for b in route.breaks),
            "shift_min": shift_min,
            "available_min": available,
            "overtime_min": _overtime_min(request, route),
            "utilisation": busy / available if available and available > 0 else float("nan"),
        })
    return pd.DataFrame(rows, columns=ROUTE_COLUMNS)


def _by_priority(priorities: list[int]) -> dict[str, int]:
    counts = Counter(priorities)
    return {str(p): counts.get(p, 0) for p in PRIORITY_WEIGHTS}


def compute_kpis(request: PlanRequest, plan: Plan) -> Kpis:
    """The spec's KPI block for ``plan`` (see the module docstring for definitions).

    Floats are rounded (minutes and km to 3 decimals, utilisation to 4) so the
    published JSON stays readable; the frames keep full precision.
    """
    stops = stop_frame(request, plan)
    priority = {a.id: a.priority for a in request.appointments}
    busy = float(stops["duration_min"].sum()) + sum(r.travel_min for r in plan.routes)
    available = sum(_available_min(s) for t in request.technicians for s in t.shifts)
    unassigned_priorities = [priority[u.appointment_id] for u in plan.unassigned
                             if u.appointment_id in priority]
    return Kpis(
        appointments=len(request.appointments),
        assigned=len(stops),
        unassigned=len(plan.unassigned),
        distance_km=round(sum(r.distance_km for r in plan.routes), 3),
        travel_min=round(sum(r.travel_min for r in plan.routes), 3),
        sla_met=int((stops["sla_met"] == True).sum()),  # noqa: E712 (nullable boolean)
        sla_missed=int((stops["sla_met"] == False).sum()),  # noqa: E712
        lateness_min=round(float(stops["lateness_min"].sum()), 3),
        overtime_min=round(sum(_overtime_min(request, r) for r in plan.routes), 3),
        utilisation=round(busy / available, 4) if available > 0 else 0.0,
        assigned_by_priority=_by_priority(stops["priority"].dropna().astype(int).tolist()),
        unassigned_by_priority=_by_priority(unassigned_priorities),
        routes_used=sum(1 for r in plan.routes if r.stops),
    )


def plan_summary(request: PlanRequest, plan: Plan) -> dict[str, float]:
    """KPIs plus the figures benchmark scripts compare plans by.

    ``weighted_assigned`` sums ``PRIORITY_WEIGHTS`` over assigned visits and
    ``weighted_share`` divides it by the same sum over all appointments (1.0 =
    everything assigned). ``weighted_work_min`` weighs visit minutes the same
    way. ``km_per_visit`` / ``travel_min_per_visit`` are NaN for an empty plan.
    """
    kpis = compute_kpis(request, plan)
    assigned_ids = {s.appointment_id for r in plan.routes for s in r.stops}
    weight_all = sum(PRIORITY_WEIGHTS[a.priority] for a in request.appointments)
    assigned = [a for a in request.appointments if a.id in assigned_ids]
    weighted = sum(PRIORITY_WEIGHTS[a.priority] for a in assigned)
    summary: dict[str, float] = {
        k: v for k, v in kpis.model_dump().items() if not isinstance(v, dict)
    }
    for p in PRIORITY_WEIGHTS:
        summary[f"assigned_p{p}"] = kpis.assigned_by_priority[str(p)]
        summary[f"unassigned_p{p}"] = kpis.unassigned_by_priority[str(p)]
    summary.update({
        "weighted_assigned": weighted,
        "weighted_share": weighted / weight_all if weight_all else 1.0,
        "weighted_work_min": sum(PRIORITY_WEIGHTS[a.priority] * a.duration_min for a in assigned),
        "km_per_visit": kpis.distance_km / kpis.assigned if kpis.assigned else float("nan"),
        "travel_min_per_visit": kpis.travel_min / kpis.assigned if kpis.assigned
        else float("nan"),
        "solve_time_s": plan.solve_time_s,
    })
    return summary


def summary_frame(runs: Mapping[str, tuple[PlanRequest, Plan]]) -> pd.DataFrame:
    """``plan_summary`` of several labelled runs, one row each, indexed by label."""
    frame = pd.DataFrame.from_dict(
        {label: plan_summary(request, plan) for label, (request, plan) in runs.items()},
        orient="index",
    )
    frame.index.name = "run"
    return frame
