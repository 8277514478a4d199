"""The /mcp endpoint of the HTTP app, which loads the MCP SDK when the first request reaches it.

The SDK and the protocol's models cost a worker about 0.7 s of CPU at start-up and 25 MiB
(a worker is 85 MiB resident after start-up without them, 110 with: docs/contract.md), and many
deployments call the REST API only. So the app starts without them: the first request to /mcp imports them in a
thread (the event loop keeps serving meanwhile), builds the server (`service.agents.server`)
and starts its session manager, which then runs until the app shuts down; requests that
arrive while it loads wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Callable

from ..engine.registry import Snapshot

log = logging.getLogger("service.mcp")


def _build(current: Callable[[], Snapshot | None], max_body_bytes: int) -> tuple[Any, Any]:
    from . import server

    return server.http_app(current, max_body_bytes)


class HttpEndpoint:
    """The ASGI endpoint mounted at /mcp; `lifespan()` must run while the app serves."""

    def __init__(self, current: Callable[[], Snapshot | None], max_body_bytes: int):
        self._current = current
        self._max_body_bytes = max_body_bytes
        self._inner: Any = None            # the SDK's ASGI app, once loaded and running
        self._ready: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        self._stop = asyncio.Event()
        try:
            yield
        finally:
            self._stop.set()
            if self._runner is not None:
                with contextlib.suppress(Exception):
                    await self._runner

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._inner is None:
            await self._load()
        await self._inner(scope, receive, send)

    async def _load(self) -> None:
        if self._ready is None or (self._ready.done() and self._ready.exception() is not None):
            if self._stop is None or self._stop.is_set():
                raise RuntimeError("the MCP endpoint is not running (the app is not started or is stopping)")
            self._ready = asyncio.get_running_loop().create_future()
            self._runner = asyncio.create_task(self._run(self._ready, self._stop))
        await asyncio.shield(self._ready)

    async def _run(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        try:
            manager, inner = await asyncio.to_thread(_build, self._current, self._max_body_bytes)
            async with manager.run():
                self._inner = inner
                ready.set_result(None)
                log.info("MCP endpoint loaded")
                await stop.wait()
        except Exception as exc:
            if ready.done():
                raise  # it failed while serving: the lifespan's end reports it
            log.exception("the MCP endpoint could not start; the next request to /mcp tries again")
            ready.set_exception(exc)
        finally:
            self._inner = None
