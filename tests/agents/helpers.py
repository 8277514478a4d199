"""Talking to the real MCP endpoint with the official MCP client (Streamable HTTP or stdio)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

T = TypeVar("T")

LATE = {"failure": {"type": "late_delivery", "severity": 3, "root_cause": "provider"},
        "customer": {"tier": "gold"}, "order": {"amount": {"amount": "80.00", "currency": "EUR"}}}
DOUBLE_CHARGE = {"failure": {"type": "double_charge", "severity": 2, "root_cause": "customer",
                             "amount_at_stake": {"amount": "49.00", "currency": "EUR"}},
                 "order": {"amount": {"amount": "49.00", "currency": "EUR"}}}


@contextlib.asynccontextmanager
async def http_client(url: str, key: str | None) -> AsyncIterator[Client]:
    headers = {"X-API-Key": key} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
            yield client


def over_http(url: str, key: str | None, work: Callable[[Client], Awaitable[T]]) -> T:
    """Run `work` with a connected client, in a fresh event loop (the tests are synchronous)."""
    async def main() -> T:
        async with http_client(url, key) as client:
            return await work(client)

    return asyncio.run(main())


def structured(result: Any) -> dict[str, Any]:
    if result.is_error:
        raise AssertionError(f"the tool answered an error: {result.content[0].text}")
    assert isinstance(result.structured_content, dict)
    return result.structured_content
