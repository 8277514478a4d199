"""Request observation (pure ASGI): request ids, one JSON access line per request, HTTP metrics.

`X-Request-ID` is accepted when it is 1-128 characters of letters, digits and
`._:@-` (anything else is replaced, so nothing a client sends can forge log lines
or headers) and echoed on the response; otherwise a new id is made. Probe and
metrics requests are logged at debug level only.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from typing import Any, Callable

from .. import metrics
from ..logs import Lines, request_id
from .body import ASGIApp, Message, Receive, Scope, Send

access = Lines("service.access")
VALID_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
QUIET = {"/livez", "/readyz", "/healthz", "/metrics"}
# Made ids: a random prefix per process and a counter (uuid4 costs a system call per request).
_PREFIX = uuid.uuid4().hex[:16]
_counter = itertools.count(1)


class Observe:
    def __init__(self, app: ASGIApp, digest: Callable[[], str | None]):
        self.app = app
        self.digest = digest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        text = incoming.decode("latin-1") if incoming is not None else ""
        rid = text if VALID_ID.match(text) else f"{_PREFIX}{next(_counter):08x}"
        token = request_id.set(rid)
        header = (b"x-request-id", rid.encode())
        start = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or _mounted(scope)
            method = scope["method"]
            metrics.request(template, method, status, elapsed)
            state: dict[str, Any] = scope.get("state") or {}
            principal = state.get("principal")
            access.write(logging.DEBUG if scope["path"] in QUIET else logging.INFO, "request", {
                "method": method, "path": scope["path"], "route": template, "status": status,
                "latency_ms": round(elapsed * 1000, 3), "ruleset_digest": self.digest(),
                "client": getattr(principal, "name", None),
            })
            request_id.reset(token)


def _mounted(scope: Scope) -> str:
    """The route label of a request served by a mounted app (the console, Swagger UI's files):
    `/console/{path}`, as FastAPI names mounts; `unmatched` when nothing served it (a 404)."""
    if scope.get("endpoint") is None:
        return "unmatched"
    prefix = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))):]
    return f"{prefix}/{{path}}" if prefix else "unmatched"
