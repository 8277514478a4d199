"""`recovery mcp`: the same tools over stdio, driven by the official MCP client's stdio transport."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.agents.helpers import LATE, structured
from tests.conftest import API_KEY
from tests.support import OUTPUT, ROOT, RULES

KEYS = {"RECOVERY_API_KEYS": f"crm:{API_KEY}", "RECOVERY_LEDGER_URL": "off", "RECOVERY_RULES_DIR": str(RULES)}


def _params(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "service.cli", "mcp"], cwd=str(ROOT),
                                 env={**KEYS, **env})


def over_stdio(env: dict[str, str], work: Any) -> Any:
    OUTPUT.mkdir(exist_ok=True)

    async def main() -> Any:
        with (OUTPUT / "mcp-stdio.log").open("w") as errlog:
            from mcp.client.stdio import stdio_client

            async with Client(stdio_client(_params(env), errlog=errlog)) as client:
                return await work(client)

    return asyncio.run(main())


def test_lists_and_calls_every_tool_over_stdio() -> None:
    async def work(client: Client) -> Any:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        recommended = structured(await client.call_tool("recommend_recovery", {"event": LATE}))
        verdict = structured(await client.call_tool("check_offer", {"event": LATE, "offer": {
            "credit": {"amount": {"amount": "900.00", "currency": "EUR"}}}}))
        explained = structured(await client.call_tool("explain_decision", {"event": LATE}))
        policy = structured(await client.call_tool("describe_policy", {"failure_type": "late_delivery"}))
        bad = await client.call_tool("check_offer", {"event": LATE, "offer": {"refund": "all of it"}})
        unknown = await client.session.call_tool("refund_everything", {})
        return tools, recommended, verdict, explained, policy, bad, unknown

    tools, recommended, verdict, explained, policy, bad, unknown = over_stdio(
        {"RECOVERY_MCP_API_KEY": API_KEY}, work)
    assert set(tools) == {"recommend_recovery", "check_offer", "explain_decision", "describe_policy"}
    assert all(tool.annotations.read_only_hint for tool in tools.values())
    from service.engine.registry import load_snapshot
    from service.models import FailureEvent
    from service.recovery.decide import decide

    snapshot = load_snapshot(RULES)
    try:
        expected = decide(snapshot, FailureEvent.model_validate(LATE))
    finally:
        snapshot.engine.close()
    assert recommended["decision"]["mix"] == expected["mix"]
    assert recommended["decision"]["decision_id"] == expected["decision_id"]
    assert verdict["verdict"] == "deny" and verdict["reasons"][0]["code"] == "over-limit"
    assert verdict["reasons"][0]["rules"], "the rule that set the credit is named"
    assert explained["decision_id"] == expected["decision_id"]
    assert list(policy["failure_types"]) == ["late_delivery"]
    assert bad.is_error is True and "offer.refund" in bad.content[0].text
    assert unknown.is_error is True


@pytest.mark.parametrize("env, says", [
    ({}, "RECOVERY_MCP_API_KEY"),
    ({"RECOVERY_MCP_API_KEY": "wrong-key-0123456789"}, "not a valid API key"),
    ({"RECOVERY_MCP_API_KEY": API_KEY, "RECOVERY_RULES_DIR": "broken"}, "do not load"),
])
def test_refuses_to_start_without_a_valid_key_or_rules(env: dict[str, str], says: str, tmp_path: Path) -> None:
    if env.get("RECOVERY_RULES_DIR") == "broken":
        (tmp_path / "ruleset.yaml").write_text("ruleset: {name: broken}\nrules: [oops\n")
        env = {**env, "RECOVERY_RULES_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "service.cli", "mcp"], env={"PATH": "/usr/bin:/bin", **KEYS, **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert says in done.stderr and done.stdout == ""
    assert API_KEY not in done.stderr


def test_without_keys_configured_it_serves_anyone(tmp_path: Path) -> None:
    async def work(client: Client) -> Any:
        return structured(await client.call_tool("describe_policy", {}))

    policy = over_stdio({"RECOVERY_API_KEYS": ""}, work)
    assert "double_charge" in policy["failure_types"]
