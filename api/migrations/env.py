"""Alembic environment: migrations are the only source of the schema.

The app's lifespan and ``python -m api migrate`` pass an open connection in
``config.attributes["connection"]``; the ``alembic`` command line falls back
to ``DATABASE_URL`` via Settings.
"""

from __future__ import annotations

from alembic import context

from api.database import Base, make_engine
from api.settings import get_settings

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(get_settings().database_url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; "
                     "run `python -m api migrate`")
run_migrations_online()
