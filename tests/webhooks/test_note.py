"""The agent note reads the decision as it is today and with the fields the decision model is growing
(`owed`, `alternatives`, `approval.agent_may_offer_now`, `messages`), read when present."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from service.models import FailureEvent
from service.webhooks.note import agent_note
from service.webhooks.writeback import SALESFORCE_COMMENT_CHARS, _fit, as_html
from tests.webhooks.conftest import API_KEY

EVENT = {"event_id": "zendesk:1", "failure": {"type": "double_charge", "severity": 3, "root_cause": "customer"},
         "customer": {"tier": "standard"}, "order": {"id": "o-1", "amount": {"amount": "849.00", "currency": "USD"}}}


def decision(hooks: httpx.Client) -> dict[str, Any]:
    response = hooks.post("/v1/decisions", json=EVENT, headers={"X-API-Key": API_KEY})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_note_of_a_decision_without_the_new_fields(hooks: httpx.Client) -> None:
    live = decision(hooks)  # a decision as v1 shaped it: none of the second round's fields
    today = {key: value for key, value in live.items()
             if key not in ("owed", "alternatives", "messages", "not_assessed", "costs")}
    today["approval"] = {key: value for key, value in live["approval"].items()
                         if key in ("required", "level", "reasons")}
    note = agent_note("zendesk", "1", FailureEvent.model_validate(EVENT), today)
    assert note.startswith("Service recovery for zendesk ticket 1: double charge, severity 3, caused by the customer.")
    assert "Owed" not in note and "Say:" not in note
    assert note.endswith("a redelivery of this ticket gives the same decision id.")


def test_owed_lines_alternatives_messages_and_what_may_be_offered_now(hooks: httpx.Client) -> None:
    grown = copy.deepcopy(decision(hooks))
    grown["owed"] = [{"kind": "restitution", "amount": {"amount": "849.00", "currency": "USD"},
                      "basis": "the duplicate charge is returned", "rule": "money-owed-back"}]
    grown["alternatives"] = [{"id": "refund", "mix": {"refund": {"amount": "849.00", "currency": "USD"}}},
                             {"id": "replace", "mix": {"replacement": {"kind": "exchange"}}}]
    grown["approval"] = {"required": True, "level": "supervisor", "reasons": ["above the frontline boundary"],
                         "agent_may_offer_now": {"refund": {"amount": "849.00", "currency": "USD"}, "credit": None}}
    grown["messages"] = {"locale": "en", "apology": "I am sorry we charged you twice.",
                         "explanation": "Your bank processed the payment twice.", "agent_note": "Refund today."}
    note = agent_note("zendesk", "1", FailureEvent.model_validate(EVENT), grown, ["Check the order."]).split("\n")
    assert "Owed whatever the policy (included above, pay in full):" in note
    assert "- Money taken in error: 849.00 USD (the duplicate charge is returned)" in note
    assert "- refund: Refund 849.00 USD" in note and "- replace: Send a replacement" in note
    assert "Say: I am sorry we charged you twice." in note
    assert "Explain: Your bank processed the payment twice." in note and "Note: Refund today." in note
    assert ("Approval: a supervisor must approve before you offer this (above the frontline boundary); you may "
            "offer now: refund 849.00 USD.") in note
    assert note[-2] == "Check: Check the order."


def test_a_long_note_keeps_its_decision_id_within_salesforce_limit() -> None:
    note = "\n".join(["Offer:"] + ["- a line of offer text"] * 400 + ["Decision dec_0123 (ruleset default 1)"])
    fitted = _fit(note, SALESFORCE_COMMENT_CHARS)
    assert len(fitted) <= SALESFORCE_COMMENT_CHARS and fitted.endswith("Decision dec_0123 (ruleset default 1)")
    assert as_html("a < b\nc & d") == "<p>a &lt; b</p><p>c &amp; d</p>"
