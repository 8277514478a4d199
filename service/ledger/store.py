"""The ledger's database: one SQLAlchemy Core code path for PostgreSQL and SQLite.

`open_engine()` turns a URL into an engine (SQLite: WAL journal and a busy
timeout, so several processes share the file, and `WriterLock`, which queues their
writes; PostgreSQL: psycopg 3 with short
connect and statement timeouts, so a database that hangs fails fast; no pre-ping
round trip per checkout: a connection the server dropped fails one batch, which
invalidates the pool, and the batch is retried). `Store`
holds every statement the service runs. Its methods block: the service calls them
from the ledger's own threads, never on the event loop. Database errors surface
as SQLAlchemy's `SQLAlchemyError` (connection refused, timeouts, schema missing);
callers treat any of them as "the database is unavailable".
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson
from sqlalchemy import (JSON, BigInteger, Engine, and_, bindparam, case, create_engine, delete, event, func,
                        literal_column, select)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from .schema import decisions, erasures, idempotency, outcomes, ticket_status

HISTORY_DAYS = 90
CLAIM_ROWS = 100
"""Keys per claim statement on PostgreSQL, where each statement is a round trip (a batch of more is
claimed in several statements of one transaction). SQLite runs in the process: one key per statement,
which its statement cache keeps compiled (measured: as cheap as 10 rows a statement, per key)."""
DAY_MS = 86_400_000
WRITER_WAIT_SECONDS = 10.0
"""How long a SQLite write waits for the other writers (as long as the busy timeout)."""


class LedgerUrlError(ValueError):
    """The ledger URL cannot be used; the message says why and what to set."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_url(url: str) -> URL:
    """Validate a ledger URL: `sqlite:///path` or `postgresql://user:pass@host/db`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerUrlError("not a database URL: use sqlite:///path/to/file.db or "
                             "postgresql://user:password@host:5432/database") from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise LedgerUrlError("a PostgreSQL ledger needs psycopg: install the `postgres` extra "
                                 "(pip install 'service-recovery[postgres]')") from None
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise LedgerUrlError("a SQLite ledger needs a file (sqlite:///path/to/file.db): an in-memory "
                                 "database is not shared by workers and is lost on restart")
        return parsed.set(drivername="sqlite+pysqlite")
    raise LedgerUrlError(f"unsupported database {backend!r}: the ledger runs on PostgreSQL or SQLite")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def open_engine(url: str) -> Engine:
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=_dumps, json_deserializer=orjson.loads,
                               connect_args={"timeout": 10})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    return create_engine(parsed, json_serializer=_dumps, json_deserializer=orjson.loads,
                         pool_size=4, max_overflow=4, pool_timeout=5,
                         connect_args={"connect_timeout": 3, "options": "-c statement_timeout=10000"})


def describe(engine: Engine) -> str:
    """The URL without its password, for logs and /readyz."""
    return engine.url.set(drivername=engine.url.get_backend_name()).render_as_string(hide_password=True)


class WriterLock:
    """One SQLite writer at a time, across every thread and process that shares the file.

    SQLite lets one transaction write at a time; the others wait in its busy handler,
    which polls by sleeping 1, 2, 5, 10 ... up to 100 ms. With two workers claiming
    keys under load, that put 100 to 580 ms on the decision route's p99 (measured with
    `bench.ledger`'s wrk runs). Here writers queue on an advisory lock of a file beside
    the database (`<file>-writer.lock`) instead: a thread lock within the process, then
    `flock` between processes, tried again every 50 µs to 1 ms, so a writer starts
    within a millisecond of the previous one's commit. A wait longer than
    `WRITER_WAIT_SECONDS` raises `OperationalError`, which callers treat as the
    database being unavailable. On PostgreSQL, which queues writers itself, it does
    nothing.
    """

    def __init__(self, path: Path | None, wait_seconds: float = WRITER_WAIT_SECONDS):
        self.path = path
        self.wait_seconds = wait_seconds
        self._threads = threading.Lock()
        self._fd: int | None = None

    @classmethod
    def beside(cls, engine: Engine) -> WriterLock:
        if engine.dialect.name != "sqlite":
            return cls(None)
        database = Path(engine.url.database or "").expanduser().resolve()
        return cls(database.with_name(database.name + "-writer.lock"))

    def __enter__(self) -> None:
        if self.path is None:
            return
        deadline = time.monotonic() + self.wait_seconds
        if not self._threads.acquire(timeout=self.wait_seconds):
            raise self._timeout()
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            pause = 0.00005
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise self._timeout() from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *exc: object) -> None:
        if self.path is None:
            return
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _timeout(self) -> OperationalError:
        return OperationalError(f"waiting for the writer lock {self.path}", None,
                                Exception(f"another writer held the ledger for {self.wait_seconds:g} s"))

    def close(self) -> None:
        """Close the lock file (a writer still in its transaction keeps it until it ends, up to a second)."""
        held = self._threads.acquire(timeout=1.0)
        try:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        finally:
            if held:
                self._threads.release()


@dataclass(frozen=True)
class Claim:
    """A decision offered as the first answer under an idempotency key."""

    scope: str
    key: str
    record_id: str
    decision_id: str
    digest: str
    event: dict[str, Any]
    body: bytes
    customer_hash: str | None
    record: dict[str, Any] | None = None
    """The decision record, stored with the claim when it wins (None: recorded elsewhere)."""

    def row(self, at_ms: int) -> dict[str, Any]:
        """The idempotency table's row for this claim."""
        return {"scope": self.scope, "key": self.key, "record_id": self.record_id, "decision_id": self.decision_id,
                "fingerprint": {"digest": self.digest, "event": self.event}, "body": self.body.decode(),
                "customer_hash": self.customer_hash, "at_ms": at_ms}


