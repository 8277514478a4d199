"""What a record keeps (masked like the logs), and that the migrations build the tables the code uses."""

from __future__ import annotations

import hashlib
import time
import uuid
from decimal import Decimal
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from service.ledger import migrate
from service.ledger.schema import decisions, metadata
from service.ledger.store import open_engine
from tests.ledger.conftest import Database, ledger_server
from tests.ledger.conftest import migrate as migrate_cli
from tests.ledger.postgres import Postgres
from tests.test_decisions_http import CONTRACT_EXAMPLE


def recorded(url: str, expected: int) -> list[dict[str, Any]]:
    engine = open_engine(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            with engine.connect() as connection:
                rows = [dict(row._mapping) for row in connection.execute(select(decisions).order_by(decisions.c.at_ms))]
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)
    finally:
        engine.dispose()


def test_records_hash_ids_like_the_logs_and_leave_descriptions_out(database: Database) -> None:
    unkeyed = {key: value for key, value in CONTRACT_EXAMPLE.items() if key != "event_id"}
    with ledger_server("masked", database) as server, server.client() as http:
        keyed = http.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()
        http.post("/v1/decisions", json=unkeyed)  # no key: recorded through the spool
        rows = recorded(database.url, 2)
        log = server.logs()
    assert len(rows) == 2
    hashed = "h:" + hashlib.sha256(b"c-1009").hexdigest()[:16]
    assert hashed in log  # the decision log line carries the same hash
    for row in rows:
        assert row["customer_hash"] == hashed
        event = row["event"]
        assert event["customer"]["id"] == hashed and event["order"]["id"] == "h:" + hashlib.sha256(b"o-77").hexdigest()[:16]
        assert "description" not in event["failure"]
        assert "c-1009" not in str(row) and "parcel 4 days late" not in str(row)
    first = rows[0]
    assert first["decision_id"] == keyed["decision_id"] and first["event_id"] == "crm-48213"
    assert (first["ruleset_version"], first["ruleset_digest"]) == (keyed["ruleset"]["version"],
                                                                   keyed["ruleset"]["digest"])
    cents = lambda money: int(Decimal(money["amount"]) * 100)  # noqa: E731  EUR has two places
    assert (first["currency"], first["refund_minor"], first["cost_minor"]) == (
        "EUR", cents(keyed["mix"]["refund"]), cents(keyed["estimated_cost"]))
    assert first["source"] == "api" and first["tier"] == "gold" and first["channel"] == "chat"
    assert first["rules_fired"] == [rule["id"] for rule in keyed["rules_fired"]]


def test_descriptions_are_kept_only_when_configured(database: Database) -> None:
    with ledger_server("descriptions", database, RECOVERY_LEDGER_RECORD_DESCRIPTIONS="true") as server, \
            server.client() as http:
        http.post("/v1/decisions", json=CONTRACT_EXAMPLE)
        rows = recorded(database.url, 1)
    assert rows[0]["event"]["failure"]["description"] == "parcel 4 days late"


def test_the_migrations_build_exactly_the_tables_the_code_uses(database: Database) -> None:
    engine = open_engine(database.url)
    try:
        if database.dialect == "sqlite":
            assert migrate.current(engine) is None
            migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
        migrate.upgrade(engine)  # a second run changes nothing
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()


def test_postgresql_compresses_the_large_values_with_lz4(postgres: Postgres) -> None:
    """`recovery ledger migrate` sets lz4 on the columns that hold kilobytes (SQLite has no such setting)."""
    url = postgres.create_database(f"ledger_{uuid.uuid4().hex[:12]}")
    assert migrate_cli(url).strip() == "ledger schema: empty -> 0002"
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            found = dict(connection.exec_driver_sql(
                "SELECT attrelid::regclass::text || '.' || attname, attcompression FROM pg_attribute "
                "WHERE attrelid IN ('ledger_idempotency'::regclass, 'ledger_decisions'::regclass) "
                "AND attname IN ('body', 'fingerprint', 'event')").all())
    finally:
        engine.dispose()
    assert found == {"ledger_idempotency.body": "l", "ledger_idempotency.fingerprint": "l",
                     "ledger_decisions.event": "l"}
