"""Each system's realistic, authenticated delivery gets the recommendation the policy gives,
with an agent note; a redelivery gets the same decision; an unmappable ticket a 422."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support import Server
from tests.webhooks import deliveries as d
from tests.webhooks.conftest import API_KEY


def decided(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    reply = response.json()
    assert reply["decision_id"] == reply["decision"]["decision_id"]
    assert reply["decision_id"] in reply["note"]
    return reply


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def post_zendesk(hooks: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
    body = d.body_of(payload)
    return hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body))


def test_zendesk_trigger_late_delivery_gets_money_back_and_a_sincere_apology(hooks: httpx.Client) -> None:
    reply = decided(post_zendesk(hooks, d.zendesk_late_delivery()))
    assert reply["event_id"] == "zendesk:48213" and reply["ticket_id"] == "48213"
    assert reply["event"]["failure"] == {"type": "late_delivery", "severity": 3, "root_cause": "provider",
                                         "recurring": False,
                                         "description": "Parcel four days late, birthday present missed"}
    assert reply["event"]["customer"]["tier"] == "gold"
    mix = reply["decision"]["mix"]
    assert mix["refund"] == {"amount": "12.00", "currency": "EUR"}  # the parcel came: 15% back, not half
    assert mix["apology"]["level"] == "sincere"
    note = reply["note"]
    assert "Refund 12.00 EUR" in note and "sincere apology" in note
    assert "Respond within 10 minutes" in note and "Approval: not needed" in note  # gold: a faster answer


def test_zendesk_ticket_event_rude_agent_gets_an_apology_not_a_refund(hooks: httpx.Client) -> None:
    reply = decided(post_zendesk(hooks, d.zendesk_ticket_event_rude_agent()))
    assert reply["event_id"] == "zendesk:48377"
    assert reply["event"]["context"] == {"channel": "phone"}
    mix = reply["decision"]["mix"]
    assert mix["refund"] is None
    assert mix["apology"]["level"] in ("sincere", "personal")
    assert reply["decision"]["justice"]["interactional"]["addressed"] is True


def test_jira_damaged_item_gets_a_replacement_and_money(hooks: httpx.Client) -> None:
    body = d.body_of(d.jira_damaged_item())
    reply = decided(hooks.post("/v1/webhooks/jira", content=body, headers=d.jira_headers(body)))
    assert reply["event_id"] == "jira:CS-42"
    assert reply["event"]["order"] == {"id": "o-5521", "amount": {"amount": "59.90", "currency": "EUR"}}
    mix = reply["decision"]["mix"]
    assert mix["replacement"] == {"kind": "exchange", "value": {"amount": "59.90", "currency": "EUR"}}
    assert mix["refund"] is None  # an exchange OR the price back, never both
    options = {option["id"]: option for option in reply["decision"]["alternatives"]}
    assert options["refund"]["mix"]["refund"] == {"amount": "59.90", "currency": "EUR"}
    assert "Send a replacement" in reply["note"]


def test_jira_automation_rule_with_a_token_is_accepted(hooks: httpx.Client) -> None:
    payload = d.jira_damaged_item()
    del payload["webhookEvent"], payload["issue_event_type_name"]  # automation's "Issue data" body
    reply = decided(hooks.post("/v1/webhooks/jira", content=d.body_of(payload),
                               headers={**d.JSON, "X-Webhook-Token": d.JIRA_TOKEN}))
    assert reply["event_id"] == "jira:CS-42"


def test_freshdesk_double_charge_refunds_the_charge(hooks: httpx.Client) -> None:
    body = d.body_of(d.freshdesk_double_charge())
    reply = decided(hooks.post("/v1/webhooks/freshdesk", content=body,
                               headers={**d.JSON, "X-Webhook-Token": d.FRESHDESK_TOKEN}))
    assert reply["event"]["failure"]["type"] == "double_charge"
    decision = reply["decision"]
    assert [line["amount"] for line in decision["owed"]] == [{"amount": "45.00", "currency": "GBP"}]
    assert decision["mix"]["refund"]["amount"] in ("45.00", "53.50")  # owed, plus a cash token when severe
    assert f"Refund {decision['mix']['refund']['amount']} GBP" in reply["note"]


def test_freshdesk_with_basic_auth_is_accepted(hooks: httpx.Client) -> None:
    body = d.body_of(d.freshdesk_double_charge())
    decided(hooks.post("/v1/webhooks/freshdesk", content=body,
                       headers={**d.JSON, **d.basic(d.FRESHDESK_USER, d.FRESHDESK_PASSWORD)}))


def test_servicenow_repeated_outage_escalates(hooks: httpx.Client) -> None:
    body = d.body_of(d.servicenow_repeated_outage())
    reply = decided(hooks.post("/v1/webhooks/servicenow", content=body,
                               headers={**d.JSON, **d.basic(d.SERVICENOW_USER, d.SERVICENOW_PASSWORD)}))
    assert reply["event"]["failure"]["recurring"] is True
    decision = reply["decision"]
    assert decision["process_recovery"]["root_cause_review"] is True
    assert decision["approval"]["required"] is True
    assert decision["mix"]["refund"]["currency"] == "USD"
    assert "must approve before you offer this" in reply["note"]
    assert "root-cause review" in reply["note"]


def test_servicenow_with_a_token_is_accepted(hooks: httpx.Client) -> None:
    body = d.body_of(d.servicenow_repeated_outage())
    decided(hooks.post("/v1/webhooks/servicenow", content=body,
                       headers={**d.JSON, "X-Webhook-Token": d.SERVICENOW_TOKEN}))


def salesforce(hooks: httpx.Client, body: bytes, token: str = d.SALESFORCE_TOKEN) -> httpx.Response:
    return hooks.post("/v1/webhooks/salesforce", params={"token": token}, content=body, headers=d.XML)


def test_salesforce_message_is_acknowledged_with_one_decision_per_case(hooks: httpx.Client,
                                                                      webhook_server: Server) -> None:
    response = salesforce(hooks, d.salesforce_message(d.RUDE_AGENT_CASE, d.CUSTOMER_ERROR_CASE))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Ack>true</Ack>" in response.text and "notificationsResponse" in response.text
    ids = response.headers["x-recovery-decision-ids"].split(",")
    assert len(ids) == 2
    assert f"(case 00001026) decided: {ids[0]}" in webhook_server.logs()
    # The ack cannot carry the decisions: ask /v1/decisions for the events the cases map to.
    rude = {"event_id": "salesforce:00001026",
            "failure": {"type": "rude_agent", "severity": 2, "root_cause": "provider", "recurring": False,
                        "description": "Agent refused to help and was sarcastic"},
            "customer": {"id": "0035g00000XyZabAAB", "tier": "gold"}, "context": {"channel": "chat"}}
    own_fault = {"event_id": "salesforce:00001027",
                 "failure": {"type": "late_delivery", "severity": 1, "root_cause": "customer", "recurring": False,
                             "description": "Parcel late: customer gave an old address"},
                 "customer": {"id": "0035g00000XyZacAAB", "prior_recoveries_90d": 0},
                 "order": {"id": "o-8812", "amount": {"amount": "35.50", "currency": "EUR"}},
                 "context": {"channel": "email"}}
    decisions = [hooks.post("/v1/decisions", json=event, headers={"X-API-Key": API_KEY}).json()
                 for event in (rude, own_fault)]
    assert [decision["decision_id"] for decision in decisions] == ids
    assert decisions[0]["mix"]["refund"] is None and decisions[0]["mix"]["apology"]["level"] != "none"
    assert decisions[1]["mix"]["refund"] is None and decisions[1]["mix"]["credit"] is None
    assert decisions[1]["justice"]["distributive"]["addressed"] is False
    assert decisions[1]["mix"]["apology"]["explanation"] is True


# --------------------------------------------------------------------------- redelivery

def test_zendesk_redelivery_signed_later_gives_the_identical_body(hooks: httpx.Client) -> None:
    body = d.body_of(d.zendesk_late_delivery())
    first = hooks.post("/v1/webhooks/zendesk", content=body,
                       headers=d.zendesk_headers(body, timestamp=d.zendesk_timestamp(d.timedelta(seconds=-90))))
    again = hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body))
    assert decided(first)["decision_id"] == decided(again)["decision_id"]
    assert first.content == again.content


def test_jira_redelivery_with_a_new_envelope_gives_the_same_decision(hooks: httpx.Client) -> None:
    first_body = d.body_of(d.jira_damaged_item())
    # Same issue, later event time, another actor, compact JSON: only the envelope differs.
    retry = d.jira_damaged_item(timestamp=1772603999000, actor="70121:0f9d3c2a")
    retry["webhookEvent"], retry["issue_event_type_name"] = "jira:issue_updated", "issue_generic"
    retry_body = json.dumps(retry, separators=(",", ":")).encode()
    first = hooks.post("/v1/webhooks/jira", content=first_body, headers=d.jira_headers(first_body))
    again = hooks.post("/v1/webhooks/jira", content=retry_body,
                       headers=d.jira_headers(retry_body, identifier="e0f1a2b3-retry"))
    assert decided(first)["decision_id"] == decided(again)["decision_id"]
    assert first.content == again.content


@pytest.mark.parametrize("system, payload, headers", [
    ("freshdesk", d.freshdesk_double_charge(), {**d.JSON, "X-Webhook-Token": d.FRESHDESK_TOKEN}),
    ("servicenow", d.servicenow_repeated_outage(), {**d.JSON, "X-Webhook-Token": d.SERVICENOW_TOKEN}),
])
def test_redelivery_gives_the_identical_body(hooks: httpx.Client, system: str, payload: dict[str, Any],
                                             headers: dict[str, str]) -> None:
    responses = [hooks.post(f"/v1/webhooks/{system}", content=d.body_of(payload), headers=headers)
                 for _ in range(2)]
    assert decided(responses[0]) == decided(responses[1])
    assert responses[0].content == responses[1].content


def test_salesforce_redelivery_gives_the_same_decisions(hooks: httpx.Client) -> None:
    body = d.salesforce_message(d.RUDE_AGENT_CASE)
    first, again = salesforce(hooks, body), salesforce(hooks, body)
    assert first.status_code == again.status_code == 200
    assert first.headers["x-recovery-decision-ids"] == again.headers["x-recovery-decision-ids"]


def test_a_changed_ticket_gets_a_new_decision(hooks: httpx.Client) -> None:
    payload = d.zendesk_late_delivery()
    first = decided(post_zendesk(hooks, payload))
    payload["ticket"]["order_amount"] = "120.00"
    changed = decided(post_zendesk(hooks, payload))
    assert changed["event_id"] == first["event_id"]
    assert changed["decision_id"] != first["decision_id"]
    assert changed["decision"]["mix"]["refund"]["amount"] == "18.00"


# --------------------------------------------------------------------------- unmappable

def test_zendesk_ticket_without_a_failure_tag_is_422_naming_the_field(hooks: httpx.Client) -> None:
    payload = d.zendesk_late_delivery()
    payload["ticket"]["tags"] = "order_issue vip"
    body = problem(post_zendesk(hooks, payload), 422)
    assert body["code"] == "unmappable-ticket"
    assert [error["loc"] for error in body["errors"]] == [["failure", "type"]]
    error = body["errors"][0]
    assert error["mapping"].startswith("zendesk.yaml:") and "fields.failure.type" in error["mapping"]
    assert error["looked_at"][0] == {"path": "ticket.tags", "saw": "order_issue vip",
                                     "problem": "not listed under `values`"}
    assert "fields.failure.type.values" in error["msg"]


def test_every_problem_of_a_ticket_is_listed(hooks: httpx.Client) -> None:
    payload = d.jira_damaged_item()
    fields = payload["issue"]["fields"]
    fields["labels"], fields["customfield_10010"] = [], None
    fields["customfield_10050"] = "59,90"
    del payload["issue"]["key"], payload["issue"]["id"]
    body_bytes = d.body_of(payload)
    body = problem(hooks.post("/v1/webhooks/jira", content=body_bytes, headers=d.jira_headers(body_bytes)), 422)
    by_loc = {".".join(map(str, error["loc"])): error for error in body["errors"]}
    assert set(by_loc) == {"ticket_id", "failure.type", "order.amount.amount"}
    assert [look["path"] for look in by_loc["ticket_id"]["looked_at"]] == ["issue.key", "issue.id"]
    assert "59,90" in by_loc["order.amount.amount"]["looked_at"][0]["problem"]


def test_a_mapped_value_the_ruleset_does_not_know_is_422_with_the_mapping_entry(hooks: httpx.Client) -> None:
    payload = d.servicenow_repeated_outage()
    payload["incident"]["u_order_currency"] = "SEK"   # a real currency the ruleset has no rate for
    response = hooks.post("/v1/webhooks/servicenow", content=d.body_of(payload),
                          headers={**d.JSON, "X-Webhook-Token": d.SERVICENOW_TOKEN})
    body = problem(response, 422)
    assert body["errors"][0]["loc"] == ["order", "amount", "currency"]
    assert "fields.order.amount.currency" in body["errors"][0]["mapping"]
    assert body["errors"][0]["looked_at"] == [{"path": "incident.u_order_currency"}]


def test_salesforce_message_with_an_unmappable_case_is_not_acknowledged(hooks: httpx.Client) -> None:
    unknown = d.salesforce_case("5005g00000AbCdGAAV", "00001028", {"Subject": "?", "Failure_Type__c": "other"})
    response = salesforce(hooks, d.salesforce_message(d.RUDE_AGENT_CASE, unknown))
    body = problem(response, 422)
    assert "<Ack>" not in response.text
    assert body["errors"][0]["loc"] == ["Notification", 1, "failure", "type"]
    assert body["errors"][0]["looked_at"][0]["path"] == "sObject.Failure_Type__c"


# --------------------------------------------------------------------------- bad input

def test_unknown_system_is_404(hooks: httpx.Client) -> None:
    body = problem(hooks.post("/v1/webhooks/hubspot", json={}), 404)
    assert "zendesk" in body["detail"] and "salesforce" in body["detail"]


def test_malformed_json_is_400_and_wrong_media_type_415(hooks: httpx.Client) -> None:
    body = b'{"ticket": {"id": '
    assert problem(hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body)),
                   400)["code"] == "malformed-json"
    form = b"ticket_id=1"
    headers = {**d.zendesk_headers(form), "content-type": "application/x-www-form-urlencoded"}
    assert problem(hooks.post("/v1/webhooks/zendesk", content=form, headers=headers), 415)


def test_body_over_the_limit_is_413(hooks: httpx.Client) -> None:
    body = b'{"ticket": {"subject": "' + b"x" * (1024 * 1024 + 10) + b'"}}'
    assert problem(hooks.post("/v1/webhooks/zendesk", content=body, headers=d.zendesk_headers(body)), 413)
