"""Combining contributions and applying limits, on small rulesets decided in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.engine.registry import load_snapshot
from service.models import FailureEvent
from service.recovery.decide import decide
from tests.engine.rulesets import HEADER, write_rules


def decision(tmp_path: Path, rules: str, event: dict[str, Any], header: str = HEADER) -> dict[str, Any]:
    snapshot = load_snapshot(write_rules(tmp_path / "rules", rules, header))
    try:
        return decide(snapshot, FailureEvent.model_validate(event))
    finally:
        snapshot.engine.close()


EVENT = {"failure": {"type": "late_delivery", "severity": 3, "root_cause": "provider"},
         "order": {"amount": {"amount": "100.00", "currency": "EUR"}}}

TWO_CREDITS = """rules:
  - id: c1
    description: a credit of a tenth of the order
    then: {credit: {percent_of_order: 10, expires_in_days: 30}}
  - id: c2
    description: a fixed credit of twenty euros
    then: {credit: {amount: {EUR: "20.00", JPY: "3000"}, expires_in_days: 90}}
"""


def test_largest_credit_wins_with_its_expiry(tmp_path: Path) -> None:
    body = decision(tmp_path, TWO_CREDITS, EVENT)
    assert body["mix"]["credit"] == {"amount": "20.00", "currency": "EUR", "expires_in_days": 90}


def test_sum_adds_credits_and_keeps_the_longest_expiry(tmp_path: Path) -> None:
    header = HEADER + "combine: {credit: sum}\n"
    body = decision(tmp_path, TWO_CREDITS, EVENT, header)
    assert body["mix"]["credit"] == {"amount": "30.00", "currency": "EUR", "expires_in_days": 90}


def test_total_cap_trims_credit_before_refund(tmp_path: Path) -> None:
    rules = """rules:
  - id: big
    description: the whole price back and a large credit
    then:
      refund: {percent_of_order: 100}
      credit: {percent_of_order: 80}
"""
    body = decision(tmp_path, rules, EVENT)
    assert body["mix"]["refund"]["amount"] == "100.00"
    assert body["mix"]["credit"]["amount"] == "50.00"
    assert body["limits_applied"] == [{"limit": "total.max_percent_of_order", "component": "credit",
                                       "before": "80.00", "after": "50.00", "currency": "EUR"}]


def test_discount_cap_and_expected_value(tmp_path: Path) -> None:
    header = HEADER.replace("limits:\n", "limits:\n  discount: {max_percent: 20}\n") + \
        "costing: {discount_expected_use_percent: 50}\n"
    rules = """rules:
  - id: d
    description: a generous discount on the next order
    then: {discount: {percent: 40, valid_days: 30}}
"""
    body = decision(tmp_path, rules, EVENT, header)
    assert body["mix"]["discount"] == {"percent": 20, "valid_days": 30}
    assert body["estimated_cost"] == {"amount": "10.00", "currency": "EUR"}
    assert body["limits_applied"][0]["limit"] == "discount.max_percent"


def test_amounts_round_down_to_the_minor_unit(tmp_path: Path) -> None:
    rules = """rules:
  - id: third
    description: a third of the price back
    then: {refund: {percent_of_order: 33.33}}
"""
    body = decision(tmp_path, rules, {**EVENT, "order": {"amount": {"amount": "10.00", "currency": "EUR"}}})
    assert body["mix"]["refund"]["amount"] == "3.33"
    yen = decision(tmp_path / "y", rules, {**EVENT, "order": {"amount": {"amount": "1001", "currency": "JPY"}}})
    assert yen["mix"]["refund"] == {"amount": "333", "currency": "JPY"}


def test_money_back_only_pays_credit_as_refund_and_drops_discount(tmp_path: Path) -> None:
    rules = """rules:
  - id: goodwill
    description: a credit and a discount
    then:
      credit: {percent_of_order: 10}
      discount: {percent: 10}
  - id: cash
    description: money failures are paid as money
    then:
      refund: {percent_of_order: 50}
      money_back_only: true
"""
    body = decision(tmp_path, rules, EVENT)
    assert body["mix"]["refund"]["amount"] == "60.00"
    assert body["mix"]["credit"] is None and body["mix"]["discount"] is None
    assert [entry["component"] for entry in body["limits_applied"]] == ["credit", "discount"]


def test_without_order_no_refund_and_fixed_amounts_use_the_lifetime_value_currency(tmp_path: Path) -> None:
    rules = TWO_CREDITS + """  - id: r
    description: half the price back
    then: {refund: {percent_of_order: 50}}
"""
    event = {"failure": EVENT["failure"], "customer": {"lifetime_value": {"amount": "900", "currency": "JPY"}}}
    body = decision(tmp_path, rules, event)
    assert body["mix"]["refund"] is None
    assert body["mix"]["credit"] == {"amount": "3000", "currency": "JPY", "expires_in_days": 90}


@pytest.mark.parametrize("prior, level", [(0, "agent"), (2, "supervisor"), (5, "manager")])
def test_approval_by_prior_recoveries(tmp_path: Path, prior: int, level: str) -> None:
    header = HEADER.replace("limits:\n", """limits:
  approval:
    by_prior_recoveries:
      - {level: supervisor, at_least: 2}
      - {level: manager, at_least: 5}
""")
    rules = """rules:
  - id: sorry
    description: an apology for everything
    then: {apology: {level: standard}}
"""
    event = {**EVENT, "customer": {"prior_recoveries_90d": prior}}
    body = decision(tmp_path, rules, event, header)
    assert body["approval"]["level"] == level
    assert body["approval"]["required"] is (level != "agent")


def test_unaddressed_dimensions_carry_reasons(tmp_path: Path) -> None:
    rules = """rules:
  - id: nothing-much
    description: only a follow-up is set by this rule
    then: {follow_up_within_hours: 24}
"""
    body = decision(tmp_path, rules, EVENT)
    justice = body["justice"]
    assert justice["distributive"]["addressed"] is False and justice["distributive"]["reason"]
    assert justice["procedural"]["addressed"] is False and justice["procedural"]["reason"]
    assert justice["interactional"]["addressed"] is False and justice["interactional"]["reason"]
    assert body["mix"]["apology"] == {"level": "none", "from": "agent", "explanation": False}
