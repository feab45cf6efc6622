"""What a re-plan changed compared with the published plan (pure: request + plan in).

The re-plan request carries each published visit's ``planned_technician`` and
``planned_start``; comparing those with the new plan gives the dispatcher the
list to act on: visits given to another technician, visits whose start moved,
visits dropped from the day and new visits inserted. A start moving by no more
than ``options.shift_tolerance_min`` is listed too (the technician's day still
changes) but flagged ``within_tolerance``: the optimiser did not pay for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from optimiser.schema import Plan, PlanRequest


def _placed(plan: Plan) -> dict[str, tuple[str, datetime]]:
    return {stop.appointment_id: (route.technician_id, stop.start)
            for route in plan.routes for stop in route.stops}


def _slot(technician: str | None, start: datetime | None) -> dict[str, Any] | None:
    if technician is None:
        return None
    return {"technician_id": technician, "start": start.isoformat() if start else None}


def plan_changes(request: PlanRequest, plan: Plan) -> list[dict[str, Any]]:
    """One entry per appointment whose technician or start differs from the published plan.

    ``change`` is ``reassigned``, ``shifted``, ``unassigned`` (was planned, now
    left out, with the reason) or ``inserted`` (had no plan, now placed).
    """
    placed = _placed(plan)
    reasons = {u.appointment_id: u.reason for u in plan.unassigned}
    tolerance = request.options.shift_tolerance_min
    changes: list[dict[str, Any]] = []
    for appointment in request.appointments:
        before = _slot(appointment.planned_technician, appointment.planned_start)
        new = placed.get(appointment.id)
        after = _slot(*new) if new else None
        entry: dict[str, Any] = {"appointment_id": appointment.id,
                                 "priority": appointment.priority, "from": before, "to": after}
        if before is None:
            if after is not None:
                changes.append({**entry, "change": "inserted"})
            continue
        if after is None:
            changes.append({**entry, "change": "unassigned",
                            "reason": reasons.get(appointment.id)})
            continue
        delta_min = None
        if appointment.planned_start is not None:
            delta_min = round((new[1] - appointment.planned_start).total_seconds() / 60, 1)
        if new[0] != appointment.planned_technician:
            changes.append({**entry, "change": "reassigned", "delta_min": delta_min})
        elif delta_min:
            changes.append({**entry, "change": "shifted", "delta_min": delta_min,
                            "within_tolerance": abs(delta_min) <= tolerance})
    return changes
