"""Run one plan job: claim it, solve it in a child process, validate, store.

The same function runs under both job backends (an in-process worker thread
or a Celery task), so the job semantics cannot drift between them:

- the solver runs in a child process (``api.plans.solver_process``; why: the
  GIL), watched by this thread, which writes the heartbeat and the latest
  progress every ``plan_job_heartbeat_s`` and polls ``cancel_requested``;
- a cancel sends ``stop``: the solver returns its best plan so far, stored
  with status ``cancelled``; a child that ignores the stop or overruns its time
  limit by far is killed;
- a child that dies (killed, out of memory) is retried while attempts are
  left (``plan_job_max_attempts``), else the job fails; a solver error fails
  it at once (the same input would fail again);
- every plan is checked with ``optimiser.validate.validate_plan`` before it is
  stored as done or cancelled; a plan with violations fails the job, listed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.database import utcnow
from api.plans import job_state, solver_process
from api.plans.changes import plan_changes
from api.plans.models import JobKind, JobStatus, PlanJob
from api.settings import Settings
from optimiser.schema import Plan, PlanRequest
from optimiser.validate import validate_plan

log = logging.getLogger(__name__)

#: A solver that does not return within its time limit plus this margin (plus
#: half the limit again, for model building on big days) is killed.
OVERRUN_MARGIN_S = 10.0
#: How long a stopped solver may take to hand back its best plan before it is killed.
STOP_GRACE_S = 10.0


@dataclass
class ChildOutcome:
    """How a solver child ended: a plan, an error, or neither (it died)."""

    plan: dict[str, Any] | None = None
    error: str | None = None
    exit_code: int | None = None
    stop_reason: str | None = None  # cancel | shutdown | lost | overrun
    progress: dict[str, Any] | None = None
    stderr_tail: list[str] = field(default_factory=list)


def _reader(stream: Any, sink: queue.Queue) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


def _drain(stream: Any, tail: deque) -> None:
    for line in stream:
        tail.append(line.rstrip())


class _Watch:
    """The watching side of one solver child: heartbeat, cancel, deadline."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings, job_id: int,
                 worker_id: str, shutdown: threading.Event | None) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.job_id = job_id
        self.worker_id = worker_id
        self.shutdown = shutdown
        self.started = time.monotonic()
        self.best: dict[str, Any] = {}

    def progress(self) -> dict[str, Any]:
        return {"elapsed_s": round(time.monotonic() - self.started, 1),
                "objective": self.best.get("objective"),
                "assigned": self.best.get("assigned"),
                "solutions": self.best.get("solutions", 0)}

    def beat(self) -> str | None:
        """Write the heartbeat; the reason to stop the solver, if there is one."""
        try:
            with self.session_factory.begin() as db:
                beat = job_state.heartbeat(db, job_id=self.job_id, worker_id=self.worker_id,
                                      now=utcnow(), progress=self.progress())
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the solve
            log.exception("heartbeat of plan job %s failed", self.job_id)
            return None
        if not beat.owned:
            return "lost"
        if beat.cancel_requested:
            return "cancel"
        if self.shutdown is not None and self.shutdown.is_set():
            return "shutdown"
        return None


def solve_in_child(request: dict[str, Any], *, time_limit_s: float, seed: int | None,
                   watch: _Watch) -> ChildOutcome:
    """Run the solver child to its end, beating and relaying stops on the way."""
    child = subprocess.Popen(
        [sys.executable, "-m", "api.plans.solver_process"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, bufsize=1,
    )
    outcome = ChildOutcome()
    lines: queue.Queue = queue.Queue()
    tail: deque = deque(maxlen=20)
    threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True).start()
    threading.Thread(target=_drain, args=(child.stderr, tail), daemon=True).start()
    try:
        child.stdin.write(json.dumps({"request": request, "time_limit_s": time_limit_s,
                                      "seed": seed}) + "\n")
        child.stdin.flush()
    except OSError:
        pass  # the child died at once; its exit code tells the story below

    heartbeat_s = watch.settings.plan_job_heartbeat_s
    deadline = watch.started + time_limit_s * 1.5 + OVERRUN_MARGIN_S
    stop_sent_at: float | None = None
    next_beat = time.monotonic()
    while True:
        try:
            line = lines.get(timeout=max(0.05, min(heartbeat_s, next_beat - time.monotonic())))
        except queue.Empty:
            line = ""
        if line is None:  # stdout closed: the child is ending
            break
        if line:
            _take(line, outcome, watch)
        now = time.monotonic()
        if now < next_beat:
            continue
        next_beat = now + heartbeat_s
        reason = watch.beat()  # keep beating while a stopped solver winds down, too
        if stop_sent_at is None:
            reason = reason or ("overrun" if now > deadline else None)
            if reason is not None:
                outcome.stop_reason, stop_sent_at = reason, now
                with contextlib.suppress(OSError):
                    child.stdin.write(solver_process.STOP_COMMAND + "\n")
                    child.stdin.flush()
        elif now - stop_sent_at > STOP_GRACE_S:
            log.warning("plan job %s: solver ignored stop, killing it", watch.job_id)
            child.kill()
    with contextlib.suppress(OSError):
        child.stdin.close()
    outcome.exit_code = child.wait()
    outcome.progress = watch.progress()
    outcome.stderr_tail = list(tail)
    return outcome


