"""HTTP connections: what a client may hold and for how long, before any request reaches the app.

uvicorn's httptools protocol sets no limit on request headers and closes no
connection that has not yet sent a request, so one client could grow a worker's
memory by streaming header lines, and idle or slow-header connections could use up
its file descriptors until probes, decisions and the rules watcher all failed.
`GuardedProtocol` is that protocol with the limits Envoy and nginx apply:

- **Header size and count**: a request's request line and headers may take
  `max_header_bytes` bytes and `max_headers` lines; more is answered 431 and the
  connection closed. Bytes are counted as they arrive, before the parser buffers
  them.
- **Header timeout**: a new connection must deliver its request headers within
  `header_timeout` seconds of opening (a keep-alive connection, of sending the first
  byte of its next request): 408 if it had started, a plain close if it had sent
  nothing. The body has its own deadline (RECOVERY_BODY_TIMEOUT_SECONDS, in the routes).
- **Idle timeout**: a keep-alive connection with no request is closed after
  `idle_timeout` seconds (uvicorn's keep-alive timer).
- **Connection cap with load shedding**: above `max_connections` open connections,
  the one that has waited longest without a request in progress is closed to make
  room; when every connection has a request in progress, the new one gets a 503
  with `Retry-After` and is closed. So a flood of idle connections cannot lock out
  the liveness probe, and descriptors never run out.
- **Draining**: once SIGTERM arrived (`service.server.shutting_down`), every response
  carries `Connection: close`, so keep-alive clients take their next request to a
  worker that stays.

`configure()` sets the limits in each worker before uvicorn starts.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import metrics
from .problems import ProblemError

log = logging.getLogger("service.connections")

FD_RESERVE = 128
"""Descriptors kept free of connections for the rules files, logs, metrics and probes."""
LINGER_SECONDS = 1.0
"""After a refusal, how long what the client still sends is read and dropped, so it reads the
answer instead of a connection reset."""
LINGER_BYTES = 1024 * 1024
SHUTDOWN_GRACE_SECONDS = 1.0
"""At shutdown, how long a connection that was accepted but has not sent its request yet may
still send it (it is answered with Connection: close); one that served requests and is idle is
closed at once."""


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    max_connections: int = 1000


_limits = Limits()


def configure(limits: Limits) -> Limits:
    """Install `limits` for this process; raises the soft descriptor limit to the hard one and keeps
    the connection cap below it. Returns the limits in force."""
    global _limits
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    cap = limits.max_connections
    if soft != resource.RLIM_INFINITY and cap > soft - FD_RESERVE:
        cap = max(16, soft - FD_RESERVE)
        log.warning("RECOVERY_MAX_CONNECTIONS lowered to %d: the process may open %d descriptors", cap, soft)
    _limits = Limits(limits.max_header_bytes, limits.max_headers, limits.header_timeout, cap)
    return _limits


def _problem_bytes(problem: ProblemError) -> bytes:
    body = problem.response().body
    headers = "".join(f"{name}: {value}\r\n" for name, value in (problem.headers or {}).items())
    reason = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}
    return (f"HTTP/1.1 {problem.status} {reason.get(problem.status, '')}\r\n"
            f"content-type: application/problem+json\r\ncontent-length: {len(body)}\r\n{headers}"
            "connection: close\r\n\r\n").encode("latin-1") + body


def _too_large() -> bytes:
    return _problem_bytes(ProblemError(431, "headers-too-large", f"the request line and headers may take at most "
                                       f"{_limits.max_header_bytes} bytes in {_limits.max_headers} lines",
                                       title="Request header fields too large"))


def _header_timeout() -> bytes:
    return _problem_bytes(ProblemError(408, "header-timeout", f"the request headers did not arrive within "
                                       f"{_limits.header_timeout:g} seconds"))


def _overloaded() -> bytes:
    return _problem_bytes(ProblemError(503, "overloaded", "this instance has as many connections as it serves; "
                                       "retry", headers={"Retry-After": "1"}))


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header limits, a header timeout and a connection cap."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._discarding = 0
        self._served = 0
        self._in_body = False
        self._header_bytes = 0
        self._header_lines = 0
        self._tail = b""
        self._last_active = self.loop.time()
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()
        if len(self.connections) > _limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    # -- limits on the header section

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            self._discarding += len(data)
            if self._discarding > LINGER_BYTES:
                self.transport.close()
            return
        self._last_active = self.loop.time()
        if not self._in_body:
            if self._header_timer is None:
                self._arm_header_timer()
            joined = self._tail + data
            end = joined.find(b"\r\n\r\n")
            part = len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._header_bytes += part
            self._header_lines += data.count(b"\n", 0, part)
            self._tail = joined[-3:] if end < 0 else b""
            if self._header_bytes > _limits.max_header_bytes or self._header_lines > _limits.max_headers + 1:
                metrics.count(metrics.CONNECTIONS_CLOSED, "headers-too-large")
                self._refuse(_too_large())
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_body = True
        self._disarm_header_timer()
        super().on_headers_complete()
        if self.cycle is not None and _draining():
            self.cycle.keep_alive = False  # the response says Connection: close

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_body = False
        self._header_bytes = self._header_lines = 0
        self._tail = b""

    def on_response_complete(self) -> None:
        self._last_active = self.loop.time()
        self._served += 1
        super().on_response_complete()
        if self._in_body and self._header_timer is None:
            # Answered before the body was read (413, 415, 401...): the rest must come soon.
            self._arm_header_timer()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: a connection that has not yet sent its first request (accepted
        from the queue just before the listener closed) gets a moment to send it, instead of the reset
        that loses it; everything else as uvicorn does it."""
        if self._busy() or self._served or self.transport.is_closing():
            super().shutdown()
            return
        self.loop.call_later(SHUTDOWN_GRACE_SECONDS, self._close_if_idle)

    def _close_if_idle(self) -> None:
        # One in the middle of its headers is left to the header timeout.
        if not self._busy() and not self._header_bytes and not self.transport.is_closing():
            self.transport.close()

    # -- timers

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(_limits.header_timeout, self._header_timed_out)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._in_body:
            if not self._busy():
                self.transport.close()  # an answered request whose body never finished
            return
        if self._header_bytes:
            metrics.count(metrics.CONNECTIONS_CLOSED, "header-timeout")
            self._refuse(_header_timeout())
        else:
            self.transport.close()  # opened and never sent a byte

    # -- the connection cap

    def _busy(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _make_room(self) -> None:
        idle = [conn for conn in self.connections
                if conn is not self and isinstance(conn, GuardedProtocol) and not conn._busy()
                and not conn._discarding and not conn.transport.is_closing()]
        if idle:
            victim = min(idle, key=lambda conn: conn._last_active)
            metrics.count(metrics.CONNECTIONS_CLOSED, "evicted-idle")
            victim.transport.close()
            return
        metrics.count(metrics.CONNECTIONS_CLOSED, "overloaded")
        self._refuse(_overloaded())

    def _refuse(self, answer: bytes) -> None:
        self._disarm_header_timer()
        if self.transport.is_closing() or self._discarding:
            return
        self._discarding = 1
        self.transport.write(answer)
        try:
            self.transport.write_eof()
        except (NotImplementedError, RuntimeError, OSError):
            pass
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def _draining() -> bool:
    from .server import shutting_down

    return shutting_down.is_set()

