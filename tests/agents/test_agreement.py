"""check_offer over MCP agrees with POST /v1/decisions on every generated event.

For each event of a generated sample (the simulator's sample, plus money failures with an
amount at stake, where money is owed): the verdict on the decision's own mix is allow or
needs_approval as the decision's approval says, the verdict on `agent_may_offer_now` is allow,
one minor unit more refund than the decision gives is a deny, and the verdict reports the
same decision id, mix and approval as the REST answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mcp import Client

from service import money
from service.authoring import samples
from tests.agents.helpers import over_http, structured
from tests.conftest import API_KEY
from tests.support import Server

COUNT = 40


def events() -> list[dict[str, Any]]:
    generated = list(samples.generate(COUNT, seed=16))
    for number, (kind, stake) in enumerate([("double_charge", "849.00"), ("billing_error", "12.50"),
                                            ("double_charge", "19.99")]):
        generated.append({"event_id": f"money-{number}", "failure": {
            "type": kind, "severity": 2, "root_cause": ["customer", "provider", "unknown"][number],
            "amount_at_stake": {"amount": stake, "currency": "USD"}},
            "order": {"amount": {"amount": stake, "currency": "USD"}}})
    return generated


def as_offer(mix: dict[str, Any]) -> dict[str, Any]:
    """A decision's mix (or agent_may_offer_now), written as check_offer's offer."""
    offer: dict[str, Any] = {}
    if mix.get("refund"):
        offer["refund"] = mix["refund"]
    if mix.get("credit"):
        credit = mix["credit"]
        offer["credit"] = {"amount": {"amount": credit["amount"], "currency": credit["currency"]},
                           "expires_in_days": credit["expires_in_days"]}
    if mix.get("discount"):
        offer["discount"] = mix["discount"]
    if mix.get("replacement"):
        offer["replacement"] = {"kind": mix["replacement"]["kind"]}
    if mix.get("apology"):
        offer["apology"] = mix["apology"]
    return offer


def test_check_offer_agrees_with_post_decisions(secured_server: Server) -> None:
    cases = events()
    with secured_server.client(headers={"X-API-Key": API_KEY}) as http:
        decisions = [http.post("/v1/decisions", json=event) for event in cases]
    assert all(response.status_code == 200 for response in decisions)
    rest = [response.json() for response in decisions]

    async def work(client: Client) -> list[tuple[dict[str, Any], ...]]:
        out = []
        for event, decision in zip(cases, rest):
            mix, now = decision["mix"], decision["approval"]["agent_may_offer_now"]
            on_mix = structured(await client.call_tool("check_offer", {"event": event, "offer": as_offer(mix)}))
            on_now = structured(await client.call_tool("check_offer", {"event": event, "offer": as_offer(now)}))
            over = None
            if mix["refund"]:
                currency = mix["refund"]["currency"]
                more = Decimal(mix["refund"]["amount"]) + money.quantum(currency)
                raised = {**mix, "refund": {"amount": money.fmt(more), "currency": currency}}
                over = structured(await client.call_tool("check_offer", {"event": event,
                                                                         "offer": as_offer(raised)}))
            out.append((on_mix, on_now, over))
        return out

    verdicts = over_http(secured_server.url, API_KEY, work)
    assert len(verdicts) == len(cases)
    disagreements = []
    for event, decision, (on_mix, on_now, over) in zip(cases, rest, verdicts):
        now = decision["approval"]["agent_may_offer_now"]
        beyond_now = as_offer(now) != {key: value for key, value in as_offer(decision["mix"]).items()
                                       if key != "apology"}
        expected = "needs_approval" if decision["approval"]["required"] and beyond_now else "allow"
        checks = {
            "same decision": on_mix["decision_id"] == decision["decision_id"],
            "largest allowed is the mix": on_mix["largest_allowed"] == decision["mix"],
            "allowed now is agent_may_offer_now": on_mix["allowed_now"] == now,
            "same approval": on_mix["approval"] == decision["approval"],
            "mix verdict": on_mix["verdict"] == expected,
            "offer-now verdict": on_now["verdict"] == "allow",
            "one unit more is denied": over is None or over["verdict"] == "deny",
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            disagreements.append((event.get("event_id"), failed, on_mix["verdict"], on_mix["reasons"]))
    assert disagreements == []
    assert {verdict[0]["verdict"] for verdict in verdicts} >= {"allow", "needs_approval"}
    assert sum(1 for _, _, over in verdicts if over is not None) >= COUNT // 3
