"""The solver child process: one plan request in, progress lines and one plan out.

Why a separate process and not a thread: OR-Tools holds the GIL while it
searches with matrix callbacks, which would freeze the API (and the job's own
heartbeat) for the whole time limit. A child process keeps the API and the
heartbeat alive, can be stopped gently (``stop`` on stdin: the solver returns
its best plan so far) and killed hard if it overruns, and its death is a plain
exit code the parent can account for.

Protocol (JSON lines):
- stdin, first line: ``{"request": {...}, "time_limit_s": float, "seed": int | null}``;
  any later line ``stop`` (or end of file: the parent died) asks the solver to stop.
- stdout: ``{"type": "progress", "elapsed_s", "objective", "assigned", "solutions"}``
  as the search improves, then exactly one ``{"type": "plan", "plan": {...}}`` or
  ``{"type": "error", "message": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from typing import Any, TextIO

PROGRESS = "progress"
PLAN = "plan"
ERROR = "error"
STOP_COMMAND = "stop"


def _emit(out: TextIO, lock: threading.Lock, message: dict[str, Any]) -> None:
    # A parent that died closed our stdout: that must not become a traceback.
    with lock, contextlib.suppress(OSError):
        out.write(json.dumps(message) + "\n")
        out.flush()


def _watch_stdin(source: TextIO, stop: threading.Event) -> None:
    """Set ``stop`` on a ``stop`` line or when the parent goes away (EOF)."""
    for line in source:
        if line.strip() == STOP_COMMAND:
            break
    stop.set()


def main(source: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    # Imported here so ``python -m`` start-up errors are reported on the protocol.
    from optimiser import solve
    from optimiser.schema import PlanRequest

    lock = threading.Lock()
    stop = threading.Event()
    try:
        job = json.loads(source.readline())
        request = PlanRequest.model_validate(job["request"])
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the job
        _emit(out, lock, {"type": ERROR, "message": f"bad solver input: {exc}"})
        return 2
    threading.Thread(target=_watch_stdin, args=(source, stop), daemon=True).start()

    def on_progress(progress: Any) -> None:
        _emit(out, lock, {
            "type": PROGRESS,
            "elapsed_s": round(float(progress.elapsed_s), 3),
            "objective": progress.objective,
            "assigned": progress.assigned,
            "solutions": progress.solutions,
        })

    try:
        plan = solve(request, time_limit_s=job.get("time_limit_s"), seed=job.get("seed"),
                     progress=on_progress, stop=stop)
    except Exception as exc:  # noqa: BLE001 - the parent records it as the job's error
        _emit(out, lock, {"type": ERROR, "message": f"{type(exc).__name__}: {exc}"})
        return 1
    _emit(out, lock, {"type": PLAN, "plan": plan.to_json_dict()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
