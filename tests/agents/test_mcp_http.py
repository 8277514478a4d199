"""The MCP endpoint at /mcp, driven by the official MCP client against the real uvicorn server with keys."""

from __future__ import annotations

import asyncio
import copy
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import pytest
from mcp import Client, MCPError

from service.agents.tools import TOOLS
from service.models import FailureEvent
from service.openapi import defaults_described
from tests.agents.helpers import DOUBLE_CHARGE, LATE, http_client, over_http, structured
from tests.conftest import API_KEY, SECURED_ENV
from tests.support import RULES, Server, running_server


def test_lists_the_four_tools_with_schemas_and_annotations(secured_server: Server) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in over_http(secured_server.url, API_KEY, work)}
    assert set(tools) == {"recommend_recovery", "check_offer", "explain_decision", "describe_policy"}
    for tool in tools.values():
        assert tool.input_schema["type"] == "object" and tool.input_schema["additionalProperties"] is False
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.annotations.read_only_hint is True and tool.annotations.idempotent_hint is True
        assert tool.annotations.destructive_hint is False
    assert tools["check_offer"].input_schema["required"] == ["event", "offer"]


def test_the_event_schema_is_the_openapi_one(secured_server: Server) -> None:
    """The tools' event argument is described by the same model as POST /v1/decisions' body."""
    openapi = httpx.get(secured_server.url + "/openapi.json").json()
    tool_defs = {"$defs": TOOLS["recommend_recovery"].arguments.model_json_schema(by_alias=True)["$defs"]}
    # the OpenAPI document says request defaults in words (for code generators); otherwise the same
    described = defaults_described(copy.deepcopy(tool_defs["$defs"]["FailureEvent"]))
    rendered = str(described).replace("#/$defs/", "#/components/schemas/")
    assert rendered == str(openapi["components"]["schemas"]["FailureEvent"])


def _call_each(client: Client) -> Any:
    async def go() -> dict[str, Any]:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        calls = {"recommend_recovery": {"event": LATE},
                 "check_offer": {"event": LATE, "offer": {"refund": {"amount": "500.00", "currency": "EUR"}}},
                 "explain_decision": {"event": {**LATE, "context": {"locale": "lv"}}},
                 "describe_policy": {}}
        out = {}
        for name, arguments in calls.items():
            result = await client.call_tool(name, arguments)
            out[name] = structured(result)
            jsonschema.validate(out[name], tools[name].output_schema)
            out[name + ".text"] = result.content[0].text
        return out
    return go()


def test_each_tool_answers_within_its_output_schema(secured_server: Server) -> None:
    out = over_http(secured_server.url, API_KEY, _call_each)
    with secured_server.client(headers={"X-API-Key": API_KEY}) as http:
        rest = http.post("/v1/decisions", json=LATE).json()
    assert out["recommend_recovery"]["decision"] == rest
    assert out["recommend_recovery"]["customer_message"].startswith("We are")
    verdict = out["check_offer"]
    assert verdict["verdict"] == "deny" and verdict["reasons"][0]["code"] == "over-limit"
    assert verdict["largest_allowed"] == rest["mix"] and verdict["decision_id"] == rest["decision_id"]
    assert "largest allowed" in out["check_offer.text"].lower()
    explained = out["explain_decision"]
    assert explained["locale"] == "lv" and {part["component"] for part in explained["parts"]} >= {"refund"}
    assert "outcome" not in explained["summary"] and "rule" not in " ".join(p["why"] for p in explained["parts"])
    policy = out["describe_policy"]
    assert "late_delivery" in policy["failure_types"] and policy["tiers"][0] == "standard"


OFFERS = [  # offer -> verdict, first reason code (LATE: refund 12.00, credit 5.00, discount 15%, no approval)
    ({"refund": {"amount": "12.00", "currency": "EUR"}}, "allow", "within-policy"),
    ({"refund": {"amount": "5.00", "currency": "EUR"}, "apology": {"level": "personal", "from": "manager"}},
     "allow", "within-policy"),
    ({"refund": {"amount": "12.01", "currency": "EUR"}}, "deny", "over-limit"),
    ({"refund": {"amount": "12.00", "currency": "USD"}}, "deny", "wrong-currency"),
    ({"discount": {"percent": 40}}, "deny", "over-limit"),
    ({"discount": {"percent": 15, "valid_days": 60}, "credit": {"amount": {"amount": "5.00", "currency": "EUR"},
                                                                "expires_in_days": 180}}, "allow", "within-policy"),
    ({"credit": {"amount": {"amount": "5.00", "currency": "EUR"}, "expires_in_days": 3650}}, "deny", "over-limit"),
    ({"discount": {"percent": 10, "valid_days": 365}}, "deny", "over-limit"),
    ({"replacement": {"kind": "exchange"}}, "deny", "not-in-policy"),
    ({}, "allow", "within-policy"),
]


@pytest.mark.parametrize("offer, verdict, code", OFFERS)
def test_check_offer_verdicts(secured_server: Server, offer: dict[str, Any], verdict: str, code: str) -> None:
    async def work(client: Client) -> Any:
        return structured(await client.call_tool("check_offer", {"event": LATE, "offer": offer}))

    out = over_http(secured_server.url, API_KEY, work)
    assert (out["verdict"], out["reasons"][0]["code"]) == (verdict, code)
    if verdict == "deny" and code == "over-limit":
        assert out["decided_by"], "a deny names the rule or limit that decided"


