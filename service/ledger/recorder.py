"""The recorder: records go to the spool on the request path and to the database in batches.

`record()` costs one `write` of a JSON line; it never waits for the database and
never fails a decision. A background task (`run()`) ships the active segment every
`interval` seconds from a thread of its own, then replays orphaned segments
(earlier outages, stopped or dead workers) oldest first. When the database is
unavailable, segments stay on disk and shipping is retried with backoff; the
spool grows until its bound, where the configured policy applies: `shed` drops
the record and counts it, `refuse` makes the decision routes answer 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from .spool import Segment, Spool
from .store import Store, rows_by_kind

log = logging.getLogger("service.ledger")

OnFull = Literal["shed", "refuse"]


@dataclass
class Health:
    """What the recorder knows of the database (shared with idempotency and history)."""

    up: bool = True
    last_error: str | None = None
    since: float = 0.0
    failures: int = 0

    def down(self, exc: BaseException) -> None:
        if self.up:
            log.warning("ledger database unavailable, records wait in the spool: %s", _short(exc))
            self.since = time.time()
        self.up = False
        self.failures += 1
        self.last_error = _short(exc)
        metrics.LEDGER_DB_UP.set(0)

    def restored(self) -> None:
        if not self.up:
            log.info("ledger database available again after %.1f s", time.time() - self.since)
            self.since = time.time()
        self.up = True
        self.failures = 0
        metrics.LEDGER_DB_UP.set(1)


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class Recorder:
    SEGMENT_BYTES_WHILE_DOWN = 4 * 1024 * 1024
    """While the database is down the active segment grows to this size before it is set aside."""

    def __init__(self, store: Store, spool: Spool, on_full: OnFull, health: Health, interval: float = 0.25):
        self.store = store
        self.spool = spool
        self.on_full = on_full
        self.health = health
        self.interval = interval
        self.spool_bytes = 0
        self.stored = 0
        self.shed = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-ship")
        self._retry_at = 0.0

    # ---------------------------------------------------------------- request path

    def full(self) -> bool:
        return not self.spool.room(4096)

    def record(self, kind: str, row: dict[str, Any]) -> bool:
        """Spool one record; False when the spool is full and it was shed (counted)."""
        try:
            written = self.spool.append(kind, row)
        except OSError as exc:
            log.error("ledger spool write failed (%s): record shed", exc.strerror)
            written = False
        if not written:
            self.shed += 1
            metrics.count(metrics.LEDGER_RECORDS, "shed")
            return False
        return True

    @property
    def backlog(self) -> int:
        """About how many records wait in the spool (every worker's), as of the last round."""
        return self.spool.records_estimate(self.spool_bytes)

    # ---------------------------------------------------------------- shipping

    def _ship(self, segment: Segment) -> bool:
        """Store one segment's records; on a database error give it back to the spool."""
        try:
            records = self.spool.read(segment)
        except OSError as exc:
            log.error("ledger spool %s cannot be read (%s); left on disk", segment.path.name, exc.strerror)
            self.spool.release(segment)
            return False
        try:
            offered, dropped = self.store.write(rows_by_kind(records))
        except SQLAlchemyError as exc:
            self.health.down(exc)
            self.spool.release(segment)
            return False
        self.spool.done(segment)
        self.health.restored()
        self.stored += offered - dropped
        metrics.LEDGER_RECORDS.labels("stored").inc(offered - dropped)
        if dropped:
            metrics.LEDGER_RECORDS.labels("erased").inc(dropped)
        return True

    def ship_once(self, orphans: int = 8) -> None:
        """One round (blocking): the active segment, then up to `orphans` orphaned ones.

        While the database is down, rounds only set a large active segment aside until the
        next retry (backoff up to 10 s); a retry asks the database a trivial question first
        and ships only when it answers.
        """
        now = time.monotonic()
        if not self.health.up:
            # A cheap probe first: reading a large segment back only to fail again would hold
            # the GIL for tens of milliseconds, and requests would wait for it.
            if now < self._retry_at or not self._probe():
                if now >= self._retry_at:  # the probe failed: back off
                    self._retry_at = now + min(10.0, 0.25 * 2 ** min(self.health.failures, 6))
                self._seal_if_large()
                self._gauges()
                return
        segment = self.spool.take_active()
        if segment is not None:
            self._ship(segment)
        if self.health.up:
            for path in self.spool.orphans()[:orphans]:
                claimed = self.spool.claim(path)
                if claimed is not None and not self._ship(claimed):
                    break
        if not self.health.up:
            self._retry_at = now + min(10.0, 0.25 * 2 ** min(self.health.failures, 6))
        self._gauges()

    def _probe(self) -> bool:
        try:
            self.store.ping()
        except SQLAlchemyError as exc:
            self.health.down(exc)
            return False
        self.health.restored()
        return True

    def _seal_if_large(self) -> None:
        segment = self.spool.take_active(self.SEGMENT_BYTES_WHILE_DOWN)
        if segment is not None:
            self.spool.release(segment)

    def _gauges(self) -> None:
        self.spool_bytes = self.spool.scan()
        metrics.LEDGER_SPOOL_BYTES.set(self.spool_bytes)
        metrics.LEDGER_BACKLOG.set(self.backlog)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            try:
                await loop.run_in_executor(self._thread, self.ship_once)
            except OSError as exc:  # the spool directory itself is failing: keep serving, keep trying
                log.error("ledger spool error: %s", exc)
            except Exception:  # a bug must not stop the shipping for good: log it, go on next round
                log.exception("ledger shipping round failed")

    async def close(self, timeout: float = 5.0) -> None:
        """Ship what is left (when the database answers), then leave the rest on disk."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self._thread, self._final), timeout)
        except (TimeoutError, OSError) as exc:
            log.warning("ledger: %d records stay in the spool for the next start (%s)", self.backlog,
                        type(exc).__name__)
        self._thread.shutdown(wait=False)

    def _final(self) -> None:
        self._retry_at = 0.0
        segment = self.spool.take_active()
        if segment is not None:
            self._ship(segment)
        self.spool.close()
        self._gauges()