@dataclass(frozen=True)
class Winner:
    """The first decision under a key: this request's own (`record_id` equal) or an earlier one."""

    record_id: str
    decision_id: str
    digest: str
    event: dict[str, Any]
    body: bytes


_NOBODY = Winner("", "", "", {}, b"")


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        self._insert = insert
        # Built once: the statements of the hot paths, with every value a bound parameter, so
        # SQLAlchemy compiles each one once per process.
        self._claims: dict[tuple[int, int], Any] = {}
        self._claim_rows = 1 if engine.dialect.name == "sqlite" else CLAIM_ROWS
        self.writers = WriterLock.beside(engine)
        self._bulk = {table.name: self._prepare(insert(table).on_conflict_do_nothing(index_elements=key), table)
                      for table, key in ((decisions, ["record_id"]), (ticket_status, ["record_id"]),
                                         (idempotency, ["scope", "key"]))}

    def _prepare(self, statement: Any, table: Any) -> tuple[str, tuple[str, ...] | None, frozenset[str]]:
        compiled = statement.compile(dialect=self.engine.dialect)
        json_columns = frozenset(column.name for column in table.c if isinstance(column.type, JSON))
        positions = tuple(compiled.positiontup) if compiled.positiontup else None
        return str(compiled), positions, json_columns

    def _insert_many(self, connection: Any, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows (skipping those already stored) with the driver's executemany.

        The statement is SQLAlchemy's, compiled once for the dialect; the rows go to the driver
        as they are (JSON columns serialised here), which saves SQLAlchemy's per-row parameter
        processing: about three quarters of the cost of a recorded decision.
        """
        sql, positions, json_columns = self._bulk[table]
        if positions is not None:
            params: list[Any] = [tuple(_dumps(row[name]) if name in json_columns else row[name] for name in positions)
                                 for row in rows]
        else:
            params = [{name: _dumps(value) if name in json_columns else value for name, value in row.items()}
                      for row in rows]
        connection.exec_driver_sql(sql, params)

    def ping(self) -> None:
        """Raise unless the database answers and has the ledger's tables."""
        with self.engine.connect() as connection:
            connection.execute(select(func.count()).select_from(erasures).limit(1)).scalar_one()

    # ------------------------------------------------------------------ records

    def write(self, rows: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
        """Store spooled records (`decision`, `ticket`, `claim` rows) in one transaction.

        Rows already stored (same record id, or a key already claimed) are skipped, so a
        spool can be replayed any number of times. Rows of a customer erased after they
        were made are dropped. Returns (rows offered, rows dropped as erased).
        """
        offered = sum(len(batch) for batch in rows.values())
        hashes = {row["customer_hash"] for batch in rows.values() for row in batch if row.get("customer_hash")}
        with self.writers, self.engine.begin() as connection:
            erased: dict[str, int] = {}
            if hashes:
                found = connection.execute(select(erasures.c.customer_hash, erasures.c.at_ms)
                                           .where(erasures.c.customer_hash.in_(sorted(hashes))))
                erased = {customer: at for customer, at in found}
            dropped = 0

            def kept(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
                nonlocal dropped
                if not erased:
                    return batch
                out = [row for row in batch if row.get("customer_hash") not in erased
                       or row["at_ms"] > erased[row["customer_hash"]]]
                dropped += len(batch) - len(out)
                return out

            for table, name in ((decisions, "decision"), (ticket_status, "ticket"), (idempotency, "claim")):
                batch = kept(rows.get(name, []))
                if batch:
                    self._insert_many(connection, table.name, batch)
        return offered, dropped

    # -------------------------------------------------------------- idempotency

    def _claim_statement(self, window_ms: int, rows: int) -> tuple[str, tuple[str, ...] | None, frozenset[str]]:
        """INSERT ... VALUES (a row per key) ON CONFLICT DO UPDATE ... RETURNING, compiled once per window
        and number of rows for the dialect: it claims the keys and returns each key's first decision. A
        key whose first decision is older than the window takes the new one; a live one keeps its own
        (the update writes the row back unchanged). Row i's parameters are named `<column>_<i>`; the
        window is an integer written into the SQL."""
        statement = self._claims.get((window_ms, rows))
        if statement is None:
            columns = list(idempotency.c)
            claim = self._insert(idempotency).values(
                [{column.name: bindparam(f"{column.name}_{number}", type_=column.type) for column in columns}
                 for number in range(rows)])
            expired = idempotency.c.at_ms < claim.excluded.at_ms - literal_column(str(int(window_ms)), BigInteger)
            built = claim.on_conflict_do_update(
                index_elements=["scope", "key"],
                set_={name: case((expired, claim.excluded[name]), else_=idempotency.c[name]) for name in
                      ("record_id", "decision_id", "fingerprint", "body", "customer_hash", "at_ms")},
            ).returning(idempotency.c.scope, idempotency.c.key, idempotency.c.record_id,
                        idempotency.c.decision_id, idempotency.c.fingerprint, idempotency.c.body)
            compiled = built.compile(dialect=self.engine.dialect)
            json_columns = frozenset(f"{column.name}_{number}" for column in columns if isinstance(column.type, JSON)
                                     for number in range(rows))
            positions = tuple(compiled.positiontup) if compiled.positiontup else None
            if len(self._claims) >= 64:  # batch sizes seen under load are few; keep the statements bounded
                del self._claims[next(iter(self._claims))]
            statement = self._claims[(window_ms, rows)] = (str(compiled), positions, json_columns)
        return statement

    def claim(self, claims: list[Claim], window_ms: int) -> dict[tuple[str, str], Winner]:
        """Insert each claim unless its key holds a live (younger than the window) first decision;
        return the first decision of every key, this batch's or an earlier one. A claim that won
        stores its decision record (`Claim.record`) in the same transaction.

        The statement is SQLAlchemy's (compiled once per dialect, window and batch size); it runs
        through the driver's cursor, which saves SQLAlchemy's per-row parameter and result
        processing. On PostgreSQL one statement claims up to `CLAIM_ROWS` keys: one round trip
        instead of one per key halved the claim's CPU and time in a batch of 10 (in process)."""
        at = now_ms()
        # One row per key (two retries can meet in one batch; the first offered wins), in a
        # stable order, so two processes never deadlock on each other's rows.
        unique = {(claim.scope, claim.key): claim for claim in reversed(claims)}
        winners: dict[tuple[str, str], Winner] = {}
        keys = sorted(unique)
        with self.writers, self.engine.begin() as connection:
            rows = self._claim_rows
            for first in range(0, len(keys), rows):
                part = keys[first:first + rows]
                sql, positions, json_columns = self._claim_statement(window_ms, len(part))
                named: dict[str, Any] = {}
                for number, key in enumerate(part):
                    for name, value in unique[key].row(at).items():
                        named[f"{name}_{number}"] = value
                for name in json_columns:
                    named[name] = _dumps(named[name])
                params: Any = tuple(named[name] for name in positions) if positions is not None else named
                cursor = connection.connection.cursor()
                try:
                    cursor.execute(sql, params)
                    found = cursor.fetchall()
                except self.engine.dialect.loaded_dbapi.Error as exc:  # the driver's own: to callers, SQLAlchemy's
                    connection.invalidate(exc)
                    raise DBAPIError.instance(sql, None, exc, self.engine.dialect.loaded_dbapi.Error) from exc
                finally:
                    cursor.close()
                for scope, key, record_id, decision_id, fingerprint, body in found:
                    if not isinstance(fingerprint, dict):
                        fingerprint = orjson.loads(fingerprint)
                    winners[(scope, key)] = Winner(record_id, decision_id, fingerprint["digest"], fingerprint["event"],
                                                   body.encode())
            won = [claim.record for claim in claims if claim.record is not None
                   and winners[(claim.scope, claim.key)].record_id == claim.record_id]
            if won:
                self._insert_many(connection, decisions.name, won)
        return winners

    # ------------------------------------------------------------------ history

    def history(self, customer_hash: str, failure_type: str) -> tuple[int, bool]:
        """(recoveries in the last 90 days, the same failure type seen in them) for one customer.

        A recovery is a recorded decision that offered something tangible (refund, credit,
        discount or replacement) and whose latest outcome is not `declined`.
        """
        since = now_ms() - HISTORY_DAYS * DAY_MS
        declined = select(outcomes.c.decision_id).where(outcomes.c.result == "declined",
                                                        outcomes.c.customer_hash == customer_hash)
        recent = and_(decisions.c.customer_hash == customer_hash, decisions.c.at_ms >= since)
        with self.engine.connect() as connection:
            prior = connection.execute(
                select(func.count(func.distinct(decisions.c.decision_id)))
                .where(recent, decisions.c.tangible.is_(True), decisions.c.decision_id.not_in(declined))).scalar_one()
            same = connection.execute(
                select(decisions.c.record_id).where(recent, decisions.c.failure_type == failure_type).limit(1)
            ).first()
        return int(prior), same is not None

    # ----------------------------------------------------------------- outcomes

    def decision_customer(self, decision_id: str) -> tuple[bool, str | None]:
        """(is the decision on record, its customer hash)."""
        with self.engine.connect() as connection:
            found = connection.execute(select(decisions.c.customer_hash)
                                       .where(decisions.c.decision_id == decision_id).limit(1)).first()
            if found is None:
                found = connection.execute(select(idempotency.c.customer_hash)
                                           .where(idempotency.c.decision_id == decision_id).limit(1)).first()
        return (found is not None, found[0] if found is not None else None)

    def add_outcome(self, row: dict[str, Any]) -> int:
        with self.writers, self.engine.begin() as connection:
            return int(connection.execute(outcomes.insert().returning(outcomes.c.id), row).scalar_one())

    # ------------------------------------------------------ retention, erasure

    def erase(self, customer_hash: str) -> dict[str, int]:
        """Delete every record of one customer, and remember the erasure so that a spool
        replayed later cannot bring records made before it back."""
        at = now_ms()
        counts: dict[str, int] = {}
        with self.writers, self.engine.begin() as connection:
            for name, table in (("decisions", decisions), ("outcomes", outcomes), ("idempotency_keys", idempotency),
                                ("ticket_statuses", ticket_status)):
                counts[name] = connection.execute(delete(table).where(table.c.customer_hash == customer_hash)).rowcount
            connection.execute(self._insert(erasures).on_conflict_do_update(
                index_elements=["customer_hash"], set_={"at_ms": at}), {"customer_hash": customer_hash, "at_ms": at})
        return counts

    def prune(self, retention_days: int, window_ms: int) -> dict[str, int]:
        """Delete records older than the retention period and idempotency keys past their window."""
        at = now_ms()
        counts: dict[str, int] = {}
        with self.writers, self.engine.begin() as connection:
            if retention_days > 0:
                cutoff = at - retention_days * DAY_MS
                for name, table in (("decisions", decisions), ("outcomes", outcomes),
                                    ("ticket_statuses", ticket_status), ("erasures", erasures)):
                    counts[name] = connection.execute(delete(table).where(table.c.at_ms < cutoff)).rowcount
            counts["idempotency_keys"] = connection.execute(
                delete(idempotency).where(idempotency.c.at_ms < at - window_ms)).rowcount
        return counts

    # --------------------------------------------------------------- simulation

    def events(self, since_ms: int | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The recorded events (masked), oldest first, for `recovery simulate --from-ledger`."""
        query = select(decisions.c.event).order_by(decisions.c.at_ms, decisions.c.record_id)
        if since_ms is not None:
            query = query.where(decisions.c.at_ms >= since_ms)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            for (recorded,) in connection.execution_options(yield_per=1000).execute(query):
                yield recorded

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
                    for table in (decisions, outcomes, idempotency, ticket_status)}


def rows_by_kind(records: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, row in records:
        out.setdefault(kind, []).append(row)
    return out