def test_an_offer_short_of_what_is_owed_is_denied(secured_server: Server) -> None:
    """The duplicate charge is owed back even though the customer caused it: a credit instead is a deny."""
    async def work(client: Client) -> Any:
        short = structured(await client.call_tool("check_offer", {"event": DOUBLE_CHARGE, "offer": {
            "credit": {"amount": {"amount": "49.00", "currency": "EUR"}}}}))
        full = structured(await client.call_tool("check_offer", {"event": DOUBLE_CHARGE, "offer": {
            "refund": {"amount": "49.00", "currency": "EUR"}}}))
        return short, full

    short, full = over_http(secured_server.url, API_KEY, work)
    assert [reason["code"] for reason in short["reasons"]] == ["below-owed", "not-in-policy"]
    below = next(reason for reason in short["reasons"] if reason["code"] == "below-owed")
    assert below["allowed"] == "49.00 EUR" and below["rules"]
    assert short["verdict"] == "deny" and full["verdict"] == "allow"


def test_no_key_is_refused(secured_server: Server) -> None:
    response = httpx.post(secured_server.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                          headers={"Accept": "application/json, text/event-stream"})
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    wrong = httpx.post(secured_server.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"X-API-Key": "wrong-key-0123456789"})
    assert wrong.status_code == 401

    async def work(client: Client) -> Any:
        return await client.list_tools()

    for key in (None, "wrong-key-0123456789"):
        with pytest.raises(BaseException) as refused:
            over_http(secured_server.url, key, work)
        assert any(isinstance(error, MCPError) for error in _leaves(refused.value)), refused.value


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


BAD_ARGUMENTS = [  # tool, arguments, a text the error names
    ("recommend_recovery", {}, "event"),
    ("recommend_recovery", {"event": {"failure": {"type": "late_delivery", "severity": "3",
                                                  "root_cause": "provider"}}}, "event.failure.severity"),
    ("recommend_recovery", {"event": {**LATE, "bonus": True}}, "event.bonus"),
    ("recommend_recovery", {"event": {**LATE, "customer": {"tier": "diamond"}}}, "customer.tier"),
    ("check_offer", {"event": LATE}, "offer"),
    ("check_offer", {"event": LATE, "offer": {"refund": {"amount": "-5", "currency": "EUR"}}}, "offer.refund.amount"),
    ("check_offer", {"event": LATE, "offer": {"refund": {"amount": "5.001", "currency": "EUR"}}}, "offer.refund"),
    ("check_offer", {"event": LATE, "offer": {"cash": "lots"}}, "offer.cash"),
    ("check_offer", {"event": LATE, "offer": "give them everything"}, "offer"),
    ("explain_decision", {"event": []}, "event"),
    ("describe_policy", {"failure_type": "NOT A SLUG"}, "failure_type"),
]


@pytest.mark.parametrize("name, arguments, names", BAD_ARGUMENTS)
def test_schema_invalid_arguments_are_tool_errors(secured_server: Server, name: str, arguments: dict[str, Any],
                                                  names: str) -> None:
    async def work(client: Client) -> Any:
        return await client.call_tool(name, arguments)

    result = over_http(secured_server.url, API_KEY, work)
    assert result.is_error is True
    assert names in result.content[0].text
    assert httpx.get(secured_server.url + "/livez").status_code == 200


def test_an_unknown_tool_is_an_error_not_a_crash(secured_server: Server) -> None:
    async def work(client: Client) -> Any:
        return await client.session.call_tool("send_certificate", {"user_id": "u1", "amount": 500})

    result = over_http(secured_server.url, API_KEY, work)
    assert result.is_error is True and "check_offer" in result.content[0].text


def test_concurrent_calls_get_the_same_answer(secured_server: Server) -> None:
    """Stateless: many clients at once, each gets the decision the event is owed."""
    async def one(index: int) -> dict[str, Any]:
        event = {**LATE, "event_id": f"c-{index}"}
        async with http_client(secured_server.url, API_KEY) as client:
            return structured(await client.call_tool("recommend_recovery", {"event": event}))

    async def many() -> list[dict[str, Any]]:
        return await asyncio.gather(*(one(index) for index in range(8)))

    results = asyncio.run(many())
    mixes = {str(result["decision"]["mix"]) for result in results}
    assert len(mixes) == 1 and [r["decision"]["event_id"] for r in results] == [f"c-{i}" for i in range(8)]
    FailureEvent.model_validate({**LATE})  # the event the tools took is a valid v1 event
    assert Decimal(results[0]["decision"]["mix"]["refund"]["amount"]) > 0


def test_clients_arriving_together_at_a_fresh_server_are_all_answered() -> None:
    """The SDK loads when the first request reaches /mcp: five clients that connect at once to a server
    that has not served MCP yet all get the tool list, and the endpoint is loaded once."""
    with running_server("mcp-fresh", RULES, env=SECURED_ENV, ready_path="/readyz") as live:
        async def main() -> list[list[str]]:
            async def one() -> list[str]:
                async with http_client(live.url, API_KEY) as client:
                    return sorted(tool.name for tool in (await client.list_tools()).tools)
            return await asyncio.gather(*(one() for _ in range(5)))

        answers = asyncio.run(main())
    assert answers == [sorted(TOOLS)] * 5
    assert live.log.read_text().count("MCP endpoint loaded") == 1
