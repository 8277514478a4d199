"""History filled from the ledger, and a customer's erasure, over real HTTP on both databases."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx

from service.ledger import migrate as migrations
from service.ledger.store import DAY_MS, Store, now_ms, open_engine
from tests.conftest import ADMIN_KEY, API_KEY, SECURED_ENV
from tests.ledger.conftest import Database, ledger_server
from tests.ledger.test_reports import make
from tests.test_decisions_http import problem

SALT = "pepper-for-the-tests"
CRM = {"X-API-Key": API_KEY}
OPS = {"X-API-Key": ADMIN_KEY}


def hashed(customer_id: str) -> str:
    return "h:" + hmac.new(SALT.encode(), customer_id.encode(), hashlib.sha256).hexdigest()[:16]


def without_history(body: dict[str, Any]) -> dict[str, Any]:
    """An event as a caller that keeps no history sends it: no prior_recoveries_90d, no recurring."""
    body["customer"].pop("prior_recoveries_90d", None)
    body["failure"].pop("recurring", None)
    return body


def wait_for(http: httpx.Client, decisions: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if http.get("/v1/reports/summary", headers=CRM).json()["decisions"] >= decisions:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {decisions} decisions reached the ledger")


def test_history_is_filled_for_callers_who_keep_none_and_an_erased_customer_has_none(database: Database) -> None:
    env = {**SECURED_ENV, "RECOVERY_LEDGER_HISTORY": "true", "RECOVERY_LOG_HASH_SALT": SALT}
    with ledger_server("history", database, **env) as server, server.client() as http:
        first = http.post("/v1/decisions", headers=CRM, json=without_history(
            make("h-0", "c-alice", "late_delivery", 3, "gold", "80.00", "EUR", "chat"))).json()
        assert first["history"] == {"source": "ledger", "available": True, "window_days": 90,
                                    "filled": {"customer.prior_recoveries_90d": 0, "failure.recurring": False}}
        priors = [first]
        for index in range(1, 4):
            priors.append(http.post("/v1/decisions", headers=CRM, json=without_history(
                make(f"h-{index}", "c-alice", "late_delivery", 3, "gold", "80.00", "EUR", "chat"))).json())
        http.post("/v1/decisions", headers=CRM, json=make("h-bob", "c-bob", "late_delivery", 3, "gold", "80.00",
                                                          "EUR", "chat"))
        declined = http.post(f"/v1/decisions/{priors[1]['decision_id']}/outcome", headers=CRM,
                             json={"result": "declined"})
        assert declined.status_code == 201
        wait_for(http, 5)

        again = http.post("/v1/decisions", headers=CRM, json=without_history(
            make("h-4", "c-alice", "late_delivery", 3, "gold", "80.00", "EUR", "chat"))).json()
        # Four earlier recoveries, one declined: three count, so the serial-claimant rule applies;
        # the same failure type before: the recurring-failure rule applies.
        assert again["history"]["filled"] == {"customer.prior_recoveries_90d": 3, "failure.recurring": True}
        fired = {rule["id"] for rule in again["rules_fired"]}
        assert {"serial-claimant-review", "recurring-failure-escalate"} <= fired
        assert again["approval"]["required"] is True

        stated = without_history(make("h-5", "c-alice", "rude_agent", 2, "gold", "80.00", "EUR", "chat"))
        stated["customer"]["prior_recoveries_90d"] = 0
        told = http.post("/v1/decisions", headers=CRM, json=stated).json()
        assert told["history"]["filled"] == {"failure.recurring": False}  # what the caller sent is kept
        assert "serial-claimant-review" not in {rule["id"] for rule in told["rules_fired"]}

        wait_for(http, 7)
        assert problem(http.post("/v1/ledger/erasures", headers=CRM, json={"customer_id": "c-alice"}), 403)
        erased = http.post("/v1/ledger/erasures", headers=OPS, json={"customer_id": "c-alice"})
        assert erased.status_code == 200, erased.text
        assert erased.json()["customer"] == hashed("c-alice")
        assert erased.json()["deleted"] == {"decisions": 6, "outcomes": 1, "idempotency_keys": 6,
                                            "ticket_statuses": 0}
        assert problem(http.post("/v1/ledger/erasures", headers=OPS, json={"customer": "c-alice"}), 422)

        after = http.post("/v1/decisions", headers=CRM, json=without_history(
            make("h-6", "c-alice", "late_delivery", 3, "gold", "80.00", "EUR", "chat"))).json()
        assert after["history"]["filled"] == {"customer.prior_recoveries_90d": 0, "failure.recurring": False}
        wait_for(http, 2)
        summary = http.get("/v1/reports/summary", headers=CRM).json()
        assert summary["decisions"] == 2  # bob's, and alice's one made after her erasure
        assert summary["outcomes"] == 0


def test_records_older_than_an_erasure_do_not_come_back_from_a_spool(database: Database) -> None:
    store = store_for(database)
    try:
        row = _row("late-1", "h:alice", now_ms() - 1000)
        store.erase("h:alice")
        fresh = _row("late-2", "h:alice", now_ms() + 1000)
        offered, dropped = store.write({"decision": [row, fresh, _row("other", "h:bob", now_ms())]})
        assert (offered, dropped) == (3, 1)
        assert store.counts()["ledger_decisions"] == 2
        assert store.write({"decision": [row, fresh]}) == (2, 1)  # a replay stores nothing twice
        assert store.counts()["ledger_decisions"] == 2
    finally:
        store.engine.dispose()


def test_retention_deletes_old_records_and_expired_keys(database: Database) -> None:
    store = store_for(database)
    try:
        old, recent = now_ms() - 400 * DAY_MS, now_ms() - 10 * DAY_MS
        store.write({"decision": [_row("old", "h:a", old), _row("recent", "h:a", recent)]})
        counts = store.prune(365, 86_400_000)
        assert counts["decisions"] == 1
        assert [event["event_id"] for event in store.events()] == ["recent"]
        assert store.prune(0, 86_400_000)["idempotency_keys"] == 0
    finally:
        store.engine.dispose()


def store_for(database: Database) -> Store:
    """A store on the test's database, migrated (the fixture migrated PostgreSQL already)."""
    store = Store(open_engine(database.url))
    if database.dialect == "sqlite":
        migrations.upgrade(store.engine)
    return store


def _row(event_id: str, customer: str, at_ms: int) -> dict[str, Any]:
    return {
        "record_id": f"r-{event_id}", "decision_id": "dec_" + "1" * 32, "event_id": event_id, "at_ms": at_ms,
        "source": "api", "caller": None, "ruleset_name": "default", "ruleset_version": "1", "ruleset_digest": "sha256:x",
        "failure_type": "late_delivery", "category": "outcome", "severity": 3, "root_cause": "provider",
        "recurring": False, "tier": "gold", "channel": "chat", "customer_hash": customer, "currency": "EUR",
        "refund_minor": 4000, "credit_minor": None, "owed_minor": 0, "cost_minor": 4000, "discount_percent": None,
        "replacement": None, "tangible": True, "approval_required": False, "approval_level": "agent",
        "root_cause_review": False, "history_filled": False, "rules_fired": [], "event": {"event_id": event_id},
    }
