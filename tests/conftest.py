from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from service.engine.registry import Snapshot, load_snapshot
from tests.support import RULES, Server, running_server


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One real uvicorn server with the shipped rules, shared by the session."""
    with running_server("shared", RULES, ready_path="/readyz") as live:
        yield live


API_KEY = "crm-test-key-0123456789"
ADMIN_KEY = "ops-admin-key-0123456789"
AI_AGENT_KEY = "fin-bot-key-0123456789"
SECURED_ENV = {"RECOVERY_API_KEYS": f"crm:{API_KEY}", "RECOVERY_ADMIN_KEYS": f"ops:{ADMIN_KEY}",
               "RECOVERY_AI_AGENT_KEYS": f"fin-bot:{AI_AGENT_KEY}",
               # schemathesis and the auth tests send wrong keys on purpose, far more than 30 a minute;
               # tests/test_small_hardening.py checks the limit on a server of its own
               "RECOVERY_AUTH_FAILURES_PER_MINUTE": "0"}


@pytest.fixture(scope="session")
def secured_server() -> Iterator[Server]:
    """A real server that requires API keys (crm: decide scope; ops: admin scope; fin-bot: the ai_agent
    profile)."""
    with running_server("secured", RULES, env=SECURED_ENV, ready_path="/readyz") as live:
        yield live


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture(scope="session")
def shipped() -> Iterator[Snapshot]:
    snapshot = load_snapshot(RULES)
    yield snapshot
    snapshot.engine.close()
