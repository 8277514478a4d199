"""Schemathesis against the real server (API keys required): every operation of the served OpenAPI.

`make test` runs a modest number of examples per operation; `make test-deep`
(tests/deep/) runs at least 200 per operation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import ADMIN_KEY
from tests.support import Server

EXAMPLES = int(os.environ.get("RECOVERY_SCHEMATHESIS_EXAMPLES", "40"))


@pytest.fixture(scope="session")
def api_schema(secured_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(secured_server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case) -> None:
    # The admin key holds every scope; schemathesis also checks that requests
    # without or with a wrong key are refused.
    case.call_and_validate(headers={"X-API-Key": ADMIN_KEY})
