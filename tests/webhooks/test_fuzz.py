"""Correctly signed deliveries with arbitrary ticket contents: a decision or a clear 4xx, never a 500.

Schemathesis (tests/test_schemathesis.py) cannot sign, so it sees the webhooks' 401s;
this drives the mapping and decision path itself with hypothesis-generated tickets.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webhooks import deliveries as d

EXAMPLES = int(os.environ.get("RECOVERY_WEBHOOK_FUZZ_EXAMPLES", "60"))
TAGS = ["late_delivery", "damaged_item", "rude_agent", "double_charge", "cause_us", "cause_customer", "severity_5",
        "repeat_failure", "tier_gold", "wants_refund", "vip"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.decimals(allow_nan=False, allow_infinity=False, places=3), st.text(max_size=30),
                    st.sampled_from(TAGS + ["High", "urgent", "EUR", "GBP", "12,50", "80.00", "-3", "gold", "2.0"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(["id", "value", "name", "x"]), inner, max_size=3),
                      max_leaves=12)
tag_strings = st.lists(st.sampled_from(TAGS), max_size=4).map(" ".join)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if abs(value) < 10**12 else str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def tickets(keys: list[str], tag_key: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({tag_key: st.one_of(tag_strings, values)},
                                 optional={key: values for key in keys}).map(_plain)


def check(response: httpx.Response) -> None:
    assert response.status_code in (200, 400, 422), response.text
    if response.status_code == 200:
        assert response.json()["decision_id"].startswith("dec_")
    else:
        assert response.headers["content-type"] == "application/problem+json"


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(ticket=tickets(["id", "subject", "priority", "via", "customer_tier", "order_amount", "order_currency",
                       "prior_recoveries_90d", "requester_id"], "tags"))
def test_zendesk(hooks: httpx.Client, ticket: dict[str, Any]) -> None:
    ticket.setdefault("id", "1")
    body = json.dumps({"ticket": ticket}).encode()
    check(hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body)))


@FUZZ
@given(fields=tickets(["summary", "priority", "customfield_10050", "customfield_10051", "customfield_10052",
                       "customfield_10054", "reporter"], "labels"))
def test_jira(hooks: httpx.Client, fields: dict[str, Any]) -> None:
    body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": "CS-1", "fields": fields}}).encode()
    check(hooks.post("/v1/webhooks/jira", content=body, headers=d.jira_headers(body)))


@FUZZ
@given(incident=tickets(["number", "u_failure_type", "priority", "u_root_cause", "u_recurring", "u_order_amount",
                         "u_order_currency", "u_customer_tier", "contact_type"], "category"))
def test_servicenow(hooks: httpx.Client, incident: dict[str, Any]) -> None:
    body = json.dumps({"incident": incident}).encode()
    check(hooks.post("/v1/webhooks/servicenow", content=body,
                     headers={**d.JSON, "X-Webhook-Token": d.SERVICENOW_TOKEN}))


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["Failure_Type__c", "Priority", "Severity__c", "Root_Cause__c",
                                               "Recurring__c", "Order_Amount__c", "CurrencyIsoCode", "Subject"]),
                              st.one_of(st.sampled_from(TAGS + ["provider", "High", "3", "true", "12.345"]),
                                        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                                                max_size=20)),
                              max_size=8))
def test_salesforce(hooks: httpx.Client, fields: dict[str, str]) -> None:
    case = d.salesforce_case("5005g00000AbCdHAAV", "00001099", {name: escape(value) for name, value in fields.items()})
    response = hooks.post("/v1/webhooks/salesforce", params={"token": d.SALESFORCE_TOKEN},
                          content=d.salesforce_message(case), headers=d.XML)
    assert response.status_code in (200, 422), response.text
    assert ("<Ack>true</Ack>" in response.text) == (response.status_code == 200)


def test_lone_surrogates_are_refused_not_crashed(hooks: httpx.Client) -> None:
    body = b'{"ticket": {"id": "1", "tags": "late_delivery", "subject": "broken \\ud800 text"}}'
    response = hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body))
    assert response.status_code == 400 and response.json()["code"] == "malformed-json"
    paired = b'{"ticket": {"id": "1", "tags": "late_delivery", "subject": "parcel \\ud83d\\udce6 late"}}'
    ok = hooks.post("/v1/webhooks/zendesk", content=paired, headers=d.zendesk_headers(paired))
    assert ok.status_code == 200 and ok.json()["event"]["failure"]["description"] == "parcel \U0001F4E6 late"


@FUZZ
@given(item=tickets(["id", "title", "priority", "source", "custom_attributes", "contacts"], "tags"),
       topic=st.sampled_from(["conversation.user.created", "conversation.user.replied", "ping"]))
def test_intercom(hooks: httpx.Client, item: dict[str, Any], topic: str) -> None:
    item.setdefault("id", "1")
    item["type"] = "conversation"
    body = json.dumps({"type": "notification_event", "topic": topic, "id": None,
                       "data": {"type": "notification_event_data", "item": item}}).encode()
    response = hooks.post("/v1/webhooks/intercom", content=body, headers=d.intercom_headers(body))
    if topic == "ping":   # answered whatever the item; any other topic with a conversation is decided
        assert response.json()["ignored"] is True
        return
    check(response)
