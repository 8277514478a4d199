"""Outcomes and reports against known data, on both databases, over real HTTP."""

from __future__ import annotations

import copy
import csv
import io
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx

from tests.ledger.conftest import Database, ledger_server
from tests.test_decisions_http import CONTRACT_EXAMPLE, problem


def make(event_id: str, customer: str | None, failure_type: str, severity: int, tier: str, amount: str,
         currency: str, channel: str, root_cause: str = "provider") -> dict[str, Any]:
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    body["event_id"] = event_id
    body["failure"] = {"type": failure_type, "severity": severity, "root_cause": root_cause}
    body["customer"] = {"tier": tier, **({"id": customer} if customer else {})}
    body["order"] = {"id": f"o-{event_id}", "amount": {"amount": amount, "currency": currency}}
    body["context"] = {"channel": channel, "minutes_since_report": 3}
    return body


EVENTS = [
    make("r-a1", "c-alice", "late_delivery", 3, "gold", "80.00", "EUR", "chat"),
    make("r-a2", "c-alice", "late_delivery", 4, "gold", "60.00", "EUR", "email"),
    make("r-b1", "c-bob", "double_charge", 4, "standard", "849.00", "USD", "phone"),
    make("r-c1", "c-carol", "rude_agent", 2, "silver", "30.00", "EUR", "chat"),
    make("r-d1", None, "wrong_item", 2, "standard", "25.00", "EUR", "web", root_cause="customer"),
]


def wait_for(http: httpx.Client, decisions: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = http.get("/v1/reports/summary").json()
        if body["decisions"] >= decisions:
            return body
        time.sleep(0.2)
    return body


def money_sum(decisions: list[dict[str, Any]], pick: Any) -> dict[str, str]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for decision in decisions:
        for currency, amount in pick(decision):
            totals[currency] += Decimal(amount)
    return {currency: f"{amount:.2f}" for currency, amount in sorted(totals.items())}


def cost(decision: dict[str, Any]) -> list[tuple[str, str]]:
    value = decision["estimated_cost"]
    return [(value["currency"], value["amount"])] if value else []


def owed(decision: dict[str, Any]) -> list[tuple[str, str]]:
    currency = (decision["estimated_cost"] or {}).get("currency")
    lines = [(line["amount"]["currency"], line["amount"]["amount"]) for line in decision.get("owed") or []]
    return lines + ([(currency, "0")] if currency else [])


def goodwill(decision: dict[str, Any]) -> list[tuple[str, str]]:
    mix = decision["mix"]
    paid = [(part["currency"], part["amount"]) for part in (mix["refund"], mix["credit"]) if part]
    currency = (decision["estimated_cost"] or {}).get("currency")
    minus = [(currency_, str(-Decimal(amount))) for currency_, amount in owed(decision)]
    return paid + minus + ([(currency, "0")] if currency else [])


def test_outcomes_and_reports_match_the_decisions_and_outcomes_sent(database: Database) -> None:
    with ledger_server("reports", database) as server, server.client() as http:
        decisions = []
        for body in EVENTS:
            decisions.append(http.post("/v1/decisions", json=body).json())
            time.sleep(0.01)  # distinct instants: the second late delivery comes after the first
        ids = {decision["event_id"]: decision["decision_id"] for decision in decisions}
        posted = [
            (ids["r-a1"], {"result": "accepted", "csat": 5, "source": "crm"}),
            (ids["r-a2"], {"result": "declined", "csat": 2}),
            (ids["r-a2"], {"result": "countered", "given": {"credit": {"amount": "20.00", "currency": "EUR"}},
                           "csat": 3, "repeat_contact": True, "source": "console"}),  # the latest counts
            (ids["r-b1"], {"result": "declined", "csat": 1, "churned": True, "source": "ticketing"}),
        ]
        for decision_id, outcome in posted:
            answer = http.post(f"/v1/decisions/{decision_id}/outcome", json=outcome)
            assert answer.status_code == 201, answer.text
            assert answer.json()["decision_id"] == decision_id and answer.json()["result"] == outcome["result"]
            assert answer.json()["recorded_at"].endswith("Z")
        summary = wait_for(http, len(EVENTS))
        by_type = http.get("/v1/reports/breakdown", params={"by": "failure_type"}).json()
        by_ruleset = http.get("/v1/reports/breakdown", params={"by": "ruleset"}).json()
        pareto = http.get("/v1/reports/pareto").json()
        summary_csv = http.get("/v1/reports/summary", headers={"Accept": "text/csv"})
        tier_csv = http.get("/v1/reports/breakdown", params={"by": "tier", "format": "csv"})
        later = http.get("/v1/reports/summary", params={"since": "2999-01-01"}).json()
        bad = http.get("/v1/reports/breakdown", params={"by": "colour"})

    approvals = sum(1 for decision in decisions if decision["approval"]["required"])
    assert summary["decisions"] == 5
    assert summary["approvals"] == approvals and summary["approval_rate"] == round(approvals / 5, 4)
    assert (summary["outcomes"], summary["accepted"], summary["declined"], summary["countered"]) == (3, 1, 1, 1)
    assert summary["acceptance_rate"] == round(1 / 3, 4)
    assert summary["csat_mean"] == 3.0 and summary["csat_responses"] == 3  # 5, 3 (latest for a2), 1
    assert summary["repeat_failures"] == 1 and summary["repeat_rate"] == 0.25  # a2 repeats a1; 4 with an id
    assert summary["repeat_contacts"] == 1 and summary["churned"] == 1
    assert summary["cost"] == money_sum(decisions, cost)
    assert summary["owed"] == money_sum(decisions, owed)
    assert summary["goodwill"] == money_sum(decisions, goodwill)
    assert set(summary["cost"]) == {"EUR", "USD"}  # never summed across currencies

    rows = {row["group"]["failure_type"]: row for row in by_type["rows"]}
    assert by_type["rows"][0]["group"] == {"failure_type": "late_delivery"}  # largest first
    assert rows["late_delivery"]["decisions"] == 2 and rows["late_delivery"]["repeat_failures"] == 1
    assert rows["late_delivery"]["acceptance_rate"] == 0.5
    assert rows["double_charge"]["cost"] == money_sum([decisions[2]], cost)
    assert rows["rude_agent"]["outcomes"] == 0 and rows["rude_agent"]["acceptance_rate"] is None
    ruleset = decisions[0]["ruleset"]
    assert [row["group"] for row in by_ruleset["rows"]] == [{"ruleset_name": ruleset["name"],
                                                             "ruleset_version": ruleset["version"]}]

    first = pareto["rows"][0]
    assert (first["root_cause"], first["failure_type"], first["decisions"]) == ("provider", "late_delivery", 2)
    assert first["share"] == 0.4 and first["cumulative_share"] == 0.4
    assert pareto["rows"][-1]["cumulative_share"] == 1.0
    assert sum(row["decisions"] for row in pareto["rows"]) == 5

    assert summary_csv.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(summary_csv.text)))
    assert parsed[0]["decisions"] == "5" and parsed[0]["cost_EUR"] == summary["cost"]["EUR"]
    tiers = {row["tier"]: row for row in csv.DictReader(io.StringIO(tier_csv.text))}
    assert tiers["gold"]["decisions"] == "2" and tiers["gold"]["accepted"] == "1"
    assert later["decisions"] == 0 and later["period"]["since"] == "2999-01-01T00:00:00Z"
    assert problem(bad, 422)["errors"][0]["loc"] == ["query", "by"]


