"""Running the service: listening sockets, workers, and a graceful drain in front of uvicorn's shutdown.

**Drain.** On SIGTERM uvicorn stops listening and closes every connection that has no
request in progress. So each worker first keeps serving for
RECOVERY_SHUTDOWN_DRAIN_SECONDS while /readyz answers 503 (load balancers stop sending
traffic) and every response says `Connection: close` (`service.connections`), so
keep-alive clients move their next request elsewhere; then uvicorn's handler runs and
its graceful shutdown finishes every request in progress (up to 30 s).

**Sockets.** The port is checked first with a plain bind, so a second instance on a
port in use refuses to start instead of silently sharing it. With several workers the
supervisor opens one SO_REUSEPORT socket per worker and keeps its own copy of each: a
worker that stops only stops *accepting*, and the connections the kernel already
queued on its socket wait there for the replacement, instead of being reset when the
last descriptor of the socket closes.

**Workers.** The supervisor replaces a worker that exits, tells the metrics that a dead
worker's gauges are gone, and coordinates the pod's ruleset revision (`service.pod`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any, Callable

from . import connections, pod

log = logging.getLogger("service")

#: Set in a worker when SIGTERM arrives; /readyz reports 503 and responses close from then on.
shutting_down = asyncio.Event()


class PortInUse(Exception):
    """Another process listens on the address; the message names it."""


def install_drain(seconds: float) -> None:
    """Wrap the SIGTERM handler uvicorn installed: drain for `seconds`, then hand over."""
    original = signal.getsignal(signal.SIGTERM)
    if not callable(original):
        return
    handover: Callable[..., Any] = original
    loop = asyncio.get_running_loop()

    def drain(signum: int, frame: FrameType | None) -> None:
        if shutting_down.is_set():
            handover(signum, frame)
            return
        log.info("SIGTERM: draining for %.1f s before shutting down", seconds)
        loop.call_soon_threadsafe(shutting_down.set)
        loop.call_soon_threadsafe(loop.call_later, max(seconds, 0.0), handover, signum, frame)

    signal.signal(signal.SIGTERM, drain)


# --------------------------------------------------------------------------- sockets

def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port(host: str, port: int) -> None:
    """Raise PortInUse when anything listens on (host, port), SO_REUSEPORT sockets included."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers are fine
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port} is already in use (another instance of the service?); "
                            "refusing to start") from None
        raise
    finally:
        probe.close()


def listener(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


# --------------------------------------------------------------------------- workers

def run_worker(options: dict[str, Any], limits: connections.Limits, sock: socket.socket,
               pod_dir: Path | None) -> None:
    """One uvicorn worker on `sock` (in this process, or a spawned child)."""
    import uvicorn

    connections.configure(limits)
    pod.set_pod_dir(pod_dir)
    config = uvicorn.Config("service.app:create_app", factory=True, **options)
    # uvicorn shuts down gracefully on SIGTERM or SIGINT, then re-raises the signal it caught
    # against the handler that was there before it: a stop that went well then looked like a
    # crash (exit 143, "make: *** Error 143", or a KeyboardInterrupt traceback). Here it ends
    # with exit 0 instead.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM outside uvicorn's own handling: re-raised after its graceful shutdown, or sent
    before it started serving. Either way the process stops now, with exit 0."""
    raise SystemExit(0)


def serve(options: dict[str, Any], limits: connections.Limits, workers: int, reload_interval: float,
          reload_quiet: float, rules_dir: Path) -> int:
    """Serve until SIGTERM or SIGINT; 2 when the port is taken."""
    host, port = options["host"], options["port"]
    try:
        check_port(host, port)
    except PortInUse as exc:
        log.error("%s", exc)
        return 2
    if workers == 1:
        run_worker(options, limits, listener(host, port, reuse_port=False), None)
        return 0
    return serve_workers(workers, options, limits, reload_interval, reload_quiet, rules_dir)


def serve_workers(workers: int, options: dict[str, Any], limits: connections.Limits, reload_interval: float,
                  reload_quiet: float, rules_dir: Path) -> int:
    """Run `workers` uvicorn processes, each with its own SO_REUSEPORT listening socket.

    uvicorn's own supervisor shares one socket between its workers; whichever worker
    accepts first takes the burst, so long-lived keep-alive connections (CRM pools,
    ingress controllers) pile up on one worker while the others idle (32 of 32
    connections on one of two workers was seen here). With a socket per worker the
    kernel spreads new connections over them. On SIGTERM or SIGINT every worker gets the
    signal, drains and finishes its requests, and this process exits when they have.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    sockets = [listener(options["host"], options["port"], reuse_port=True) for _ in range(workers)]
    pod_dir = Path(tempfile.mkdtemp(prefix="recovery-pod-"))
    coordinator = pod.Coordinator(pod_dir, rules_dir, reload_interval, reload_quiet)
    coordinator.start()
    stopping = False

    def start(index: int) -> Any:
        process = context.Process(target=run_worker, args=(options, limits, sockets[index], pod_dir),
                                  name="recovery-worker")
        process.start()
        return process

    processes = [start(index) for index in range(workers)]
    log.info("started %d workers (one listening socket each)", workers)

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    gone: set[int] = set()
    try:
        while True:
            for index, process in enumerate(processes):
                if process.is_alive() or process.pid is None or process.pid in gone:
                    continue
                process.join()
                gone.add(process.pid)
                _forget(process.pid, coordinator)
                if not stopping:
                    log.error("worker %s exited with %s; starting another", process.pid, process.exitcode)
                    processes[index] = start(index)
            if stopping and not any(process.is_alive() for process in processes):
                break
            if not stopping:
                coordinator.tick([process.pid for process in processes if process.pid is not None])
            time.sleep(0.05)
    finally:
        for sock in sockets:
            sock.close()
        shutil.rmtree(pod_dir, ignore_errors=True)
    return 0


def _forget(pid: int, coordinator: pod.Coordinator) -> None:
    coordinator.forget(pid)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)  # its live gauges (the ruleset it served) go
