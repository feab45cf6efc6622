"""The application factory.

``create_app(settings)`` builds a FastAPI app; nothing touches the database
until the lifespan runs, which builds the engine, applies migrations (the only
source of schema) and starts background jobs when enabled.

Domain routers are listed explicitly in ``ROUTER_MODULES`` (each module has a
``router``). Background jobs are listed in ``JOB_MODULES``: each exposes
``start(app: FastAPI) -> Callable[[], None]`` (returns its stop function).
Every listed module must import: a broken domain stops the app loudly.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from api.database import make_engine, make_sessionmaker, migrate
from api.errors import ErrorEnvelope, install_error_handlers
from api.settings import Settings, get_settings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

ROUTER_MODULES: tuple[str, ...] = (
    "api.auth.routes",
    "api.events",
    "api.entitlements.routes",
    "api.technicians.routes",
    "api.tickets.routes",
    "api.appointments.routes",
    "api.plans.routes",
    "api.dispatch.routes",  # dispatch helper: slots, booking, day routes, field status
)

JOB_MODULES: tuple[str, ...] = (
    "api.tickets.jobs",
    "api.plans.jobs",
)


def _routers() -> list[APIRouter]:
    return [importlib.import_module(name).router for name in ROUTER_MODULES]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(settings.database_url)
    migrate(engine)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    stoppers: list[Callable[[], None]] = []
    if settings.background_jobs:
        for name in JOB_MODULES:
            stoppers.append(importlib.import_module(name).start(app))
    try:
        yield
    finally:
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception:  # one job failing to stop must not keep others running
                log.exception("background job failed to stop")
        engine.dispose()


class Health(BaseModel):
    status: str = "ok"


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="fieldplan API",
        version="1.0.0",
        summary="Tickets, contracts, technicians, appointments and optimised plans "
                "for field service.",
        lifespan=lifespan,
        responses={
            400: {"model": ErrorEnvelope, "description": "Malformed request (body not parsable)"},
            500: {"model": ErrorEnvelope, "description": "Internal server error"},
        },
    )
    app.state.settings = settings
    install_error_handlers(app)

    @app.get(f"{API_PREFIX}/health", response_model=Health, tags=["health"],
             summary="Liveness check (no authentication)")
    def health() -> Health:
        return Health()

    for router in _routers():
        app.include_router(router, prefix=API_PREFIX)
    return app
