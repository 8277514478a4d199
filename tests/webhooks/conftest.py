from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.support import RULES, Server, running_server
from tests.webhooks.deliveries import ENV

API_KEY = "crm-key-0123456789abcdef"


@pytest.fixture(scope="session")
def webhook_server() -> Iterator[Server]:
    """A real server with every system's webhook credentials and API keys on /v1/* (which webhooks skip)."""
    env = {**ENV, "RECOVERY_API_KEYS": f"crm:{API_KEY}"}
    with running_server("webhooks", RULES, env=env, ready_path="/readyz") as live:
        yield live


@pytest.fixture(scope="session")
def hooks(webhook_server: Server) -> Iterator[httpx.Client]:
    with webhook_server.client() as http:
        yield http
