"""Command line: serve, migrate, create-user, create-api-key (``python -m api --help``).

Exit codes: 0 success, 2 bad input (with a message naming what is wrong),
1 anything else. Other domains add sub-commands by registering in
``COMMANDS`` (e.g. the planning helper's ``demo``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from api.errors import ApiError
from api.settings import get_settings

EXIT_BAD_INPUT = 2


def _session():
    from api.database import make_engine, make_sessionmaker, migrate

    engine = make_engine(get_settings().database_url)
    migrate(engine)
    return engine, make_sessionmaker(engine)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.database import make_engine, migrate

    # Migrate once here so several workers don't race to apply migrations.
    engine = make_engine(get_settings().database_url)
    migrate(engine)
    engine.dispose()
    uvicorn.run("api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers)
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from api.database import make_engine, migrate

    engine = make_engine(get_settings().database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    print("database is at the latest revision")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise ValueError("passwords do not match")
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    from api.auth import service
    from api.auth.schemas import UserCreate

    data = UserCreate(username=args.username, password=_read_password(args), role=args.role,
                      technician_id=args.technician_id)
    engine, sessions = _session()
    try:
        with sessions.begin() as db:
            user = service.create_user(db=db, data=data, actor="cli")
            print(f"created user {user.username} (id {user.id}, role {user.role})")
    finally:
        engine.dispose()
    return 0


def cmd_create_api_key(args: argparse.Namespace) -> int:
    from api.auth import service
    from api.auth.schemas import ApiKeyCreate

    data = ApiKeyCreate(name=args.name, role=args.role)
    engine, sessions = _session()
    try:
        with sessions.begin() as db:
            created = service.create_api_key(db=db, data=data, actor="cli")
            print(f"created API key {created.row.name!r} (id {created.row.id}, role "
                  f"{created.row.role}); it is shown only now:", file=sys.stderr)
            print(created.key)
    finally:
        engine.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=cmd_migrate)

    user = commands.add_parser("create-user", help="create a user")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True,
                      choices=["admin", "agent", "dispatcher", "technician"])
    user.add_argument("--technician-id", type=int, default=None)
    user.add_argument("--password-stdin", action="store_true",
                      help="read the password from the first line of stdin")
    user.set_defaults(handler=cmd_create_user)

    key = commands.add_parser("create-api-key", help="create an API key (printed once)")
    key.add_argument("--name", required=True)
    key.add_argument("--role", default="integration",
                     choices=["integration", "admin", "agent", "dispatcher"])
    key.set_defaults(handler=cmd_create_api_key)

    for name, (help_text, configure) in COMMANDS.items():
        configure(commands.add_parser(name, help=help_text))
    return parser


# Extra sub-commands registered by other domains: name -> (help, configure(parser)).
# ``configure`` adds arguments and ``set_defaults(handler=...)``.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {}

# tickets helper: `python -m api escalate` (one escalation run, for cron).
COMMANDS["escalate"] = ("run the ticket escalation job once (for cron)",
                        lambda parser: __import__("api.tickets.cli").tickets.cli.configure(parser))

# planning helper: `python -m api demo [--port 8000] [--reset]` (api/demo.py).
COMMANDS["demo"] = ("run the API on the demo data set (tomorrow's day) with demo log-ins",
                    lambda parser: __import__("api.demo").demo.configure(parser))


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValidationError as exc:
        print(f"error: {_validation_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
