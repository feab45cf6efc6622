"""Schemathesis fuzzes the whole OpenAPI: no input may cause a server error (5xx).

Bounded and seeded so it runs in CI: ``FUZZ_EXAMPLES`` examples per operation
(default 5; set the environment variable for a deeper run), a fixed seed and
no example database. Requests are authenticated as admin, so every operation
gets past the role checks, and a small world (``tests/api/world.py``) gives the
generated ids real rows to hit. Positive and negative generation both run.
One test per operation and backend, so a failure names the endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.python import asgi

from api.app import create_app
from tests.api.conftest import make_test_settings
from tests.api.world import build_world

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))

# The schema is read from an app that never starts (no database is touched).
schema = schemathesis.openapi.from_dict(create_app(make_test_settings("sqlite://")).openapi())


@pytest.fixture(scope="session")
def fuzz_client(settings) -> Iterator[asgi.ASGIClient]:
    """A second app on the test database, driven through schemathesis' ASGI client."""
    with asgi.get_client(create_app(settings)) as client:
        yield client


@pytest.fixture
def fuzz_world(client, app) -> None:
    with app.state.sessionmaker.begin() as session:
        build_world(session)


@schema.parametrize()
@seed(20261123)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, backend, fuzz_world, fuzz_client, admin_headers):
    response = case.call(session=fuzz_client, base_url="http://localhost",
                         headers=dict(admin_headers))
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}\n"
        f"{case.as_curl_command()}\n{response.text[:2000]}")
