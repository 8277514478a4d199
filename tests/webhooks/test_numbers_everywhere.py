"""Numbers and money read the same way on every route, fast, whatever their size (issue 14, points 1 and 5).

A number that would cost seconds to convert (`1e1000000`, 5,000 digits) is a fast
422 on the single and batch routes, a signed Zendesk ticket and a Salesforce
outbound message, and `/livez` on the same worker keeps answering. The same amount
gets the same answer on the single route, in a batch and in a ticket.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import httpx
import pytest

from tests.support import Server
from tests.test_decisions_http import CONTRACT_EXAMPLE
from tests.webhooks import deliveries as d
from tests.webhooks.conftest import API_KEY

KEY = {"X-API-Key": API_KEY, "content-type": "application/json"}
HUGE_INT = "1" + "0" * 5000


def _raw_event(amount_json: str) -> bytes:
    text = json.dumps(CONTRACT_EXAMPLE)
    return text.replace('"amount": "80.00"', f'"amount": {amount_json}').encode()


def _single(http: httpx.Client, amount_json: str) -> int:
    return http.post("/v1/decisions", content=_raw_event(amount_json), headers=KEY).status_code


def _batch(http: httpx.Client, amount_json: str) -> int:
    body = b'{"events": [' + _raw_event(amount_json) + b"]}"
    response = http.post("/v1/decisions:batch", content=body, headers=KEY)
    assert response.status_code == 200, response.text
    return int(response.json()["results"][0]["status"])


def _zendesk(http: httpx.Client, field: str, value_json: str) -> httpx.Response:
    ticket = d.zendesk_late_delivery()
    ticket["ticket"][field] = "__VALUE__"
    body = json.dumps(ticket, indent=2).replace('"__VALUE__"', value_json).encode()
    return http.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body))


# (the amount as written in the JSON body, accepted?)
AMOUNTS = [
    ('"80.00"', True), ("80", True), ("80.0", True), ("8e1", True), ('"8e1"', True),
    ("79.9999999999999999999999999", False), ('"79.9999999999999999999999999"', False),
    ("1e-400", False), ('"1e-400"', False), ("1e1000000", False), ('"1e1000000"', False),
    (HUGE_INT, False), ('"8_0.00"', False), ('"+80.00"', False), ('"-0.00"', False), ("-0.0", False),
    ('"\\u0668\\u0660.\\u0660\\u0660"', False), ('"80."', False), ('"0x50"', False), ('"Infinity"', False),
]


@pytest.mark.parametrize("amount, accepted", AMOUNTS, ids=[amount[:24] for amount, _ in AMOUNTS])
def test_an_amount_gets_the_same_answer_on_every_route(hooks: httpx.Client, amount: str, accepted: bool) -> None:
    statuses = {"single": _single(hooks, amount), "batch": _batch(hooks, amount),
                "webhook": _zendesk(hooks, "order_amount", amount).status_code}
    assert statuses == dict.fromkeys(statuses, 200 if accepted else 422), statuses


HUGE_COUNTS = ['"1e1000000"', "1e1000000", '"1e300000"', HUGE_INT, '"' + HUGE_INT + '"']


@pytest.mark.parametrize("value", HUGE_COUNTS, ids=[value[:12] for value in HUGE_COUNTS])
def test_a_huge_count_in_a_signed_ticket_is_a_fast_422_and_the_worker_stays_live(
        webhook_server: Server, hooks: httpx.Client, value: str) -> None:
    answers: list[int] = []
    probe = threading.Thread(target=lambda: answers.append(httpx.get(webhook_server.url + "/livez",
                                                                      timeout=10).status_code))
    response = None

    def deliver() -> None:
        nonlocal response
        response = _zendesk(hooks, "prior_recoveries_90d", value)

    sender = threading.Thread(target=deliver)
    sender.start()
    probe.start()
    sender.join(60)
    probe.join(60)
    assert response is not None and response.status_code == 422, response and response.text[:300]
    body = response.json()
    assert body["code"] == "unmappable-ticket"
    assert any(error["loc"] == ["customer", "prior_recoveries_90d"] for error in body["errors"])
    assert answers == [200]


def test_a_huge_number_in_a_salesforce_message_is_a_422(hooks: httpx.Client) -> None:
    case = d.CUSTOMER_ERROR_CASE.replace("<sf:Prior_Recoveries_90d__c>0.0</sf:Prior_Recoveries_90d__c>",
                                         "<sf:Prior_Recoveries_90d__c>1e300000</sf:Prior_Recoveries_90d__c>")
    assert case != d.CUSTOMER_ERROR_CASE
    response = hooks.post(f"/v1/webhooks/salesforce?token={d.SALESFORCE_TOKEN}",
                          content=d.salesforce_message(case), headers=d.XML)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["code"] == "unmappable-ticket"


def test_duplicate_keys_are_refused_on_every_json_route(hooks: httpx.Client) -> None:
    event = b'{"failure": {"type": "late_delivery", "severity": 3, "severity": 5, "root_cause": "provider"}}'
    single = hooks.post("/v1/decisions", content=event, headers=KEY)
    batch = hooks.post("/v1/decisions:batch", content=b'{"events": [' + event + b"]}", headers=KEY)
    ticket = json.dumps(d.zendesk_late_delivery()).replace('"priority": "High"',
                                                           '"priority": "High", "priority": "Low"').encode()
    webhook = hooks.post("/v1/webhooks/zendesk", content=ticket, headers=d.zendesk_headers(ticket))
    for response in (single, batch, webhook):
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "duplicate-key"


def test_a_single_event_and_the_same_event_in_a_batch_decide_the_same(hooks: httpx.Client) -> None:
    event: dict[str, Any] = copy.deepcopy(CONTRACT_EXAMPLE)
    event["order"]["amount"]["amount"] = "79.99"
    single = hooks.post("/v1/decisions", json=event, headers={"X-API-Key": API_KEY}).json()
    batch = hooks.post("/v1/decisions:batch", json={"events": [event]}, headers={"X-API-Key": API_KEY}).json()
    assert batch["results"][0]["decision"] == single
