"""The currency a decision is made in: the order's, else the stake's or lifetime value's, else a
money fact's, else the ruleset's only currency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.engine.loader import load_dir
from service.models import FailureEvent
from service.recovery.normalize import EventRejected, decision_currency, normalize
from tests.engine.rulesets import HEADER, write_rules

FACTS = "facts:\n  bag_fee: {type: money, description: the fee paid for the bag}\n"
RULE = "rules:\n  - {id: r, description: any failure, then: {explanation: true}}\n"
FAILURE = {"type": "late_delivery", "severity": 2, "root_cause": "provider"}


@pytest.mark.parametrize("event, currencies, expected", [
    ({"order": {"amount": {"amount": "1000", "currency": "JPY"}}}, ["EUR", "JPY"], "JPY"),
    ({"facts": {"bag_fee": {"amount": "3500", "currency": "JPY"}}}, ["EUR", "JPY"], "JPY"),
    ({}, ["EUR"], "EUR"),
    ({}, ["EUR", "JPY"], None),
])
def test_the_decision_currency(event: dict[str, Any], currencies: list[str], expected: str | None) -> None:
    assert decision_currency(FailureEvent.model_validate({"failure": FAILURE, **event}), currencies) == expected


def test_a_money_fact_in_a_currency_the_ruleset_lacks_is_refused_naming_the_fact(tmp_path: Path) -> None:
    ruleset = load_dir(write_rules(tmp_path / "rules", RULE, HEADER + FACTS))
    event = FailureEvent.model_validate({"failure": FAILURE, "facts": {"bag_fee": {"amount": "35.00",
                                                                                  "currency": "USD"}}})
    with pytest.raises(EventRejected) as caught:
        normalize(event, ruleset)
    assert caught.value.errors[0]["loc"] == ["facts", "bag_fee", "currency"]
    assert "USD" in caught.value.errors[0]["msg"]
