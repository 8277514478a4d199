"""The recovery ledger: every decision and its outcome on record (docs/ledger.md).

`Ledger` is the face the routes use; behind it:

    store.py        the database (SQLAlchemy Core: PostgreSQL or SQLite), every statement
    schema.py       the tables; migrations/ creates and upgrades them (Alembic), migrate.py runs it
    spool.py        records on disk until the database has them (bounded, survives restarts)
    recorder.py     spool on the request path, batches to the database off it
    idempotency.py  the first decision under a key, from any replica
    records.py      what is kept of a decision (masked) and of its event
    history.py      prior recoveries and recurring failures read back for callers who keep none
    reports.py      acceptance, cost, owed vs goodwill, CSAT, repeats, the root-cause Pareto

Nothing here is called by `recovery.decide`: the decision stays a pure function of
the event and the ruleset; the ledger records around it. Errors: any database
failure is `LedgerUnavailable` to the routes (they answer 503), except on the
decision path, where it only means "record later" (the spool) or "no
idempotency this time".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from .idempotency import Claims
from .recorder import Health, OnFull, Recorder
from .spool import Spool
from .store import LedgerUrlError, Store, describe, open_engine, parse_url

__all__ = ["Ledger", "LedgerConfig", "LedgerUnavailable", "LedgerUrlError", "parse_url"]

log = logging.getLogger("service.ledger")
T = TypeVar("T")


class LedgerUnavailable(Exception):
    """The database did not answer (down, unreachable, schema not migrated); the message says which."""


@dataclass(frozen=True)
class LedgerConfig:
    url: str
    spool_dir: Path
    spool_max_bytes: int = 256 * 1024 * 1024
    on_full: OnFull = "shed"
    idempotency_window_seconds: int = 86_400
    retention_days: int = 365
    history: bool = False
    record_descriptions: bool = False
    hash_salt: str = ""
    prune_every_seconds: float = 3600.0


class Ledger:
    def __init__(self, config: LedgerConfig):
        self.config = config
        self.engine = open_engine(config.url)
        self.store = Store(self.engine)
        self.health = Health()
        self.spool = Spool(config.spool_dir, config.spool_max_bytes)
        self.recorder = Recorder(self.store, self.spool, config.on_full, self.health)
        self.claims = Claims(self.store, self.health, config.idempotency_window_seconds)
        self.schema: str | None = None
        self._queries = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ledger-query")
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def idempotent(self) -> bool:
        return self.config.idempotency_window_seconds > 0

    # ----------------------------------------------------------- lifecycle

    def prepare(self) -> None:
        """Bring the schema up to date (SQLite, under a file lock) or check it (PostgreSQL).

        A database that is down or behind does not stop the service: records wait in the
        spool and /readyz says what is wrong.
        """
        from . import migrate  # alembic is imported only when a ledger is on

        try:
            if self.dialect == "sqlite":
                with migrate.file_lock(self.config.spool_dir / ".migrate.lock"):
                    self.schema = migrate.upgrade(self.engine)
            else:
                self.schema = migrate.current(self.engine)
                if self.schema != migrate.head():
                    raise LedgerUnavailable(f"the ledger schema is at {self.schema or 'nothing'}, the service "
                                            f"needs {migrate.head()}: run `recovery ledger migrate`")
            self.health.restored()
        except (SQLAlchemyError, LedgerUnavailable) as exc:
            self.health.down(exc)
            log.error("ledger database %s: %s", describe(self.engine), self.health.last_error)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._queries, self.prepare)
        self._tasks.append(asyncio.create_task(self.recorder.run()))
        self._tasks.append(asyncio.create_task(self._prune_every(self.config.prune_every_seconds)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.recorder.close()
        self.claims.close()
        self._queries.shutdown(wait=False)
        self.store.writers.close()
        self.engine.dispose()

    async def _prune_every(self, seconds: float) -> None:
        while True:
            try:
                counts = await self.query(self.store.prune, self.config.retention_days,
                                          max(self.config.idempotency_window_seconds, 0) * 1000)
                if any(counts.values()):
                    log.info("ledger retention: deleted %s", counts)
            except LedgerUnavailable:
                pass
            await asyncio.sleep(seconds)

    # ------------------------------------------------------------- queries

    async def query(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking store call in the ledger's query threads; LedgerUnavailable on any database error."""
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._queries, function, *args)
        except SQLAlchemyError as exc:
            self.health.down(exc)
            raise LedgerUnavailable(self.health.last_error or "the ledger database did not answer") from exc
        return result

    def status(self) -> dict[str, Any]:
        """The ledger part of /readyz."""
        state: Literal["ok", "degraded", "full"] = "ok" if self.health.up else "degraded"
        if self.recorder.full():
            state = "full"
        return {
            "status": state, "database": self.dialect,
            "schema": self.schema, "database_up": self.health.up, "last_error": self.health.last_error,
            "backlog_records": self.recorder.backlog, "spool_bytes": self.recorder.spool_bytes,
            "spool_max_bytes": self.config.spool_max_bytes, "on_full": self.config.on_full,
            "shed": self.recorder.shed,
        }
