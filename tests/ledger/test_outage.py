"""The database goes away: decisions go on, records wait in the spool, nothing is lost (real PostgreSQL).

PostgreSQL is stopped and started with pg_ctl under load; SQLite is embedded in the
service and cannot go away on its own, so these run against PostgreSQL only.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import httpx
import psycopg
import pytest

from tests.ledger.conftest import Database, ledger_server, migrate
from tests.ledger.postgres import Postgres
from tests.ledger.test_idempotency import event
from tests.test_decisions_http import problem


@pytest.fixture()
def pg(postgres: Postgres, tmp_path: Path) -> Iterator[Database]:
    url = postgres.create_database(f"outage_{uuid.uuid4().hex[:12]}")
    migrate(url)
    try:
        yield Database("postgresql", url, tmp_path)
    finally:
        if not running(postgres):
            postgres.start()


def running(postgres: Postgres) -> bool:
    try:
        psycopg.connect(postgres.url(), connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def recorded_event_ids(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute("SELECT event_id FROM ledger_decisions")]


def wait_for_records(url: str, expected: int, timeout: float = 90) -> list[str]:
    deadline = time.monotonic() + timeout
    found: list[str] = []
    while time.monotonic() < deadline:
        found = recorded_event_ids(url)
        if len(found) >= expected:
            return found
        time.sleep(0.5)
    return found


def metric(http: httpx.Client, name: str) -> float:
    total = 0.0
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_database_stopped_mid_load_loses_no_record_and_fails_no_decision(postgres: Postgres, pg: Database) -> None:
    total, stop_at, start_at = 800, 200, 550
    done = 0
    lock = threading.Lock()
    statuses: dict[str, int] = {}
    during: dict[str, Any] = {}
    clients: list[httpx.Client] = []
    with ledger_server("outage", pg) as server:
        local = threading.local()

        def send(index: int) -> None:
            nonlocal done
            if not hasattr(local, "http"):
                local.http = httpx.Client(base_url=server.url, timeout=30)
                with lock:
                    clients.append(local.http)
            event_id = f"load-{index:04d}"
            response = local.http.post("/v1/decisions", json=event(event_id))
            with lock:
                statuses[event_id] = response.status_code
                done += 1

        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(send, index) for index in range(total)]
            while done < stop_at:
                time.sleep(0.01)
            postgres.stop()
            with server.client() as http:
                while done < start_at:
                    time.sleep(0.01)
                during["ready"] = http.get("/readyz")
                during["up"] = metric(http, "recovery_ledger_database_up")
            postgres.start()
            for future in futures:
                future.result()
        for client in clients:
            client.close()
        found = wait_for_records(pg.url, total)
        with server.client() as http:
            after = http.get("/readyz").json()["ledger"]
    assert sorted(statuses.values()) == [200] * total
    assert during["ready"].status_code == 200
    ledger = during["ready"].json()["ledger"]
    assert ledger["status"] == "degraded" and ledger["database_up"] is False
    assert ledger["backlog_records"] > 0 and ledger["spool_bytes"] > 0
    assert during["up"] == 0
    assert sorted(found) == sorted(statuses)  # every decision once: none lost, none twice
    assert after["database_up"] is True


def test_records_spooled_during_an_outage_survive_a_restart_of_the_service(postgres: Postgres, pg: Database) -> None:
    postgres.stop()
    with ledger_server("restart", pg) as server, server.client() as http:
        for index in range(50):
            assert http.post("/v1/decisions", json=event(f"restart-{index}")).status_code == 200
    spool = pg.directory / "spool-restart"
    assert sum(path.stat().st_size for path in spool.glob("*.spool")) > 0
    postgres.start()
    with ledger_server("restart", pg):  # the same spool directory, as after a container restart
        found = wait_for_records(pg.url, 50)
    assert sorted(found) == sorted(f"restart-{index}" for index in range(50))
    assert not any(path.stat().st_size for path in spool.glob("*.spool"))


def test_keys_decided_during_an_outage_are_idempotent_once_the_spool_drains(postgres: Postgres,
                                                                           pg: Database) -> None:
    with ledger_server("late-keys", pg) as server, server.client() as http:
        postgres.stop()
        first = http.post("/v1/decisions", json=event("late-key"))
        assert first.headers["idempotency-status"] == "unavailable"
        postgres.start()
        assert wait_for_records(pg.url, 1) == ["late-key"]
        retry = http.post("/v1/decisions", json=event("late-key", context__minutes_since_report=30))
        assert retry.headers["idempotency-status"] == "replayed"
        assert retry.content == first.content


def test_a_full_spool_sheds_records_and_counts_them(postgres: Postgres, pg: Database) -> None:
    postgres.stop()
    with ledger_server("shed", pg, RECOVERY_LEDGER_SPOOL_MAX_BYTES="1048576") as server, server.client() as http:
        for batch in range(3):
            events = [event(f"shed-{batch}-{index}") for index in range(400)]
            body = http.post("/v1/decisions:batch", json={"events": events}).json()
            assert body["decided"] == 400  # decisions never fail for the ledger's sake
        shed = metric(http, 'recovery_ledger_records_total{result="shed"}')
        ledger = http.get("/readyz").json()["ledger"]
    assert shed > 0
    assert ledger["status"] == "full" and ledger["shed"] == shed
    assert ledger["spool_bytes"] <= 1048576


def test_a_full_spool_refuses_decisions_when_told_to(postgres: Postgres, pg: Database) -> None:
    postgres.stop()
    with ledger_server("refuse", pg, RECOVERY_LEDGER_SPOOL_MAX_BYTES="1048576",
                       RECOVERY_LEDGER_ON_FULL="refuse") as server, server.client() as http:
        refused = None
        for index in range(2000):
            response = http.post("/v1/decisions", json=event(f"refuse-{index}"))
            if response.status_code != 200:
                refused = response
                break
        assert refused is not None, "the spool never filled"
        assert problem(refused, 503)["code"] == "ledger-full"
        assert refused.headers["retry-after"] == "10"
        assert problem(http.get("/readyz"), 503)["code"] == "ledger-full"
        assert metric(http, 'recovery_ledger_records_total{result="shed"}') == 0
        postgres.start()
        assert len(wait_for_records(pg.url, index)) == index  # every decision served was recorded
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert http.post("/v1/decisions", json=event("refuse-after")).status_code == 200
