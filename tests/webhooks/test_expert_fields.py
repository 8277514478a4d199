"""What an expert decides on, read from tickets: the amount at stake, the customer's language and
the ruleset's declared facts, each from a mapping entry, through a real server."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.support import RULES, running_server
from tests.webhooks import deliveries as d
from tests.webhooks.conftest import API_KEY
from tests.webhooks.test_deliveries import decided, post_zendesk, problem


def overcharge() -> dict[str, Any]:
    ticket = d.zendesk_late_delivery()
    ticket["ticket"].update({"id": "48400", "subject": "Charged 64 instead of 60", "tags": "billing_error cause_us",
                             "priority": "Low",
                             "order_amount": "60.00", "order_currency": "EUR", "requester_locale": "lv",
                             "custom_fields": [{"id": 360012350, "value": "4.00"}]})
    return ticket


def test_the_amount_wrong_and_the_language_come_from_the_ticket(hooks: httpx.Client) -> None:
    reply = decided(post_zendesk(hooks, overcharge()))
    assert reply["event"]["failure"]["amount_at_stake"] == {"amount": "4.00", "currency": "EUR"}
    assert reply["event"]["context"]["locale"] == "lv"
    decision = reply["decision"]
    assert [line["amount"] for line in decision["owed"]] == [{"amount": "4.00", "currency": "EUR"}]
    assert decision["mix"]["refund"] == {"amount": "4.00", "currency": "EUR"}  # not the 60 euro bill
    assert decision["approval"]["required"] is False
    assert decision["messages"]["locale"] == "lv" and "rēķina kļūdu" in decision["messages"]["apology"]
    assert reply["mapped"]["failure.amount_at_stake.amount"].get("sent", True) is True


@pytest.fixture(scope="module")
def facts_hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server whose Zendesk mapping reads two of the ruleset's facts from custom fields, and names one
    the ruleset does not declare for a ticket form that carries it."""
    mappings = tmp_path_factory.mktemp("mappings") / "webhooks"
    shutil.copytree(RULES / "webhooks", mappings)
    zendesk = mappings / "zendesk.yaml"
    text = zendesk.read_text()
    anchor = "  context.locale:\n"
    assert anchor in text
    zendesk.write_text(text.replace(anchor, (
        "  facts.downtime_hours:\n    from: \"ticket.custom_fields[id=360020001].value\"\n"
        "  facts.sla_credit_percent:\n    from: \"ticket.custom_fields[id=360020002].value\"\n"
        "  facts.flight_distance_km:\n    from: \"ticket.custom_fields[id=360020003].value\"\n") + anchor, 1))
    env = {**d.ENV, "RECOVERY_WEBHOOK_MAPPINGS_DIR": str(mappings)}
    with running_server("webhook-facts", RULES, env=env, ready_path="/readyz") as server, server.client() as http:
        yield http


def outage(*fields: tuple[int, str]) -> dict[str, Any]:
    ticket = d.zendesk_late_delivery()
    ticket["ticket"].update({"id": "48500", "subject": "The app was down all weekend", "tags": "service_outage cause_us",
                             "order_amount": "100.00", "order_currency": "EUR",
                             "custom_fields": [{"id": number, "value": value} for number, value in fields]})
    return ticket


def test_declared_facts_come_from_custom_fields_typed_by_the_ruleset(facts_hooks: httpx.Client) -> None:
    reply = decided(post_zendesk(facts_hooks, outage((360020001, "72"), (360020002, "25"))))
    assert reply["event"]["facts"] == {"downtime_hours": "72", "sla_credit_percent": "25"}
    decision = reply["decision"]
    assert [(line["kind"], line["amount"]["amount"]) for line in decision["owed"]] == [("contractual", "25.00")]
    assert decision["mix"]["credit"]["amount"] == "30.00"  # the SLA credit owed plus the 5 euro fair floor


def test_a_fact_value_of_the_wrong_type_names_the_mapping_entry(facts_hooks: httpx.Client) -> None:
    body = problem(post_zendesk(facts_hooks, outage((360020001, "all weekend"))), 422)
    error = next(error for error in body["errors"] if error["loc"][:2] == ["facts", "downtime_hours"])
    assert "fields.facts.downtime_hours" in error["mapping"]


def test_a_fact_entry_the_ticket_leaves_empty_is_ignored(facts_hooks: httpx.Client) -> None:
    reply = decided(post_zendesk(facts_hooks, outage()))
    assert "facts" not in reply["event"] and reply["decision"]["owed"] == []


def test_a_fact_the_ruleset_does_not_declare_names_the_mapping_entry(facts_hooks: httpx.Client) -> None:
    body = problem(post_zendesk(facts_hooks, outage((360020003, "1840"))), 422)
    error = next(error for error in body["errors"] if error["loc"][:2] == ["facts", "flight_distance_km"])
    assert "declares no fact `flight_distance_km`" in error["msg"] and "downtime_hours" in error["msg"]
    assert "fields.facts.flight_distance_km" in error["mapping"]


def duplicate_charge(tags: str) -> dict[str, Any]:
    ticket = d.zendesk_late_delivery()
    ticket["ticket"].update({"id": "48600", "subject": "You charged me twice", "tags": tags, "priority": "Normal",
                             "order_amount": "60.00", "order_currency": "EUR"})
    return ticket


def test_what_the_agent_already_did_comes_from_the_tags(hooks: httpx.Client) -> None:
    """A refund the agent already issued (tag `recovery_refunded`) is not owed again; every listed
    tag counts, in the catalogue's order, whatever order the ticket has them in."""
    before = decided(post_zendesk(hooks, duplicate_charge("double_charge cause_us")))
    assert "already_done" not in before["event"]["context"] or before["event"]["context"]["already_done"] == []
    assert [line["amount"] for line in before["decision"]["owed"]] == [{"amount": "60.00", "currency": "EUR"}]

    after = decided(post_zendesk(hooks, duplicate_charge("recovery_refunded double_charge recovery_apologised "
                                                         "cause_us")))
    assert after["event"]["context"]["already_done"] == ["apologised", "refunded"]
    assert after["mapped"]["context.already_done"]["path"] == "ticket.tags"
    assert after["decision"]["owed"] == []
    assert after["decision"]["mix"]["refund"] is None
    # the same event posted to the decision route decides the same
    direct = hooks.post("/v1/decisions", json=after["event"], headers={"X-API-Key": API_KEY})
    assert direct.status_code == 200 and direct.json()["owed"] == after["decision"]["owed"]
