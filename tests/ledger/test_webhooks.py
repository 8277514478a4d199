"""Webhook deliveries with the ledger on: redeliveries replay, a changed ticket decides afresh,
and the ticket's status as the vendor sends it is recorded (both databases)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from service.ledger.schema import ticket_status
from service.ledger.store import open_engine
from tests.ledger.conftest import Database, ledger_server
from tests.webhooks import deliveries as d


def zendesk(hooks: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    body = d.body_of(payload)
    response = hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body))
    assert response.status_code == 200, response.text
    return response.json()


def statuses(url: str, expected: int) -> list[tuple[str, str, str]]:
    engine = open_engine(url)
    found: list[tuple[str, str, str]] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                found = [tuple(row) for row in connection.execute(
                    select(ticket_status.c.system, ticket_status.c.status, ticket_status.c.decision_id)
                    .order_by(ticket_status.c.at_ms))]
            if len(found) >= expected:
                break
            time.sleep(0.2)
    finally:
        engine.dispose()
    return found


def test_ticket_statuses_are_recorded_and_redeliveries_replay(database: Database) -> None:
    with ledger_server("webhooks", database, **d.ENV) as server, server.client() as hooks:
        ticket = d.zendesk_late_delivery()
        ticket["ticket"]["status"] = "new"
        first = zendesk(hooks, ticket)
        ticket["ticket"]["status"] = "solved"  # the same ticket, later: the status is not part of the event
        later = zendesk(hooks, ticket)
        ticket["ticket"]["priority"] = "Urgent"  # the ticket changed: a new question
        changed = zendesk(hooks, ticket)
        found = statuses(database.url, 3)
    assert later["decision"] == first["decision"]
    assert changed["decision"]["decision_id"] != first["decision_id"]
    assert changed["event"]["failure"]["severity"] == 4
    assert found == [("zendesk", "new", first["decision_id"]), ("zendesk", "solved", first["decision_id"]),
                     ("zendesk", "solved", changed["decision_id"])]
