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
import signal
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