def _take(line: str, outcome: ChildOutcome, watch: _Watch) -> None:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return  # not protocol output (a stray print); ignore it
    kind = message.get("type")
    if kind == solver_process.PROGRESS:
        watch.best = message
    elif kind == solver_process.PLAN:
        outcome.plan = message["plan"]
    elif kind == solver_process.ERROR:
        outcome.error = message["message"]


def run_job(session_factory: sessionmaker[Session], settings: Settings, job_id: int, *,
            worker_id: str, shutdown: threading.Event | None = None) -> str | None:
    """Claim and run ``job_id``; the status it ended in, or None if it was not ours to run."""
    with session_factory.begin() as db:
        if not job_state.claim(db, job_id=job_id, worker_id=worker_id, now=utcnow()):
            return None
        job = db.get(PlanJob, job_id)
        request_json, kind, attempts = job.request, job.kind, job.attempts
    options = request_json.get("options", {})
    watch = _Watch(session_factory, settings, job_id, worker_id, shutdown)
    try:
        outcome = solve_in_child(request_json, time_limit_s=float(options["time_limit_s"]),
                                 seed=options.get("seed"), watch=watch)
        status, values = _result(request_json, kind, attempts, outcome, settings)
    except Exception as exc:  # noqa: BLE001 - anything unexpected fails the job, visibly
        log.exception("plan job %s crashed", job_id)
        status, values = JobStatus.failed, {"error": f"{type(exc).__name__}: {exc}"}
    with session_factory.begin() as db:
        stored = job_state.finish(db, job_id=job_id, owner=worker_id, now=utcnow(),
                                  status=status, **values)
    if not stored:
        log.warning("plan job %s was taken from worker %s; result dropped", job_id, worker_id)
        return None
    log.info("plan job %s: %s", job_id, status)
    return status


def _result(request_json: dict[str, Any], kind: str, attempts: int, outcome: ChildOutcome,
            settings: Settings) -> tuple[JobStatus, dict[str, Any]]:
    """The job's final status and stored fields, from what the child produced."""
    values: dict[str, Any] = {"progress": outcome.progress}
    if outcome.stop_reason == "shutdown":
        # The API is stopping: hand the job back untouched for the next start.
        return JobStatus.queued, {**values, "worker_id": None, "attempts": attempts - 1}
    if outcome.plan is None:
        if outcome.error is not None:
            return JobStatus.failed, {**values, "error": outcome.error}
        if outcome.stop_reason == "cancel":  # asked to stop, and it ended without a plan
            return JobStatus.cancelled, {**values, "error": "stopped before any plan was "
                                                            "handed back"}
        why = (f"solver process died (exit code {outcome.exit_code})"
               + (f" after a {outcome.stop_reason}" if outcome.stop_reason else ""))
        if outcome.stderr_tail:
            why += ": " + " | ".join(outcome.stderr_tail[-3:])
        if attempts < settings.plan_job_max_attempts:
            return JobStatus.queued, {**values, "worker_id": None,
                                      "error": f"attempt {attempts}: {why}; retrying"}
        return JobStatus.failed, {**values, "error": f"attempt {attempts}: {why}"}

    request = PlanRequest.model_validate(request_json)
    plan = Plan.model_validate(outcome.plan)
    if plan.status != "feasible":
        return JobStatus.failed, {**values, "plan": plan.to_json_dict(),
                                  "error": plan.error or "the solver rejected the request"}
    violations = validate_plan(request, plan)
    if violations:
        return JobStatus.failed, {
            **values, "plan": plan.to_json_dict(),
            "violations": [asdict(v) for v in violations],
            "error": f"the plan breaks {len(violations)} hard rule(s); not stored as done",
        }
    values.update(plan=plan.to_json_dict(), violations=[], error=None,
                  kpis=plan.kpis.model_dump(mode="json") if plan.kpis else None)
    if kind == JobKind.replan:
        values["changes"] = plan_changes(request, plan)
    cancelled = outcome.stop_reason in ("cancel", "lost")
    return (JobStatus.cancelled if cancelled else JobStatus.done), values
