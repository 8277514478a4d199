"""WEBHOOK_DELIVERIES counts every delivery by system and a small fixed set of results.

No route serves /metrics yet, so this drives the real app in-process (ASGI) and reads
the counter from the service's Prometheus registry.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from service.api.webhooks import RESULTS
from service.app import create_app
from service.metrics import REGISTRY
from service.settings import Settings
from tests.webhooks import deliveries as d


def count(system: str, result: str) -> float:
    value = REGISTRY.get_sample_value("recovery_webhook_deliveries_total", {"system": system, "result": result})
    return value or 0.0


async def deliver(requests: list[tuple[str, bytes, dict[str, str]]]) -> list[int]:
    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            return [(await http.post(path, content=body, headers=headers)).status_code
                    for path, body, headers in requests]


def test_deliveries_are_counted_by_result(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in d.ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RECOVERY_RELOAD_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("RECOVERY_LEDGER_URL", "off")
    assert set(RESULTS) == {"decided", "ignored", "unauthorized", "unmappable", "invalid", "unavailable",
                            "writeback_failed"}
    good = d.body_of(d.zendesk_late_delivery())
    unmappable: dict[str, Any] = d.zendesk_late_delivery()
    unmappable["ticket"]["tags"], unmappable["ticket"]["subject"] = "vip", "Order o-77"
    bad = d.body_of(unmappable)
    before = {result: count("zendesk", result) for result in RESULTS}
    statuses = asyncio.run(deliver([
        ("/v1/webhooks/zendesk", good, d.zendesk_headers(good)),
        ("/v1/webhooks/zendesk", good, d.zendesk_headers(good)),
        ("/v1/webhooks/zendesk", good, d.JSON),
        ("/v1/webhooks/zendesk", bad, d.zendesk_headers(bad)),
        ("/v1/webhooks/zendesk", b"[1", d.zendesk_headers(b"[1")),
    ]))
    assert statuses == [200, 200, 401, 422, 400]
    after = {result: count("zendesk", result) - before[result] for result in RESULTS}
    assert after == {"decided": 2, "ignored": 0, "unauthorized": 1, "unmappable": 1, "invalid": 1, "unavailable": 0,
                     "writeback_failed": 0}
