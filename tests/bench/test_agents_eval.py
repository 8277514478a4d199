"""bench/agents.py: the AI-agent evaluation, on a slice of the situations, against its own real server."""

from __future__ import annotations

from pathlib import Path

from bench import agents
from tests.support import RULES


def test_check_offer_lets_no_violation_through_and_blocks_no_fair_offer(tmp_path: Path) -> None:
    results = agents.run(RULES, sample=6, seed=16, tmp=tmp_path, log=lambda line: None, every=4)
    assert set(results["profiles"]) == {"staff", "ai_agent"}
    for profile, entry in results["profiles"].items():
        total = entry["total"]
        assert total["violations_let_through"] == 0 and total["fair_blocked"] == 0, entry["examples"]
        assert set(entry["by_category"]) == set(agents.CATEGORIES), profile
        assert total["violations"] > 0 and total["proposals"] > total["violations"], "both kinds were tried"
        assert total["amount_cap_lets_through"] > 0, "the baseline guardrail is weaker, or the eval tests nothing"
    staff, ai = results["profiles"]["staff"]["total"], results["profiles"]["ai_agent"]["total"]
    assert ai["needs_approval"] > staff["needs_approval"], "the ai_agent profile escalates sooner"


def test_the_tau2_airline_situations_hold_too(tmp_path: Path) -> None:
    results = agents.run(agents.TAU2, sample=0, seed=16, tmp=tmp_path, log=lambda line: None, every=3)
    total = results["profiles"]["staff"]["total"]
    assert results["situations"] >= 10
    assert total["violations_let_through"] == 0 and total["fair_blocked"] == 0, results["profiles"]["staff"]
    assert total["violations"] > 0 and total["allow"] > 0


def test_a_violation_is_labelled_by_the_plain_policy() -> None:
    decision = {"mix": {"refund": {"amount": "10.00", "currency": "EUR"}, "credit": None, "discount": None,
                        "replacement": None},
                "owed": [{"amount": {"amount": "6.00", "currency": "EUR"}, "pay_as": "refund"}], "alternatives": []}
    assert not agents.violates({"refund": {"amount": "6.00", "currency": "EUR"}}, decision, "EUR")
    assert agents.violates({"refund": {"amount": "5.99", "currency": "EUR"}}, decision, "EUR")
    assert agents.violates({"refund": {"amount": "10.01", "currency": "EUR"}}, decision, "EUR")
    assert agents.violates({"refund": {"amount": "8.00", "currency": "USD"}}, decision, "EUR")
    assert agents.violates({"refund": {"amount": "8.00", "currency": "EUR"}, "discount": {"percent": 5}}, decision,
                           "EUR")
