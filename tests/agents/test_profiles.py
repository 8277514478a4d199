"""Caller profiles: the key picks the profile; an AI agent's key gets the ruleset's stricter ai_agent limits."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.agents.helpers import DOUBLE_CHARGE, over_http, structured
from tests.agents.test_agreement import as_offer
from tests.conftest import AI_AGENT_KEY, API_KEY
from tests.support import Server

BIG_LATE = {"failure": {"type": "late_delivery", "severity": 3, "root_cause": "provider"},
            "customer": {"tier": "gold"}, "order": {"amount": {"amount": "200.00", "currency": "EUR"}}}
DAMAGED = {"failure": {"type": "damaged_item", "severity": 3, "root_cause": "provider"},
           "order": {"amount": {"amount": "60.00", "currency": "EUR"}}, "context": {"customer_request": "replacement"}}


def decided(server: Server, key: str, event: dict[str, Any]) -> dict[str, Any]:
    with server.client(headers={"X-API-Key": key}) as http:
        response = http.post("/v1/decisions", json=event)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("event, reason", [
    (BIG_LATE, "above the ai_agent profile's frontline of 25.00 EUR"),
    (DAMAGED, "the ai_agent profile never grants replacement itself"),
])
def test_an_ai_agent_key_gets_the_stricter_profile(secured_server: Server, event: dict[str, Any],
                                                   reason: str) -> None:
    staff, agent = decided(secured_server, API_KEY, event), decided(secured_server, AI_AGENT_KEY, event)
    assert "profile" not in staff and staff["approval"]["required"] is False
    assert agent["profile"] == {"name": "ai_agent", "declared": True}
    assert agent["mix"] == staff["mix"] and agent["owed"] == staff["owed"], "the customer gets the same"
    assert agent["approval"]["required"] is True and agent["approval"]["level"] == "supervisor"
    assert any(reason in text for text in agent["approval"]["reasons"])
    assert agent["decision_id"] != staff["decision_id"]
    assert decided(secured_server, AI_AGENT_KEY, event) == agent, "same key, same event: same bytes"
    if event is DAMAGED:
        assert staff["approval"]["agent_may_offer_now"]["replacement"] is not None
        assert agent["approval"]["agent_may_offer_now"]["replacement"] is None


def test_owed_money_is_always_offered_now_whatever_the_profile(secured_server: Server) -> None:
    agent = decided(secured_server, AI_AGENT_KEY, {**DOUBLE_CHARGE, "failure": {
        **DOUBLE_CHARGE["failure"], "amount_at_stake": {"amount": "849.00", "currency": "EUR"}},
        "order": {"amount": {"amount": "849.00", "currency": "EUR"}}})
    assert agent["approval"]["agent_may_offer_now"]["refund"] == {"amount": "849.00", "currency": "EUR"}


def test_check_offer_follows_the_callers_profile(secured_server: Server) -> None:
    staff = decided(secured_server, API_KEY, BIG_LATE)

    async def work(client: Client) -> Any:
        return structured(await client.call_tool("check_offer", {"event": BIG_LATE, "offer": as_offer(staff["mix"])}))

    as_staff = over_http(secured_server.url, API_KEY, work)
    as_agent = over_http(secured_server.url, AI_AGENT_KEY, work)
    assert (as_staff["verdict"], as_staff["profile"]) == ("allow", "default")
    assert (as_agent["verdict"], as_agent["profile"]) == ("needs_approval", "ai_agent")
    assert "profiles.ai_agent" in as_agent["decided_by"]
    assert as_agent["decision_id"] == decided(secured_server, AI_AGENT_KEY, BIG_LATE)["decision_id"]

    async def policy(client: Client) -> Any:
        return structured(await client.call_tool("describe_policy", {}))

    described = over_http(secured_server.url, AI_AGENT_KEY, policy)
    assert described["your_profile"] == "ai_agent"
    assert described["profiles"]["ai_agent"]["never_grant"] == ["replacement"]