def test_outcome_requests_that_cannot_be_recorded_say_why(database: Database) -> None:
    with ledger_server("outcome-errors", database) as server, server.client() as http:
        decision = http.post("/v1/decisions", json=EVENTS[0]).json()
        url = f"/v1/decisions/{decision['decision_id']}/outcome"
        wrong = http.post(url, json={"result": "accepted", "given": {"credit": {"amount": "5.00", "currency": "EUR"}}})
        assert problem(wrong, 422)["errors"][0]["loc"] == []
        assert "countered" in wrong.json()["detail"]
        assert problem(http.post(url, json={"result": "maybe"}), 422)["errors"][0]["loc"] == ["result"]
        assert problem(http.post(url, json={"result": "accepted", "csat": 6}), 422)["errors"][0]["loc"] == ["csat"]
        unknown = http.post("/v1/decisions/dec_" + "0" * 32 + "/outcome", json={"result": "accepted"})
        assert problem(unknown, 404)["code"] == "unknown-decision"
        malformed = http.post("/v1/decisions/not-an-id/outcome", json={"result": "accepted"})
        assert problem(malformed, 422)["errors"][0]["loc"] == ["path", "decision_id"]


def test_ledger_routes_say_when_the_ledger_is_off(client: httpx.Client) -> None:
    for response in (client.get("/v1/reports/summary"),
                     client.post("/v1/decisions/dec_" + "0" * 32 + "/outcome", json={"result": "accepted"})):
        assert problem(response, 404)["code"] == "ledger-off"
    assert client.get("/readyz").json()["ledger"] == {"status": "off"}
