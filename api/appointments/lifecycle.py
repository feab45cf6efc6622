"""The appointment status lifecycle: one explicit transition table.

Every status change in the project (a dispatcher's PATCH, a cancel, a
technician's status update from the field, a published plan) is checked
against ``TRANSITIONS`` so the rules live in exactly one place. Each edge also
names the roles that may take it, because the field app (technician) may only
move its own visit forward while the office (dispatcher, admin) may also
reschedule, recall or cancel. The module is pure: no web, no database.
"""

from __future__ import annotations

from enum import StrEnum


class AppointmentStatus(StrEnum):
    unscheduled = "unscheduled"
    scheduled = "scheduled"
    dispatched = "dispatched"
    en_route = "en_route"
    on_site = "on_site"
    completed = "completed"
    cannot_complete = "cannot_complete"
    cancelled = "cancelled"


S = AppointmentStatus
OFFICE = frozenset({"admin", "dispatcher"})
FIELD = frozenset({"admin", "dispatcher", "technician"})

# current status -> {target status: roles that may take this edge}.
# - unscheduled/scheduled: the office (or the planner acting for it) assigns,
#   unassigns and dispatches.
# - dispatched -> scheduled is a recall before the technician set off.
# - en_route -> dispatched: the technician turned back (the visit stays theirs).
# - cannot_complete -> unscheduled: the work is re-queued for another visit;
#   completed and cancelled are final.
TRANSITIONS: dict[AppointmentStatus, dict[AppointmentStatus, frozenset[str]]] = {
    S.unscheduled: {S.scheduled: OFFICE, S.cancelled: OFFICE},
    S.scheduled: {S.unscheduled: OFFICE, S.dispatched: OFFICE, S.cancelled: OFFICE},
    S.dispatched: {
        S.scheduled: OFFICE, S.unscheduled: OFFICE, S.en_route: FIELD, S.on_site: FIELD,
        S.cannot_complete: FIELD, S.cancelled: OFFICE,
    },
    S.en_route: {
        S.dispatched: FIELD, S.on_site: FIELD, S.cannot_complete: FIELD, S.cancelled: OFFICE,
    },
    S.on_site: {S.completed: FIELD, S.cannot_complete: FIELD},
    S.completed: {},
    S.cannot_complete: {S.unscheduled: OFFICE},
    S.cancelled: {},
}

# Statuses in which a technician and a start/end time must be set.
ASSIGNED_STATUSES = frozenset({S.scheduled, S.dispatched, S.en_route, S.on_site, S.completed})
# Statuses that end the appointment's life: only notes may still change.
FINAL_STATUSES = frozenset(status for status, edges in TRANSITIONS.items() if not edges)
# Statuses the optimiser must keep with their technician (spec: pinned_technician).
COMMITTED_STATUSES = frozenset({S.dispatched, S.en_route, S.on_site})


def allowed_targets(current: AppointmentStatus, role: str | None = None) -> list[str]:
    """Statuses reachable from ``current`` (for ``role`` when given), in lifecycle order."""
    edges = TRANSITIONS[AppointmentStatus(current)]
    return [str(target) for target in AppointmentStatus
            if target in edges and (role is None or role in edges[target])]


def is_allowed(current: AppointmentStatus, target: AppointmentStatus,
               role: str | None = None) -> bool:
    """Whether ``current -> target`` is an edge (that ``role`` may take, when given)."""
    roles = TRANSITIONS[AppointmentStatus(current)].get(AppointmentStatus(target))
    return roles is not None and (role is None or role in roles)
