"""Real worker processes for the plan tests: a Celery worker on the local Redis, the API server.

Each Celery run gets its own queue name on a dedicated Redis database number,
so parallel test runs (xdist workers, other people's runs) never take each
other's messages. Workers are started in their own process group and stopped
(or killed) as a group, solver children included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.api.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
#: Redis database reserved for the plan tests' Celery broker.
REDIS_TEST_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"


def celery_backend_settings(**extra: Any) -> dict[str, Any]:
    """Settings overrides for an app that sends plan jobs to a private Celery queue."""
    return {"job_backend": "celery", "redis_url": REDIS_URL,
            "celery_queue": f"plans-test-{uuid.uuid4().hex[:10]}",
            "plan_job_heartbeat_s": 0.25, "plan_job_stale_s": 5,
            "plan_job_reaper_interval_s": 0.5, **extra}


def _environment(database_url: str, overrides: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
           "PYTHONPATH": str(ROOT)}
    for name, value in overrides.items():
        env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


class Worker:
    """A started process group and its log file."""

    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group: the worker dies mid-whatever, no clean-up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers (solver children)


def _start(command: list[str], env: dict[str, str], ready: str, timeout: float) -> Worker:
    log = Path(tempfile.mkstemp(prefix="plans-worker-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    worker = Worker(process, log)
    deadline = time.monotonic() + timeout
    while ready not in worker.output():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise AssertionError(f"worker did not start:\n{worker.output()[-3000:]}")
        time.sleep(0.2)
    return worker


def start_celery_worker(database_url: str, overrides: dict[str, Any]) -> Worker:
    """A ``celery worker`` consuming only this test's queue (one pool process)."""
    name = f"plans-{uuid.uuid4().hex[:8]}@%h"
    command = [sys.executable, "-m", "celery", "-A", "api.plans.tasks", "worker",
               "-Q", overrides["celery_queue"], "-n", name, "--concurrency", "1",
               "--pool", "prefork", "--without-gossip", "--without-mingle",
               "--without-heartbeat", "--loglevel", "INFO"]
    return _start(command, _environment(database_url, overrides), " ready.", timeout=60)


@contextlib.contextmanager
def celery_worker(database_url: str, overrides: dict[str, Any]) -> Iterator[Worker]:
    worker = start_celery_worker(database_url, overrides)
    try:
        yield worker
    finally:
        worker.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_api_server(database_url: str, overrides: dict[str, Any]) -> Worker:
    """``python -m api serve`` with the in-process plan worker, on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "api", "serve", "--port", str(port)]
    env = _environment(database_url, {"background_jobs": True, **overrides})
    return _start(command, env, "Application startup complete", timeout=60)
