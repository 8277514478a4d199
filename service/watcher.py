"""Watches the rules directory and reloads on change (live reload without downtime).

Polling the files' digest works the same on a local directory and on a Kubernetes
ConfigMap mount, where an update swaps the `..data` symlink atomically. Loading
and compiling run in a thread, so the event loop keeps answering; the registry
swaps the new snapshot in only when it is complete and valid.
"""

from __future__ import annotations

import asyncio
import logging

from .engine.registry import Registry, fingerprint

log = logging.getLogger("service.rules")


async def watch(registry: Registry, interval: float) -> None:
    seen = await asyncio.to_thread(fingerprint, registry.directory)
    while True:
        await asyncio.sleep(interval)
        try:
            now = await asyncio.to_thread(fingerprint, registry.directory)
            if now != seen:
                seen = now
                await asyncio.to_thread(registry.reload)
        except asyncio.CancelledError:
            raise
        except Exception:  # the watcher must outlive any single failure
            log.exception("rules watcher failed; it keeps watching")
