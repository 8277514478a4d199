"""Watches the rules directory and reloads on change (live reload without downtime).

Polling works the same on a local directory and on a Kubernetes ConfigMap mount,
where an update swaps the `..data` symlink atomically. Each poll first stats the
files on the event loop thread (a few system calls); only when that changed are
the files read and digested, and loading and compiling a changed ruleset run in a
thread, so the event loop keeps answering; the registry swaps the new snapshot in
only when it is complete and valid.

Why not read the files in a thread at every poll: a thread that wants the GIL
while the event loop is busy makes the loop hand the GIL over and wait until the
thread has been scheduled; on a loaded machine that puts milliseconds into the
latency tail of whatever requests are in flight. With two workers polling every 2 s,
open-loop runs at 2,600 req/s showed clusters of slow requests about once a second,
and 1.5-3x as many requests over 5 ms as with the watcher off; with the stat check,
about as many as with the watcher off.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .engine.registry import Registry, fingerprint, signature

log = logging.getLogger("service.rules")


async def watch(registry: Registry, interval: float) -> None:
    looked: tuple[tuple[object, ...], ...] | None = signature(registry.directory)
    if _recent(looked):
        looked = None
    seen = await asyncio.to_thread(fingerprint, registry.directory)
    while True:
        await asyncio.sleep(interval)
        try:
            now_looks = signature(registry.directory)
            if now_looks == looked:
                continue
            # A file written seconds ago is read again at the next poll too: a file system's
            # coarse clock could give a second write of the same size the same times.
            looked = None if _recent(now_looks) else now_looks
            now = await asyncio.to_thread(fingerprint, registry.directory)
            if now != seen:
                seen = now
                await asyncio.to_thread(registry.reload)
        except asyncio.CancelledError:
            raise
        except Exception:  # the watcher must outlive any single failure
            log.exception("rules watcher failed; it keeps watching")


def _recent(looks: tuple[tuple[object, ...], ...], seconds: float = 5.0) -> bool:
    changed = [entry[5] for entry in looks if len(entry) == 6]
    return not changed or time.time_ns() - max(changed) < seconds * 1e9  # type: ignore[operator]
