"""The case tables beside the rules, run against the real server."""

from __future__ import annotations

import httpx
import pytest

from service.authoring.cases import Case, check, load_cases, run_case
from service.engine.registry import Snapshot
from tests.support import RULES

CASES, FINDINGS = load_cases(RULES / "cases")


def test_case_files_load_cleanly() -> None:
    assert FINDINGS == []
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.line}" for c in CASES])
def test_case(case: Case, client: httpx.Client) -> None:
    def over_http(event: object) -> tuple[int, dict]:
        response = client.post("/v1/decisions", json=event)
        return response.status_code, response.json()

    result = run_case(case, over_http)
    assert result.passed, f"{case.note}\n" + "\n".join(
        f"  {m.key}: expected {m.expected!r}, got {m.actual!r}" for m in result.mismatches)


def test_every_rule_is_fired_by_a_case(client: httpx.Client, shipped: Snapshot) -> None:
    fired: set[str] = set()
    for case in CASES:
        response = client.post("/v1/decisions", json=case.event)
        if response.status_code == 200:
            fired.update(rule["id"] for rule in response.json()["rules_fired"])
    never = [rule.id for rule in shipped.ruleset.rules if rule.id not in fired]
    assert never == []


def test_check_reports_a_wrong_expectation() -> None:
    decision = {"mix": {"refund": {"amount": "40.00", "currency": "EUR"}, "credit": None, "discount": None,
                        "apology": {"level": "sincere", "from": "agent", "explanation": True}},
                "estimated_cost": {"amount": "40.00", "currency": "EUR"},
                "justice": {"distributive": {"addressed": True}, "procedural": {"addressed": True,
                            "respond_within_minutes": 20, "follow_up_within_hours": 24},
                            "interactional": {"addressed": True}},
                "approval": {"level": "agent", "reasons": []}, "process_recovery": {"root_cause_review": False},
                "rules_fired": [{"id": "a"}], "limits_applied": []}
    mismatches = check({"refund": "41.00", "fired": ["b"], "justice": {"procedural": False}}, 200, decision)
    assert {m.key for m in mismatches} == {"refund", "fired", "justice.procedural"}
    assert check({"refund": "40.00", "fired": ["a"]}, 200, decision) == []
    assert check({"status": 422}, 200, decision)[0].key == "status"
