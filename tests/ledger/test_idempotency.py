"""Idempotency across replicas: two real server processes share one database (PostgreSQL and SQLite)."""

from __future__ import annotations

import copy
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.ledger.conftest import Database, ledger_server
from tests.support import edited_rules
from tests.test_decisions_http import CONTRACT_EXAMPLE, problem


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    body["event_id"] = event_id
    for path, value in changes.items():
        section, name = path.split("__")
        body[section][name] = value
    return body


def gold_15(tmp_path: Path) -> Path:
    """The shipped rules with a larger gold credit: a replica that has reloaded to another ruleset."""
    return edited_rules(tmp_path, "rules-gold-15", "50-customers.yaml",
                        "      respond_within_minutes: 10\n      discount: {percent: 15, valid_days: 60}\n",
                        "      respond_within_minutes: 10\n      discount: {percent: 15, valid_days: 60}\n"
                        "      credit: {amount: {EUR: \"15.00\"}, expires_in_days: 180}\n")


def test_a_retry_on_another_replica_gets_the_first_decision_byte_for_byte(database: Database, tmp_path: Path) -> None:
    with ledger_server("a", database) as first, ledger_server("b", database, gold_15(tmp_path)) as second, \
            first.client() as a, second.client() as b:
        original = a.post("/v1/decisions", json=event("crm-retry-1"))
        assert original.status_code == 200
        assert original.headers["idempotency-status"] == "first"
        # The CRM retries a minute later, through the other replica, which serves another ruleset.
        retry = b.post("/v1/decisions", json=event("crm-retry-1", context__minutes_since_report=6))
        assert retry.status_code == 200, retry.text
        assert retry.headers["idempotency-status"] == "replayed"
        assert retry.content == original.content
        # Without the ledger the other replica would have answered with its own ruleset and amounts.
        fresh = b.post("/v1/decisions", json=event("crm-retry-2")).json()
        assert fresh["ruleset"]["digest"] != original.json()["ruleset"]["digest"]


def test_a_different_event_under_the_same_event_id_is_a_422_naming_what_differs(database: Database) -> None:
    with ledger_server("conflict", database) as server, server.client() as http:
        first = http.post("/v1/decisions", json=event("crm-conflict")).json()
        response = http.post("/v1/decisions", json=event("crm-conflict", failure__severity=4))
        body = problem(response, 422)
        assert body["code"] == "idempotency-conflict"
        assert body["errors"] == [{"loc": ["failure", "severity"], "msg": "differs from the first request under "
                                                                          "this key"}]
        assert body["decision_id"] == first["decision_id"]
        assert "event_id" in body["detail"]


def test_idempotency_key_header_wins_over_the_event_id(database: Database) -> None:
    with ledger_server("header", database) as server, server.client() as http:
        first = http.post("/v1/decisions", json=event("e-1"), headers={"Idempotency-Key": "order-77-claim"})
        again = http.post("/v1/decisions", json=event("e-1"), headers={"Idempotency-Key": "order-77-claim"})
        assert again.headers["idempotency-status"] == "replayed"
        assert again.content == first.content
        # Another key: a new question, even with the same event_id... which the event_id check
        # does not see, because the header replaces it as the key.
        other = http.post("/v1/decisions", json=event("e-1", failure__severity=2),
                          headers={"Idempotency-Key": "order-77-second"})
        assert other.status_code == 200 and other.headers["idempotency-status"] == "first"
        conflict = http.post("/v1/decisions", json=event("e-2", failure__severity=5),
                             headers={"Idempotency-Key": "order-77-claim"})
        body = problem(conflict, 422)
        assert "Idempotency-Key" in body["detail"]
        assert {tuple(error["loc"]) for error in body["errors"]} == {("event_id",), ("failure", "severity")}
        bad = http.post("/v1/decisions", json=event("e-3"), headers={"Idempotency-Key": "has spaces"})
        assert problem(bad, 422)["code"] == "invalid-idempotency-key"


def test_concurrent_retries_on_two_replicas_all_get_one_decision(database: Database, tmp_path: Path) -> None:
    with ledger_server("race-a", database) as first, ledger_server("race-b", database, gold_15(tmp_path)) as second:
        clients = [httpx.Client(base_url=first.url, timeout=30), httpx.Client(base_url=second.url, timeout=30)]
        try:
            def send(index: int) -> httpx.Response:
                return clients[index % 2].post("/v1/decisions", json=event(
                    "crm-race", context__minutes_since_report=5 + index))

            with ThreadPoolExecutor(max_workers=12) as pool:
                answers = list(pool.map(send, range(24)))
        finally:
            for client in clients:
                client.close()
    assert [answer.status_code for answer in answers] == [200] * 24
    assert len({answer.content for answer in answers}) == 1
    statuses = sorted(answer.headers["idempotency-status"] for answer in answers)
    assert statuses == ["first"] + ["replayed"] * 23


def test_the_window_ends_and_the_event_id_may_be_used_again(database: Database) -> None:
    with ledger_server("window", database, RECOVERY_LEDGER_IDEMPOTENCY_WINDOW_SECONDS="1") as server, \
            server.client() as http:
        assert http.post("/v1/decisions", json=event("crm-window")).status_code == 200
        assert http.post("/v1/decisions", json=event("crm-window", failure__severity=4)).status_code == 422
        time.sleep(1.2)
        later = http.post("/v1/decisions", json=event("crm-window", failure__severity=4))
        assert later.status_code == 200
        assert later.headers["idempotency-status"] == "first"
        assert later.json()["mix"]["refund"]["amount"] != "40.00"  # severity 4 decides afresh


def test_batch_events_are_idempotent_by_event_id(database: Database) -> None:
    with ledger_server("batch", database) as server, server.client() as http:
        single = http.post("/v1/decisions", json=event("crm-batch-1"))
        batch = http.post("/v1/decisions:batch", json={"events": [
            event("crm-batch-1", context__minutes_since_report=9), event("crm-batch-1", failure__severity=1),
            event("crm-batch-2")]}).json()
        assert [item["status"] for item in batch["results"]] == [200, 422, 200]
        assert batch["results"][0]["decision"] == single.json()
        assert batch["results"][1]["problem"]["code"] == "idempotency-conflict"
        assert batch["decided"] == 2 and batch["rejected"] == 1
        header = http.post("/v1/decisions:batch", json={"events": [event("x")]}, headers={"Idempotency-Key": "k"})
        assert problem(header, 422)["code"] == "invalid-idempotency-key"


def test_a_batch_larger_than_one_claim_statement_is_claimed_once_per_event(database: Database) -> None:
    """230 events (the database is asked in statements of 100 keys) and one of them twice: every event
    gets its own decision, the repeat gets the first one, and the whole batch retried minutes later
    (a field a retry may change) gets every first decision back, byte for byte."""
    events = [event(f"crm-large-{number}", failure__severity=1 + number % 5) for number in range(230)]
    events.append(copy.deepcopy(events[7]))
    with ledger_server("large", database) as server, server.client() as http:
        first = http.post("/v1/decisions:batch", json={"events": events}).json()
        assert first["decided"] == 231, first["results"][:2]
        decisions = [item["decision"] for item in first["results"]]
        assert decisions[230] == decisions[7]
        assert len({decision["decision_id"] for decision in decisions}) == 230
        for retried in events:
            retried["context"]["minutes_since_report"] = 55
        again = http.post("/v1/decisions:batch", json={"events": events}).json()
        assert [item["decision"] for item in again["results"]] == decisions
