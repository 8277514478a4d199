"""Open-loop load at a fixed rate: latency as CRM callers see it when the service is not saturated.

wrk is closed-loop (each connection waits for its answer before sending again),
so it measures latency at saturation and, when the server stalls, sends less and
hides the stall (coordinated omission). Here request i is due at t0 + i/rate
whatever happened before; it goes out on an idle keep-alive connection, or waits
for one, and its latency runs from when it was taken off the schedule to the
last byte of its response, so a stall that backs requests up shows in the tail.

Why not `hey -q`: its rate limit is per worker, each worker closed-loop, so a slow
answer delays the next request instead of showing up in the tail.

The generator is small: asyncio on uvloop, raw sockets, pre-built requests and
httptools to find the end of each response. Timers wake it about once a
millisecond, so requests leave in small bursts; `lag_ms` reports how late the
generator itself took requests off the schedule (its own overload, not the
server's), which is left out of the latency.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import httptools
import uvloop

from .stats import percentile


@dataclass
class Result:
    rate: float
    seconds: float
    sent: int
    completed: int
    statuses: dict[int, int]
    latencies: list[float] = field(repr=False)
    lags: list[float] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        latencies = sorted(self.latencies)
        lags = sorted(self.lags)
        return {
            "target_rps": round(self.rate, 1), "seconds": round(self.seconds, 3), "sent": self.sent,
            "completed": self.completed, "achieved_rps": round(self.completed / self.seconds, 1),
            "statuses": {str(code): count for code, count in sorted(self.statuses.items())},
            "latency_ms": {"p50": round(percentile(latencies, 0.50) * 1000, 3),
                           "p90": round(percentile(latencies, 0.90) * 1000, 3),
                           "p99": round(percentile(latencies, 0.99) * 1000, 3),
                           "max": round((latencies[-1] if latencies else float("nan")) * 1000, 3)},
            "lag_ms": {"p50": round(percentile(lags, 0.50) * 1000, 3),
                       "p99": round(percentile(lags, 0.99) * 1000, 3)},
        }


class _Connection(asyncio.Protocol):
    def __init__(self, pool: "_Pool"):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.started = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio's classes

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.busy = False
        self.pool.done(self, time.perf_counter() - self.started, self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.lost(self)

    def send(self, request: bytes, started: float) -> None:
        assert self.transport is not None
        self.started = started
        self.busy = True
        self.transport.write(request)


class _Pool:
    def __init__(self) -> None:
        self.idle: collections.deque[_Connection] = collections.deque()
        self.pending: collections.deque[tuple[bytes, float]] = collections.deque()
        self.latencies: list[float] = []
        self.statuses: collections.Counter[int] = collections.Counter()
        self.outstanding = 0
        self.broken = 0
        self.closing = False
        self.drained: asyncio.Event | None = None

    def submit(self, request: bytes, started: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.popleft().send(request, started)
        else:
            self.pending.append((request, started))

    def done(self, connection: _Connection, latency: float, status: int) -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1
        self._finished(connection)

    def _finished(self, connection: _Connection | None) -> None:
        self.outstanding -= 1
        if connection is not None:
            if self.pending:
                connection.send(*self.pending.popleft())
            else:
                self.idle.append(connection)
        if self.outstanding == 0 and self.drained is not None:
            self.drained.set()

    def lost(self, connection: _Connection) -> None:
        """A connection the server closed: its request, if any, counts as failed (status 0)."""
        if self.closing:
            return
        self.broken += 1
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.busy:
            connection.busy = False
            self.statuses[0] += 1
            self._finished(None)


def _request(host: str, port: int, route: str, body: bytes) -> bytes:
    head = (f"POST {route} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _run(host: str, port: int, route: str, bodies: Sequence[bytes], rate: float, seconds: float,
               connections: int) -> Result:
    loop = asyncio.get_running_loop()
    pool = _Pool()
    opened = []
    for _ in range(connections):
        _, connection = await loop.create_connection(lambda: _Connection(pool), host, port)
        opened.append(connection)
        pool.idle.append(connection)
    requests = [_request(host, port, route, body) for body in bodies]
    total = max(1, int(rate * seconds))
    lags: list[float] = []
    start = time.perf_counter() + 0.01
    sent = 0
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - start) * rate) + 1) if now >= start else 0
        while sent < due:
            lags.append(now - (start + sent / rate))
            pool.submit(requests[sent % len(requests)], now)
            sent += 1
        if sent < total:
            # Never less than a millisecond: uvloop's timers tick in milliseconds, and a shorter
            # sleep returns at once, which would spin a core the server needs.
            await asyncio.sleep(max(0.001, start + sent / rate - time.perf_counter()))
    if pool.outstanding:
        pool.drained = asyncio.Event()
        try:
            await asyncio.wait_for(pool.drained.wait(), timeout=30)
        except asyncio.TimeoutError:
            pass
    elapsed = time.perf_counter() - start
    pool.closing = True
    for connection in opened:
        if connection.transport is not None:
            connection.transport.close()
    if pool.broken == len(opened):
        raise RuntimeError(f"the server closed all {pool.broken} connections during the run")
    return Result(rate, elapsed, sent, len(pool.latencies), dict(pool.statuses), pool.latencies, lags)


def run(host: str, port: int, route: str, bodies: Sequence[bytes], rate: float, seconds: float,
        connections: int = 32) -> Result:
    """Send `rate` requests/s for `seconds` to `route`, cycling through `bodies`."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_run(host, port, route, bodies, rate, seconds, connections))
