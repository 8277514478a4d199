"""POST /v1/decisions and friends over real HTTP, as docs/contract.md describes them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ROOT

CONTRACT_EXAMPLE: dict[str, Any] = {
    "event_id": "crm-48213",
    "failure": {"type": "late_delivery", "category": "outcome", "severity": 3, "root_cause": "provider",
                "recurring": False, "description": "parcel 4 days late"},
    "customer": {"id": "c-1009", "tier": "gold", "lifetime_value": {"amount": "1840.00", "currency": "EUR"},
                 "prior_recoveries_90d": 0},
    "order": {"id": "o-77", "amount": {"amount": "80.00", "currency": "EUR"}},
    "context": {"channel": "chat", "minutes_since_report": 5, "customer_request": "refund"},
}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def test_contract_example_has_every_contract_field(client: httpx.Client) -> None:
    response = client.post("/v1/decisions", json=CONTRACT_EXAMPLE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["decision_id"].startswith("dec_")
    assert body["event_id"] == "crm-48213"
    assert set(body["ruleset"]) == {"name", "version", "digest"}
    assert body["ruleset"]["digest"].startswith("sha256:")
    mix = body["mix"]
    # The parcel arrived (value received): 15% back, and the customer asked for a refund, so the
    # fair-floor credit is paid as money too and no voucher-like discount comes with it.
    assert mix["refund"] == {"amount": "17.00", "currency": "EUR"}
    assert mix["credit"] is None and mix["discount"] is None
    assert mix["apology"] == {"level": "sincere", "from": "agent", "explanation": True}
    assert body["estimated_cost"] == {"amount": "17.00", "currency": "EUR"}
    justice = body["justice"]
    assert justice["distributive"] == {"addressed": True, "by": ["refund"]}
    assert justice["procedural"] == {"addressed": True, "respond_within_minutes": 10, "follow_up_within_hours": 24}
    assert justice["interactional"] == {"addressed": True, "by": ["apology", "explanation"]}
    approval = body["approval"]
    assert {key: approval[key] for key in ("required", "level", "reasons")} == {
        "required": False, "level": "agent", "reasons": []}
    assert approval["agent_may_offer_now"]["refund"] == {"amount": "17.00", "currency": "EUR"}
    assert body["process_recovery"] == {"root_cause_review": False}
    assert all(set(rule) == {"id", "description"} for rule in body["rules_fired"])
    assert "outcome-value-full" in [rule["id"] for rule in body["rules_fired"]]
    assert body["owed"] == [] and body["alternatives"] == [] and body["not_assessed"] == []
    assert body["messages"]["locale"] == "en" and "late delivery" in body["messages"]["apology"]


def test_same_event_gives_the_same_bytes(client: httpx.Client) -> None:
    first = client.post("/v1/decisions", json=CONTRACT_EXAMPLE).content
    second = client.post("/v1/decisions", content=json.dumps(CONTRACT_EXAMPLE, indent=3),
                         headers={"content-type": "application/json"}).content
    assert first == second


def test_decision_id_follows_the_event(client: httpx.Client) -> None:
    other = json.loads(json.dumps(CONTRACT_EXAMPLE))
    other["order"]["amount"]["amount"] = "81.00"
    first = client.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()["decision_id"]
    second = client.post("/v1/decisions", json=other).json()["decision_id"]
    assert first != second


def test_amount_as_json_number_is_the_same_event(client: httpx.Client) -> None:
    as_number = json.loads(json.dumps(CONTRACT_EXAMPLE))
    as_number["order"]["amount"]["amount"] = 80
    assert client.post("/v1/decisions", json=as_number).content == \
        client.post("/v1/decisions", json=CONTRACT_EXAMPLE).content


def test_customer_caused_failure_says_why_no_money(client: httpx.Client) -> None:
    event = {"failure": {"type": "wrong_item", "severity": 3, "root_cause": "customer"},
             "order": {"amount": {"amount": "80.00", "currency": "EUR"}}}
    body = client.post("/v1/decisions", json=event).json()
    assert body["mix"]["refund"] is None and body["mix"]["credit"] is None
    assert body["justice"]["distributive"]["addressed"] is False
    assert "customer caused" in body["justice"]["distributive"]["reason"]


@pytest.mark.parametrize("edit, loc", [
    (lambda e: e["failure"].update(severity=7), ["failure", "severity"]),
    (lambda e: e["failure"].update(severity="3"), ["failure", "severity"]),
    (lambda e: e["failure"].pop("root_cause"), ["failure", "root_cause"]),
    (lambda e: e["failure"].update(root_cause="martians"), ["failure", "root_cause"]),
    (lambda e: e["failure"].update(sevrity=3), ["failure", "sevrity"]),
    (lambda e: e.update(extra=True), ["extra"]),
    (lambda e: e["order"]["amount"].update(amount="-1.00"), ["order", "amount", "amount"]),
    (lambda e: e["order"]["amount"].update(currency="EURO"), ["order", "amount", "currency"]),
    (lambda e: e["order"]["amount"].update(currency="XYZ"), ["order", "amount"]),
    (lambda e: e["customer"].update(prior_recoveries_90d=-1), ["customer", "prior_recoveries_90d"]),
    (lambda e: e["context"].update(customer_request="cash"), ["context", "customer_request"]),
    (lambda e: e.update(event_id="x" * 129), ["event_id"]),
])
def test_invalid_event_is_a_422_naming_the_field(client: httpx.Client, edit: Any, loc: list[Any]) -> None:
    event = json.loads(json.dumps(CONTRACT_EXAMPLE))
    edit(event)
    body = problem(client.post("/v1/decisions", json=event), 422)
    assert loc in [error["loc"] for error in body["errors"]]
    assert all(error["msg"] for error in body["errors"])


def test_unknown_tier_names_the_known_tiers(client: httpx.Client) -> None:
    event = json.loads(json.dumps(CONTRACT_EXAMPLE))
    event["customer"]["tier"] = "diamond"
    body = problem(client.post("/v1/decisions", json=event), 422)
    assert body["errors"][0]["loc"] == ["customer", "tier"]
    assert "platinum" in body["errors"][0]["msg"]


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff\xfe", b"[1, 2", b"{\"failure\": }"])
def test_malformed_json_is_a_400(client: httpx.Client, raw: bytes) -> None:
    problem(client.post("/v1/decisions", content=raw, headers={"content-type": "application/json"}), 400)


@pytest.mark.parametrize("body", [b"[]", b"42", b"null", b"\"event\""])
def test_json_that_is_not_an_object_is_a_422(client: httpx.Client, body: bytes) -> None:
    problem(client.post("/v1/decisions", content=body, headers={"content-type": "application/json"}), 422)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "application/json; charset=latin-1"])
def test_wrong_content_type_is_a_415(client: httpx.Client, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/decisions", content=json.dumps(CONTRACT_EXAMPLE).encode(), headers=headers)
    problem(response, 415)


def test_json_with_charset_and_problem_types_are_accepted(client: httpx.Client) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.crm+json"):
        response = client.post("/v1/decisions", content=json.dumps(CONTRACT_EXAMPLE).encode(),
                               headers={"content-type": content_type})
        assert response.status_code == 200


def test_body_over_one_mebibyte_is_a_413(client: httpx.Client) -> None:
    event = json.loads(json.dumps(CONTRACT_EXAMPLE))
    event["failure"]["description"] = "x" * (1024 * 1024)
    problem(client.post("/v1/decisions", json=event), 413)


def test_chunked_body_over_the_limit_is_a_413(client: httpx.Client) -> None:
    def chunks():  # no Content-Length: the server counts what arrives
        yield b'{"event_id": "'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}'

    problem(client.post("/v1/decisions", content=chunks(), headers={"content-type": "application/json"}), 413)


def test_unknown_route_and_wrong_method_are_problems(client: httpx.Client) -> None:
    problem(client.get("/v1/nothing"), 404)
    problem(client.get("/v1/decisions"), 405)


def test_batch_answers_each_event_in_order(client: httpx.Client) -> None:
    bad = json.loads(json.dumps(CONTRACT_EXAMPLE))
    bad["failure"]["severity"] = 0
    unknown_type = {"failure": {"type": "alien_abduction", "severity": 2, "root_cause": "provider"}}
    response = client.post("/v1/decisions:batch", json={"events": [CONTRACT_EXAMPLE, bad, unknown_type,
                                                                   CONTRACT_EXAMPLE]})
    assert response.status_code == 200
    body = response.json()
    assert [item["status"] for item in body["results"]] == [200, 422, 422, 200]
    assert [item["index"] for item in body["results"]] == [0, 1, 2, 3]
    assert body["decided"] == 2 and body["rejected"] == 2
    assert body["results"][1]["problem"]["errors"][0]["loc"] == ["failure", "severity"]
    assert body["results"][2]["problem"]["errors"][0]["loc"] == ["failure", "category"]
    single = client.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()
    assert body["results"][0]["decision"] == single


def test_batch_with_json_numbers_matches_single_decisions(client: httpx.Client) -> None:
    event = json.loads(json.dumps(CONTRACT_EXAMPLE))
    event["order"]["amount"]["amount"] = 80.1
    single = client.post("/v1/decisions", json=event).json()
    batch = client.post("/v1/decisions:batch", json={"events": [event]}).json()
    assert batch["results"][0]["decision"] == single


def test_batch_limits(client: httpx.Client) -> None:
    problem(client.post("/v1/decisions:batch", json={"events": []}), 422)
    problem(client.post("/v1/decisions:batch", json={"events": [CONTRACT_EXAMPLE] * 1001}), 422)
    problem(client.post("/v1/decisions:batch", json={"items": [CONTRACT_EXAMPLE]}), 422)
    problem(client.post("/v1/decisions:batch", content=b"{\"events\": [NaN]}",
                        headers={"content-type": "application/json"}), 400)
    full = client.post("/v1/decisions:batch", json={"events": [CONTRACT_EXAMPLE] * 1000})
    assert full.status_code == 200 and full.json()["decided"] == 1000


def test_ruleset_route_lists_rules_and_catalogues(client: httpx.Client) -> None:
    body = client.get("/v1/ruleset").json()
    assert body["name"] == "default"
    assert body["digest"].startswith("sha256:")
    assert body["loaded_at"]
    ids = [rule["id"] for rule in body["rules"]]
    assert "outcome-value-full" in ids and len(ids) == len(set(ids))
    assert all(rule["description"] for rule in body["rules"])
    assert body["catalogues"]["tiers"] == ["standard", "silver", "gold", "platinum"]
    assert body["catalogues"]["failure_types"]["double_charge"]["category"] == "outcome"


def test_probes(client: httpx.Client) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert client.get("/healthz").json()["ruleset"] == ready.json()["ruleset"]


def test_explain_lists_why_rules_did_not_match(client: httpx.Client) -> None:
    body = client.post("/v1/decisions?explain=true", json=CONTRACT_EXAMPLE).json()
    rules = {rule["id"]: rule for rule in body["explain"]["rules"]}
    assert rules["outcome-value-full"]["matched"] is True
    failed = rules["outcome-value-partial"]["failed"]
    assert failed["field"] == "failure.value_received" and failed["saw"] == "full"
    refund = body["explain"]["components"]["refund"]
    assert refund["set_by"] == ["outcome-value-full", "customer-asks-for-money-back"]
    assert refund["combined"] == "12.00" and refund["goodwill"] == "17.00" and refund["owed"] == "0.00"
    assert body["explain"]["order_of_operations"][0] == "owed lines"
    plain = client.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()
    assert {k: v for k, v in body.items() if k != "explain"} == plain
    problem(client.post("/v1/decisions?explain=maybe", json=CONTRACT_EXAMPLE), 422)


def test_explain_says_which_limit_clipped_a_component(client: httpx.Client) -> None:
    event = {"failure": {"type": "late_delivery", "severity": 4, "root_cause": "provider", "value_received": "none"},
             "customer": {"tier": "platinum"}, "order": {"amount": {"amount": "20.00", "currency": "EUR"}}}
    body = client.post("/v1/decisions?explain=true", json=event).json()
    credit = body["explain"]["components"]["credit"]
    assert credit["set_by"] == ["fair-floor-credit", "tier-platinum-personal"]
    assert credit["added_by"] == [{"rule": "tier-platinum-personal", "amount": "10.00"}]
    assert credit["combined"] == "5.00" and credit["after_add"] == "15.00" and credit["goodwill"] == "10.00"
    assert credit["clipped_by"] == ["total.max_percent_of_order"]
    assert body["explain"]["components"]["refund"]["set_by"] == ["outcome-value-none"]
    assert body["explain"]["components"]["refund"]["clipped_by"] == []
    rules = {rule["id"]: rule for rule in body["explain"]["rules"]}
    assert rules["customer-caused-explain"]["failed"] == {
        "condition": "failure.root_cause == customer", "line": rules["customer-caused-explain"]["failed"]["line"],
        "field": "failure.root_cause", "saw": "provider"}


EXPERT_EVENTS = [
    {"event_id": "overcharge", "failure": {"type": "billing_error", "severity": 2, "root_cause": "customer",
                                           "amount_at_stake": {"amount": "4.00", "currency": "EUR"}},
     "order": {"amount": {"amount": "60.00", "currency": "EUR"}}, "context": {"locale": "id"}},
    {"event_id": "bike", "failure": {"type": "damaged_item", "severity": 4, "root_cause": "provider"},
     "order": {"amount": {"amount": "5000.00", "currency": "EUR"}},
     "context": {"customer_request": "refund", "already_done": ["apologised"], "locale": "zh-CN"}},
    {"event_id": "outage", "failure": {"type": "service_outage", "severity": 3, "root_cause": "provider"},
     "order": {"amount": {"amount": "100.00", "currency": "CHF"}},
     "facts": {"downtime_hours": 72, "sla_credit_percent": 25}},
]


def test_the_new_fields_decide_the_same_on_single_batch_and_cli(client: httpx.Client, tmp_path: Path) -> None:
    singles = [client.post("/v1/decisions", json=event) for event in EXPERT_EVENTS]
    assert all(response.status_code == 200 for response in singles)
    batch = client.post("/v1/decisions:batch", json={"events": EXPERT_EVENTS}).json()["results"]
    assert [item["decision"] for item in batch] == [response.json() for response in singles]
    for event, response in zip(EXPERT_EVENTS, singles):
        path = tmp_path / f"{event['event_id']}.json"
        path.write_text(json.dumps(event))
        cli = subprocess.run([sys.executable, "-m", "service.cli", "decide", str(path)], capture_output=True,
                             cwd=ROOT, timeout=60)
        assert cli.stdout.rstrip(b"\n") == response.content
    overcharge, bike, outage = (response.json() for response in singles)
    assert overcharge["owed"][0]["amount"] == {"amount": "4.00", "currency": "EUR"}
    assert overcharge["messages"]["locale"] == "id"
    assert [option["id"] for option in bike["alternatives"]] == ["replace", "refund"]
    assert bike["mix"]["replacement"] is None and bike["mix"]["refund"]["amount"] == "5000.00"
    assert outage["owed"][0]["kind"] == "contractual" and outage["mix"]["credit"]["currency"] == "CHF"


def test_a_fact_that_is_not_declared_is_a_422_naming_the_declared_ones(client: httpx.Client) -> None:
    body = problem(client.post("/v1/decisions", json={**EXPERT_EVENTS[2], "facts": {"flight_distance_km": 1840}}),
                   422)
    assert body["errors"][0]["loc"] == ["facts", "flight_distance_km"]
    assert "downtime_hours" in body["errors"][0]["msg"] and "sla_credit_percent" in body["errors"][0]["msg"]
    body = problem(client.post("/v1/decisions", json={**EXPERT_EVENTS[2], "facts": {"downtime_hours": True}}), 422)
    assert body["errors"][0]["loc"] == ["facts", "downtime_hours"]


@pytest.mark.parametrize("raw", ["1e1000000", "1" + "0" * 5000, "-1e1000000", '"1e1000000"'],
                         ids=["exponent", "5000-digits", "negative-exponent", "exponent-as-text"])
def test_a_huge_fact_is_a_422_naming_it_not_a_stall(client: httpx.Client, raw: str) -> None:
    """A fact is range-checked before any conversion whose cost grows with its size."""
    event = json.dumps({**EXPERT_EVENTS[2], "facts": {"downtime_hours": 0, "sla_credit_percent": 25}})
    body = event.replace('"downtime_hours": 0', f'"downtime_hours": {raw}').encode()
    response = client.post("/v1/decisions", content=body, headers={"content-type": "application/json"})
    assert problem(response, 422)["errors"][0]["loc"] == ["facts", "downtime_hours"]
    assert client.get("/livez").status_code == 200
