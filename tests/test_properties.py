"""Properties of every decision of the shipped ruleset, for generated valid events, through the real engine.

`make test` runs a modest number of examples; `make test-deep` many more
(RECOVERY_PROPERTY_EXAMPLES).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

import jsonschema
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import money
from service.authoring.invariants import events
from service.engine.loader import load_dir
from service.engine.registry import Snapshot
from service.models import FailureEvent
from service.recovery.decide import decide_bytes
from tests.support import ROOT, RULES

EXAMPLES = int(os.environ.get("RECOVERY_PROPERTY_EXAMPLES", "150"))
SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
DECISION = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/Decision", **SPEC})
V1_DECISION = jsonschema.Draft202012Validator(json.loads((ROOT / "tests" / "fixtures" / "v1-decision.schema.json")
                                                         .read_text()))
RULESET = load_dir(RULES)


def places(amount: str) -> int:
    return len(amount.split(".")[1]) if "." in amount else 0


def check_money(value: dict[str, Any] | None, currency: str | None) -> Decimal:
    if value is None:
        return Decimal(0)
    assert value["currency"] == currency
    assert places(value["amount"]) == money.minor_unit(currency)
    amount = Decimal(value["amount"])
    assert amount >= 0
    return amount


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(event=events(RULESET))
def test_every_decision_keeps_the_contract_and_the_limits(shipped: Snapshot, event: dict[str, Any]) -> None:
    raw = orjson.dumps(event)
    first = decide_bytes(shipped, FailureEvent.model_validate_json(raw))
    assert decide_bytes(shipped, FailureEvent.model_validate_json(raw)) == first  # same event, same bytes
    decision = orjson.loads(first)
    DECISION.validate(decision)

    V1_DECISION.validate(decision)  # a v1 client's schema still holds

    order = event.get("order", {}).get("amount")
    stake = event["failure"].get("amount_at_stake")
    ltv = event["customer"].get("lifetime_value")
    currency = order["currency"] if order else stake["currency"] if stake else ltv["currency"] if ltv else None
    for option in [decision] + decision["alternatives"]:
        check_option(option, order, stake, currency)
    for dimension in decision["justice"].values():
        assert dimension["addressed"] or dimension["reason"]
    approval = decision["approval"]
    assert approval["required"] == (approval["approver"] != "agent")
    assert approval["level"] == (approval["approver"] if approval["approver"] in ("agent", "supervisor", "manager")
                                 else "manager")
    assert sum(option["recommended"] for option in decision["alternatives"]) == (1 if decision["alternatives"] else 0)
    assert decision["messages"]["agent_note"].endswith(f"Decision {decision['decision_id']} "
                                                       f"(ruleset default {RULESET.meta.version}).") or \
        decision["messages"]["locale"] != "en"


def owed(option: dict[str, Any], pay_as: str, currency: str | None) -> Decimal:
    return sum((check_money(line["amount"], currency) for line in option["owed"] if line["pay_as"] == pay_as),
               Decimal(0))


def check_option(option: dict[str, Any], order: dict[str, str] | None, stake: dict[str, str] | None,
                 currency: str | None) -> None:
    """The mix of one option against the contract and the goodwill limits; owed money comes on top."""
    mix = option["mix"]
    refund = check_money(mix["refund"], currency)
    credit = check_money({k: v for k, v in mix["credit"].items() if k != "expires_in_days"}
                         if mix["credit"] else None, currency)
    cost = check_money(option["estimated_cost"], currency)
    if currency is None:
        assert option["estimated_cost"] is None and mix["refund"] is None and mix["credit"] is None
        return
    goodwill_refund = refund - owed(option, "refund", currency)
    goodwill_credit = credit - owed(option, "credit", currency)
    assert goodwill_refund >= 0 and goodwill_credit >= 0  # owed money is paid in full
    discount_use = cost - refund - credit  # v1: estimated_cost = refund + credit + the discount's expected use
    assert discount_use >= 0 and (discount_use == 0 or mix["discount"] is not None)
    replacement = mix.get("replacement") or {}
    value = check_money(replacement.get("value"), currency)
    limits = RULESET.limits
    if order is None and stake is None:
        assert goodwill_refund == 0  # without an order (or an amount at stake) the mix holds no goodwill refund
    else:
        price = Decimal(order["amount"])
        assert goodwill_refund <= price * limits.refund.max_percent_of_order / 100
        assert goodwill_credit <= price * limits.credit.max_percent_of_order / 100
        assert goodwill_refund + goodwill_credit + value <= price * limits.total.max_percent_of_order / 100
    assert goodwill_credit <= limits.credit.max[currency]
    if mix["discount"] is not None:
        assert 1 <= mix["discount"]["percent"] <= limits.discount.max_percent
    assert option["costs"]["owed"]["amount"] == money.fmt(owed(option, "refund", currency) + owed(option, "credit",
                                                                                                   currency)) or \
        Decimal(option["costs"]["owed"]["amount"]) == owed(option, "refund", currency) + owed(option, "credit", currency)


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(event=events(RULESET), key_order=st.randoms(use_true_random=False))
def test_key_order_and_number_form_do_not_change_the_decision(shipped: Snapshot, event: dict[str, Any],
                                                             key_order: Any) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            key_order.shuffle(items)
            return {key: shuffled(item) for key, item in items}
        return value

    reordered = shuffled(event)
    if "order" in reordered:  # the amount as a JSON number means the same money
        amount = reordered["order"]["amount"]
        amount["amount"] = float(amount["amount"]) if money.minor_unit(amount["currency"]) else int(
            Decimal(amount["amount"]))
    same = orjson.dumps(reordered)
    if b"e" in same.split(b'"amount":')[-1][:12]:
        return  # a float that prints in exponent form is not the same decimal text
    original = decide_bytes(shipped, FailureEvent.model_validate_json(orjson.dumps(event)))
    assert decide_bytes(shipped, FailureEvent.model_validate_json(same)) == original
