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


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture(scope="session")
def shipped() -> Iterator[Snapshot]:
    snapshot = load_snapshot(RULES)
    yield snapshot
    snapshot.engine.close()
