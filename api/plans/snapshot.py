"""The data a plan was built on: row versions and statuses, and what changed since.

A plan job keeps a snapshot of every input row (appointments, technicians,
their shifts, entitlements): its ``version`` and, where it has one, its
``status`` or ``active`` flag. Publishing re-reads the same rows and refuses
when anything differs, listing each difference, because a plan built on a
cancelled visit or a technician who went off sick must not be written back.
Rows added since (a new appointment) do not make a plan stale: it simply does
not contain them, and they stay unscheduled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment
from api.entitlements.models import Entitlement
from api.technicians.models import Shift, Technician

#: Snapshot section -> (table, the row fields that matter besides ``version``).
SECTIONS: dict[str, tuple[type, tuple[str, ...]]] = {
    "appointments": (Appointment, ("status",)),
    "technicians": (Technician, ("active",)),
    "shifts": (Shift, ("status",)),
    "entitlements": (Entitlement, ("active",)),
}

SINGULAR = {"appointments": "appointment", "technicians": "technician", "shifts": "shift",
            "entitlements": "entitlement"}


def _state(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {"version": row.version, **{name: getattr(row, name) for name in fields}}


def take(*, appointments: Iterable[Appointment] = (), technicians: Iterable[Technician] = (),
         shifts: Iterable[Shift] = (), entitlements: Iterable[Entitlement] = ()
         ) -> dict[str, dict[str, dict[str, Any]]]:
    """The snapshot of the given rows: {section: {row id: {version, status...}}}."""
    rows = {"appointments": appointments, "technicians": technicians, "shifts": shifts,
            "entitlements": entitlements}
    return {section: {str(row.id): _state(row, SECTIONS[section][1]) for row in rows[section]}
            for section in SECTIONS}


def fingerprint(snapshot: dict[str, Any]) -> str:
    """A short stable hash of a snapshot (equal data, equal fingerprint)."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def current(db: Session, snapshot: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The same rows as ``snapshot``, as they are now (missing rows are left out)."""
    now: dict[str, dict[str, dict[str, Any]]] = {}
    for section, (table, fields) in SECTIONS.items():
        ids = [int(row_id) for row_id in snapshot.get(section, {})]
        found = db.scalars(select(table).where(table.id.in_(ids))).all() if ids else []
        now[section] = {str(row.id): _state(row, fields) for row in found}
    return now


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two snapshots of the same rows, one entry per change.

    Each entry: ``entity``, ``id``, ``change`` (``deleted``, ``edited`` or the
    name of the field that changed) and ``from`` / ``to`` values.
    """
    found: list[dict[str, Any]] = []
    for section in SECTIONS:
        old_rows, new_rows = before.get(section, {}), after.get(section, {})
        for row_id in sorted(old_rows, key=int):
            entity = {"entity": SINGULAR[section], "id": int(row_id)}
            old, new = old_rows[row_id], new_rows.get(row_id)
            if new is None:
                found.append({**entity, "change": "deleted", "from": old, "to": None})
                continue
            fields = [name for name in old if name != "version" and old[name] != new.get(name)]
            for name in fields:
                found.append({**entity, "change": name, "from": old[name], "to": new.get(name)})
            if not fields and old["version"] != new["version"]:
                found.append({**entity, "change": "edited", "from": old["version"],
                              "to": new["version"]})
    return found


def describe(change: dict[str, Any]) -> str:
    """One change in words, e.g. ``appointment 12: status scheduled -> cancelled``."""
    what = f"{change['entity']} {change['id']}"
    if change["change"] == "deleted":
        return f"{what}: deleted"
    if change["change"] == "edited":
        return f"{what}: edited (version {change['from']} -> {change['to']})"
    return f"{what}: {change['change']} {change['from']} -> {change['to']}"
