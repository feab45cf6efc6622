"""``python -m api escalate``: one escalation run, for cron instead of the in-app ticker."""

from __future__ import annotations

import argparse
import json


def cmd_escalate(_args: argparse.Namespace) -> int:
    from api.cli import _session
    from api.tickets.jobs import run_once

    engine, sessions = _session()
    try:
        summary = run_once(sessions)
    finally:
        engine.dispose()
    print(json.dumps(summary if summary is not None else {"skipped": "another run holds the lock"}))
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(handler=cmd_escalate)
