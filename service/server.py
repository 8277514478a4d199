"""A graceful drain in front of uvicorn's own graceful shutdown.

On SIGTERM uvicorn stops listening and closes every connection that has no
request in progress. A worker busy deciding a large batch may not yet have read a
request that already arrived (its bytes wait in the socket, or the connection
waits in the listen backlog), and that request would be reset. So on SIGTERM each
worker first keeps serving for RECOVERY_SHUTDOWN_DRAIN_SECONDS while /readyz
answers 503 (load balancers stop sending traffic), accepting and reading what has
arrived; then uvicorn's handler runs and its graceful shutdown finishes every
request in progress (up to 30 s) before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from types import FrameType
from typing import Any, Callable

log = logging.getLogger("service")

#: Set in a worker when SIGTERM arrives; /readyz reports 503 from then on.
shutting_down = asyncio.Event()


def install_drain(seconds: float) -> None:
    """Wrap the SIGTERM handler uvicorn installed: drain for `seconds`, then hand over."""
    original = signal.getsignal(signal.SIGTERM)
    if seconds <= 0 or not callable(original):
        return
    handover: Callable[..., Any] = original
    loop = asyncio.get_running_loop()

    def drain(signum: int, frame: FrameType | None) -> None:
        if shutting_down.is_set():
            handover(signum, frame)
            return
        log.info("SIGTERM: draining for %.1f s before shutting down", seconds)
        loop.call_soon_threadsafe(shutting_down.set)
        loop.call_soon_threadsafe(loop.call_later, seconds, handover, signum, frame)

    signal.signal(signal.SIGTERM, drain)


# --------------------------------------------------------------------------- several workers

def _listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(options: dict[str, Any]) -> None:
    import uvicorn

    config = uvicorn.Config("service.app:create_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[_listener(config.host, config.port)])


def serve_workers(workers: int, options: dict[str, Any]) -> int:
    """Run `workers` uvicorn processes, each with its own SO_REUSEPORT listening socket.

    uvicorn's own supervisor shares one socket between its workers; whichever worker
    accepts first takes the burst, so long-lived keep-alive connections (CRM pools,
    ingress controllers) pile up on one worker while the others idle (32 of 32
    connections on one of two workers was seen here). With a socket per worker the
    kernel spreads new connections over them. A worker that dies is replaced; on
    SIGTERM or SIGINT every worker gets the signal, drains and finishes its requests,
    and this process exits when they have.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    _listener(options["host"], options["port"]).close()  # fail fast here if the port is taken
    stopping = False

    def start() -> Any:
        process = context.Process(target=_worker, args=(options,), name="recovery-worker")
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    log.info("started %d workers (one listening socket each)", workers)

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        for index, process in enumerate(processes):
            process.join(timeout=0.2)
            if process.is_alive() or stopping:
                continue
            log.error("worker %s exited with %s; starting another", process.pid, process.exitcode)
            processes[index] = start()
        if stopping and not any(process.is_alive() for process in processes):
            break
    return 0
