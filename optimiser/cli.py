"""Command line: ``python -m optimiser solve|validate``.

Exit codes: 0 = done (a plan was written / the plan is valid), 1 = the plan
breaks hard rules (``validate``), 2 = bad input (a message naming the file and
the offending field, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from optimiser.schema import Plan, PlanRequest

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2
M = TypeVar("M", bound=BaseModel)


class BadInput(Exception):
    """Input the command cannot use; the message is shown to the user as is."""


def format_location(loc: tuple[Any, ...]) -> str:
    """``('appointments', 3, 'duration_min')`` -> ``appointments[3].duration_min``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def format_validation_error(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (not part of the exchange format)"
        where = format_location(tuple(item["loc"]))
        lines.append(f"{where}: {message}" if where else message)
    return lines


def load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                       f"{exc.msg}") from None


def load_model(path: Path, model: type[M]) -> M:
    data = load_json(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = format_validation_error(exc)
        raise BadInput(f"{path}: invalid {model.__name__}:\n  " + "\n  ".join(lines)) from None


def kpi_summary(plan: Plan) -> str:
    assigned = sum(len(r.stops) for r in plan.routes)
    total = assigned + len(plan.unassigned)
    lines = [f"assigned {assigned}/{total} appointments on {len(plan.routes)} route(s) "
             f"in {plan.solve_time_s:.1f} s"]
    if plan.unassigned:
        reasons = Counter(u.reason for u in plan.unassigned)
        lines.append("unassigned: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common()))
    k = plan.kpis
    if k is not None:
        lines.append(f"travel {k.travel_min:.0f} min, {k.distance_km:.1f} km; SLA met "
                     f"{k.sla_met}, missed {k.sla_missed} (lateness {k.lateness_min:.0f} min); "
                     f"overtime {k.overtime_min:.0f} min; utilisation {k.utilisation:.0%}")
    return "\n".join(lines)


def _report_progress(progress) -> None:
    print(f"  {progress.elapsed_s:7.1f} s  objective {progress.objective:>22,}  "
          f"assigned {progress.assigned}", file=sys.stderr, flush=True)


def run_solve(args: argparse.Namespace) -> int:
    from optimiser.solver import solve

    request = load_model(args.request, PlanRequest)
    if args.time_limit is not None and args.time_limit <= 0:
        raise BadInput("--time-limit: must be greater than 0")
    print(f"solving {len(request.appointments)} appointments, {len(request.technicians)} "
          f"technicians ...", file=sys.stderr, flush=True)
    plan = solve(request, time_limit_s=args.time_limit, seed=args.seed,
                 progress=_report_progress)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(plan.to_json_dict(), indent=2) + "\n", encoding="utf-8")
    print(kpi_summary(plan))
    print(f"plan written to {args.out}")
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    from optimiser.validate import validate_plan

    request = load_model(args.request, PlanRequest)
    plan = load_model(args.plan, Plan)
    violations = validate_plan(request, plan)
    if not violations:
        print(f"{args.plan}: valid ({sum(len(r.stops) for r in plan.routes)} visits on "
              f"{len(plan.routes)} route(s), {len(plan.unassigned)} unassigned)")
        return EXIT_OK
    print(f"{args.plan}: {len(violations)} violation(s)")
    for violation in violations:
        print(f"  {violation}")
    return EXIT_VIOLATIONS


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m optimiser",
                                   description="Field-service scheduling optimiser.")
    commands = main.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="plan a request and write the plan JSON")
    solve.add_argument("request", type=Path, help="plan request JSON file")
    solve.add_argument("--out", type=Path, required=True, help="where to write the plan JSON")
    solve.add_argument("--time-limit", type=float, default=None,
                       help="search seconds (default: the request's options.time_limit_s)")
    solve.add_argument("--seed", type=int, default=None,
                       help="random seed (default: the request's options.seed)")
    solve.set_defaults(run=run_solve)
    validate = commands.add_parser("validate", help="check a plan against its request")
    validate.add_argument("request", type=Path)
    validate.add_argument("plan", type=Path)
    validate.set_defaults(run=run_validate)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
