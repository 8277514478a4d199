"""Reading request bodies: media type, size limit and a deadline.

uvicorn sets no body limit, so `BodyLimit` (pure ASGI middleware) refuses a
declared Content-Length over the route's limit before reading anything, and
counts streamed bytes for chunked bodies. `read_json()` is what routes call: it
checks the media type (415), reads the body within the deadline (408) and returns
the raw bytes, which routes read with `service.strictjson` (exact numbers, duplicate
keys refused) before validating them.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from starlette.requests import Request

from ..problems import ProblemError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large(limit: int) -> ProblemError:
    return ProblemError(413, "body-too-large", f"the request body is larger than {limit} bytes")


class BodyLimit:
    """Refuses bodies over `limit_for(path)` bytes with a 413 problem."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send_problem(send, too_large(limit))
                    return
                break
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, limited, send)


async def _send_problem(send: Send, problem: ProblemError) -> None:
    response = problem.response()
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(response.body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": response.body})


def check_json_media_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if not content_type:
        raise ProblemError(415, "unsupported-media-type", "send the body as application/json")
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise ProblemError(415, "unsupported-media-type", f"send the body as application/json, not {media}")
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ProblemError(415, "unsupported-media-type", "JSON bodies are UTF-8")


async def read_body(request: Request, timeout: float) -> bytes:
    try:
        async with asyncio.timeout(timeout):  # unlike wait_for, starts no task per request
            return await request.body()
    except TimeoutError:
        raise ProblemError(408, "body-timeout", f"the request body did not arrive within {timeout:g} seconds",
                           headers={"Connection": "close"}) from None


async def read_json(request: Request, timeout: float) -> bytes:
    check_json_media_type(request)
    return await read_body(request, timeout)
