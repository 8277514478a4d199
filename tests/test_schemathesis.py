"""Schemathesis against the real server (API keys required, ledger on): every operation of the served OpenAPI.

`make test` runs a modest number of examples per operation; `make test-deep`
(tests/deep/) runs at least 200 per operation.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import ADMIN_KEY, SECURED_ENV
from tests.support import RULES, Server, running_server

EXAMPLES = int(os.environ.get("RECOVERY_SCHEMATHESIS_EXAMPLES", "40"))


@pytest.fixture(scope="session")
def ledger_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The secured server with the ledger on (an SQLite file of its own), so its routes answer for real."""
    directory = tmp_path_factory.mktemp("schemathesis-ledger")
    env = {**SECURED_ENV, "RECOVERY_LEDGER_URL": f"sqlite:///{directory / 'ledger.sqlite3'}",
           "RECOVERY_LEDGER_SPOOL_DIR": str(directory / "spool")}
    with running_server("schemathesis", RULES, env=env, ready_path="/readyz") as live:
        yield live


@pytest.fixture(scope="session")
def api_schema(ledger_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(ledger_server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case) -> None:
    # The admin key holds every scope; schemathesis also checks that requests
    # without or with a wrong key are refused.
    case.call_and_validate(headers={"X-API-Key": ADMIN_KEY})
