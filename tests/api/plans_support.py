"""Helpers for the plan-job tests: job rows, waiting, finding solver child processes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from api.database import utcnow
from api.plans.models import PlanJob
from optimiser.schema import Plan, PlanRequest
from optimiser.validate import validate_plan

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
T = TypeVar("T")


def sample_request(name: str = "day-5x20", *, time_limit_s: float = 1.0) -> dict[str, Any]:
    """A generated sample day as an exchange-format request dict."""
    request = json.loads((SAMPLES / name / "request.json").read_text())
    request.setdefault("options", {})["time_limit_s"] = time_limit_s
    return request


def insert_job(session_factory: sessionmaker[Session], request: dict[str, Any], *,
               kind: str = "daily", **fields: Any) -> int:
    """A queued plan job for ``request`` (no snapshot: these tests never publish)."""
    with session_factory.begin() as db:
        job = PlanJob(kind=kind, params={}, status="queued", request=request, snapshot={},
                      fingerprint="-", created_by="tests", created_at=utcnow(), attempts=0,
                      cancel_requested=False)
        for name, value in fields.items():
            setattr(job, name, value)
        db.add(job)
        db.flush()
        return job.id


def load_job(session_factory: sessionmaker[Session], job_id: int) -> PlanJob:
    with session_factory() as db:
        job = db.get(PlanJob, job_id)
        db.expunge(job)
        return job


def wait_for(probe: Callable[[], T], *, timeout: float, every: float = 0.1,
             what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def solver_children(parent: int | None = None) -> list[int]:
    """Solver child processes (``api.plans.solver_process``) below ``parent``."""
    found = []
    for pid in descendants(parent or os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"api.plans.solver_process" in command:
            found.append(pid)
    return found


def assert_plan_valid(request: dict[str, Any], plan: dict[str, Any]) -> Plan:
    """The plan validates against its request and places each appointment exactly once."""
    parsed_request = PlanRequest.model_validate(request)
    parsed = Plan.model_validate(plan)
    assert validate_plan(parsed_request, parsed) == []
    seen = [s.appointment_id for r in parsed.routes for s in r.stops]
    seen += [u.appointment_id for u in parsed.unassigned]
    assert sorted(seen) == sorted(a.id for a in parsed_request.appointments)
    return parsed
