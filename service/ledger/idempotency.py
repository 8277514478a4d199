"""Idempotency across replicas: the first decision under a key is the answer, from any replica.

The key is the `Idempotency-Key` header, else the event's `event_id`, within a
window (RECOVERY_LEDGER_IDEMPOTENCY_WINDOW_SECONDS), scoped to the caller (the API
key's name, or the webhook's system). A request decides first, then claims the
key with its decision: the database keeps the first claim, and every request
gets that first decision back (its own, or an earlier one from any replica). A
request whose event differs from the first one's (any field but
`context.minutes_since_report`, which a retry is expected to change) is a
conflict the route turns into a 422.

Claims are batched: requests that arrive while a batch is in the database wait
for the next one, so one transaction serves many requests. A claim that cannot
be answered within `timeout` (database down or slow) answers None: the route then
serves its own decision, unprotected, and says so in a header; the decision
record carries the claim so the key is set when the spool reaches the database.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from .recorder import Health
from .store import Claim, Store, Winner

Verdict = Literal["first", "replayed", "conflict", "unavailable"]
MAX_BATCH = 500


def verdict(claim: Claim, winner: Winner | None) -> Verdict:
    if winner is None:
        return "unavailable"
    if winner.record_id == claim.record_id:
        return "first"
    return "replayed" if winner.digest == claim.digest else "conflict"


class Claims:
    def __init__(self, store: Store, health: Health, window_seconds: int, timeout: float = 1.0):
        self.store = store
        self.health = health
        self.window_ms = window_seconds * 1000
        self.timeout = timeout
        self._pending: list[tuple[Claim, asyncio.Future[Winner | None]]] = []
        self._running = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-claims")

    async def claim(self, claim: Claim) -> Winner | None:
        """The first decision under the claim's key, or None when the database cannot say in time."""
        if not self.health.up:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Winner | None] = loop.create_future()
        self._pending.append((claim, future))
        if not self._running:
            self._running = True
            loop.create_task(self._drain())
        timer = loop.call_later(self.timeout, _settle, future, None)
        try:
            return await future
        finally:
            timer.cancel()

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                live = [(claim, future) for claim, future in batch if not future.done()]
                if not live:
                    continue
                try:
                    winners = await loop.run_in_executor(self._thread, self.store.claim,
                                                         [claim for claim, _ in live], self.window_ms)
                except SQLAlchemyError as exc:
                    self.health.down(exc)
                    for _, future in live:
                        _settle(future, None)
                    continue
                self.health.restored()
                for claim, future in live:
                    _settle(future, winners.get((claim.scope, claim.key)))
        finally:
            self._running = False

    def close(self) -> None:
        self._thread.shutdown(wait=False)


def _settle(future: asyncio.Future[Winner | None], value: Winner | None) -> None:
    if not future.done():
        future.set_result(value)


def count(result: Verdict) -> None:
    metrics.count(metrics.LEDGER_IDEMPOTENCY, result)
