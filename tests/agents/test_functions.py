"""`recovery tools --format openai|anthropic`: strict function schemas that the real server accepts calls from."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Iterator

import jsonschema
import pytest
from mcp import Client

from service.agents.functions import DROPPED
from tests.agents.helpers import LATE, over_http, structured
from tests.conftest import API_KEY
from tests.support import ROOT, Server

OUTAGE = {"failure": {"type": "service_outage", "severity": 3, "root_cause": "provider"},
          "order": {"amount": {"amount": "720.00", "currency": "EUR"}},
          "facts": {"downtime_hours": 36, "billing_period_hours": 720}}


def printed(target: str) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "service.cli", "tools", "--format", target], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def openai() -> dict[str, dict[str, Any]]:
    return {tool["function"]["name"]: tool["function"] for tool in printed("openai")}


@pytest.fixture(scope="module")
def anthropic() -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in printed("anthropic")}


def objects(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document, with where it is."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from objects(item, f"{path}[{index}]")
    elif isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, child in value.items():
                    yield from objects(child, f"{path}.{name}")
            else:
                yield from objects(value, f"{path}/{key}")


@pytest.mark.parametrize("target", ["openai", "anthropic"])
def test_every_tool_is_strict_in_each_format(target: str, openai: dict[str, Any], anthropic: dict[str, Any]) -> None:
    tools = openai if target == "openai" else anthropic
    assert set(tools) == {"recommend_recovery", "check_offer", "explain_decision", "describe_policy"}
    for name, tool in tools.items():
        assert tool["strict"] is True and tool["description"]
        schema = tool["parameters"] if target == "openai" else tool["input_schema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        for where, node in objects(schema):
            if node.get("type") == "object":
                assert node["additionalProperties"] is False, f"{name}{where} is open"
                if target == "openai":
                    assert sorted(node["required"]) == sorted(node["properties"]), f"{name}{where}"
            assert not set(node) & DROPPED[target], f"{name}{where} keeps {set(node) & DROPPED[target]}"


def test_facts_are_named_by_the_ruleset(openai: dict[str, Any]) -> None:
    facts = openai["recommend_recovery"]["parameters"]["$defs"]["FailureEvent"]["properties"]["facts"]
    declared = facts["anyOf"][0]["properties"]
    assert {"downtime_hours", "billing_period_hours"} <= set(declared)
    assert declared["downtime_hours"]["anyOf"][0]["type"] == "number"
    assert "unavailable" in declared["downtime_hours"]["description"]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    return schema


def as_a_strict_model_writes_it(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """`value` with every property it leaves out written as null, as OpenAI's strict mode makes a model do."""
    schema = _resolve(schema, root)
    if not isinstance(value, dict):
        return value
    branch = next((_resolve(option, root) for option in schema.get("anyOf", [schema])
                   if _resolve(option, root).get("type") == "object"), schema)
    return {name: as_a_strict_model_writes_it(value[name], child, root) if name in value else None
            for name, child in branch["properties"].items()}


@pytest.mark.parametrize("event", [LATE, OUTAGE], ids=["late", "outage-with-facts"])
def test_a_strict_openai_call_gets_the_decision_of_the_plain_event(secured_server: Server, event: dict[str, Any],
                                                                   openai: dict[str, Any]) -> None:
    schema = openai["check_offer"]["parameters"]
    offer = {"refund": {"amount": "5.00", "currency": "EUR"}}
    written = as_a_strict_model_writes_it({"event": event, "offer": offer}, schema, schema)
    assert written["event"]["context"] is None and written["offer"]["credit"] is None
    assert written["event"]["customer"] is None or written["event"]["customer"]["id"] is None
    jsonschema.validate(written, schema)

    async def work(client: Client) -> Any:
        plain = structured(await client.call_tool("check_offer", {"event": event, "offer": offer}))
        strict = structured(await client.call_tool("check_offer", written))
        return plain, strict

    plain, strict = over_http(secured_server.url, API_KEY, work)
    assert strict == plain and strict["verdict"] in ("allow", "needs_approval")


def test_plain_arguments_fit_the_anthropic_schema(anthropic: dict[str, Any]) -> None:
    jsonschema.validate({"event": OUTAGE, "offer": {"credit": {"amount": {"amount": "1.00", "currency": "EUR"}}}},
                        anthropic["check_offer"]["input_schema"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"event": {**LATE, "bonus": 1}, "offer": {}}, anthropic["check_offer"]["input_schema"])


def test_the_readme_agent_loop_executor_works(secured_server: Server) -> None:
    """README.md's `call_recovery_tool` runs, as written, against the real server."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("# call_recovery_tool:")
    code = readme[start:readme.index("# end call_recovery_tool", start)]
    from tests.conftest import AI_AGENT_KEY

    namespace: dict[str, Any] = {}
    exec("import json, httpx\n" + f"RECOVERY = {secured_server.url + '/mcp'!r}\nKEY = {AI_AGENT_KEY!r}\n" + code,
         namespace)
    verdict = namespace["call_recovery_tool"]("check_offer", {"event": LATE, "offer": {
        "refund": {"amount": "50.00", "currency": "EUR"}, "credit": None}})
    assert verdict["verdict"] == "deny" and verdict["profile"] == "ai_agent"
    error = namespace["call_recovery_tool"]("recommend_recovery", {"event": {"failure": {"type": "late_delivery"}}})
    assert "event.failure.severity" in error["error"]
