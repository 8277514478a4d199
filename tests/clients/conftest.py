from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.conftest import API_KEY
from tests.support import Server


@pytest.fixture(scope="module")
def served(secured_server: Server) -> Iterator[tuple[Server, bytes]]:
    """The secured server and the OpenAPI document it serves (what a generator is pointed at)."""
    response = httpx.get(secured_server.url + "/openapi.json", timeout=30)
    assert response.status_code == 200
    yield secured_server, response.content


def direct_decision(server: Server, event: dict) -> dict:
    """What the server answers for `event`, asked without any client, for comparison."""
    response = httpx.post(server.url + "/v1/decisions", json=event, headers={"X-API-Key": API_KEY}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()
