"""From the rules that matched to one recommendation: combine, limit, approve, justify.

Every matching rule contributes (rules are taken in ruleset order, which breaks
ties: the earlier rule wins). How contributions combine is declared in the
ruleset's `combine` section; the defaults, and the only choices, are:

| component               | combine                                   |
|-------------------------|-------------------------------------------|
| refund, credit          | largest (default) or sum                  |
| discount                | largest percent (its validity comes with it) |
| replacement             | the first rule's                          |
| apology level, from     | highest of each                           |
| explanation             | any rule asks for it                      |
| respond within, follow up | shortest                                |
| approval level          | highest (rules, amount and history boundaries) |
| root-cause review       | any rule asks for it                      |
| money back only         | any: credit is paid as refund; no discount once money goes back |

Then the limits apply in this order: the refund cap, the credit caps, the discount
cap, and the total cap (refund + credit as a share of the order; credit is trimmed
before refund, since cash is the fairer form above 100%, Noone 2012). Each clip is
reported in `limits_applied`. Amounts are computed exactly and rounded down to the
currency's minor unit once, at the end (`money.round_down`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import money
from ..engine.loader import RuleDef, RulesetDef
from ..engine.schema import MoneySpec
from .normalize import Flat

HUNDRED = Decimal(100)
APOLOGY_RANK = {"none": 0, "standard": 1, "sincere": 2, "personal": 3}
LEVEL_RANK = {"agent": 0, "supervisor": 1, "manager": 2}

DEFAULT_REASONS = {
    "distributive": "no matching rule recommends compensation for this failure",
    "procedural": "no matching rule sets a response time",
    "interactional": "no matching rule recommends an apology or an explanation",
}


@dataclass
class Outcome:
    currency: str | None
    refund: Decimal | None = None
    credit: Decimal | None = None
    credit_expires_in_days: int | None = None
    discount_percent: int | None = None
    discount_valid_days: int | None = None
    replacement: str | None = None
    apology_level: str = "none"
    apology_from: str = "agent"
    explanation: bool = False
    respond_within_minutes: int | None = None
    follow_up_within_hours: int | None = None
    approval_level: str = "agent"
    approval_reasons: list[str] = field(default_factory=list)
    root_cause_review: bool = False
    estimated_cost: Decimal | None = None
    unaddressed: dict[str, str] = field(default_factory=dict)
    limits_applied: list[dict[str, Any]] = field(default_factory=list)
    set_by: dict[str, list[str]] = field(default_factory=dict)
    fired: list[RuleDef] = field(default_factory=list)


def _money(spec: MoneySpec, order: Decimal | None, currency: str | None) -> Decimal | None:
    if spec.percent_of_order is not None:
        return None if order is None else order * spec.percent_of_order / HUNDRED
    assert spec.amount is not None  # the schema requires one of the two
    return None if currency is None else spec.amount[currency]


def _fmt(amount: Decimal, currency: str | None) -> str:
    return money.fmt(money.round_down(amount, currency)) if currency else f"{amount:f}"


def combine(ruleset: RulesetDef, flat: Flat, matched: list[int], currency: str | None) -> Outcome:
    order: Decimal | None = flat.get("order.amount.amount")
    out = Outcome(currency=currency)
    policy = ruleset.combine
    set_by = out.set_by
    money_back_by: list[str] = []

    for index in matched:
        rule = ruleset.rules[index]
        then = rule.then
        rid = rule.id
        out.fired.append(rule)
        if then.refund is not None and order is not None:
            amount = _money(then.refund, order, currency)
            if amount is not None:
                if out.refund is None or (policy.refund == "largest" and amount > out.refund):
                    out.refund = amount
                    set_by["refund"] = [rid]
                elif policy.refund == "sum":
                    out.refund += amount
                    set_by["refund"].append(rid)
        if then.credit is not None:
            amount = _money(then.credit, order, currency)
            if amount is not None:
                if out.credit is None or (policy.credit == "largest" and amount > out.credit):
                    out.credit = amount
                    out.credit_expires_in_days = then.credit.expires_in_days
                    set_by["credit"] = [rid]
                elif policy.credit == "sum":
                    out.credit += amount
                    assert out.credit_expires_in_days is not None
                    out.credit_expires_in_days = max(out.credit_expires_in_days, then.credit.expires_in_days)
                    set_by["credit"].append(rid)
        if then.discount is not None:
            if out.discount_percent is None or then.discount.percent > out.discount_percent:
                out.discount_percent = then.discount.percent
                out.discount_valid_days = then.discount.valid_days
                set_by["discount"] = [rid]
        if then.replacement is not None and out.replacement is None:
            out.replacement = then.replacement
            set_by["replacement"] = [rid]
        if then.apology is not None:
            if APOLOGY_RANK[then.apology.level] > APOLOGY_RANK[out.apology_level]:
                out.apology_level = then.apology.level
                set_by["apology.level"] = [rid]
            if LEVEL_RANK[then.apology.from_] > LEVEL_RANK[out.apology_from]:
                out.apology_from = then.apology.from_
                set_by["apology.from"] = [rid]
        if then.explanation and not out.explanation:
            out.explanation = True
            set_by["apology.explanation"] = [rid]
        if then.respond_within_minutes is not None and (
                out.respond_within_minutes is None or then.respond_within_minutes < out.respond_within_minutes):
            out.respond_within_minutes = then.respond_within_minutes
            set_by["respond_within_minutes"] = [rid]
        if then.follow_up_within_hours is not None and (
                out.follow_up_within_hours is None or then.follow_up_within_hours < out.follow_up_within_hours):
            out.follow_up_within_hours = then.follow_up_within_hours
            set_by["follow_up_within_hours"] = [rid]
        if then.approval is not None and then.approval != "agent":
            out.approval_reasons.append(f"rule {rid} asks for {then.approval} approval")
            if LEVEL_RANK[then.approval] > LEVEL_RANK[out.approval_level]:
                out.approval_level = then.approval
        if then.root_cause_review and not out.root_cause_review:
            out.root_cause_review = True
            set_by["root_cause_review"] = [rid]
        if then.money_back_only:
            money_back_by.append(rid)
        if then.unaddressed_reason is not None:
            for dimension in ("distributive", "procedural", "interactional"):
                reason = getattr(then.unaddressed_reason, dimension)
                if reason is not None and dimension not in out.unaddressed:
                    out.unaddressed[dimension] = reason

    if money_back_by:
        _credit_as_refund(out, money_back_by[0], order)
    _apply_limits(out, ruleset, order)
    _round(out)
    if money_back_by and out.refund is not None:
        _drop_discount(out, money_back_by[0])
    _cost(out, ruleset, order)
    _approval(out, ruleset, flat)
    return out


def _clip(out: Outcome, limit: str, component: str, before: Decimal, after: Decimal) -> None:
    out.limits_applied.append({"limit": limit, "component": component, "before": _fmt(before, out.currency),
                               "after": _fmt(after, out.currency), "currency": out.currency})


def _credit_as_refund(out: Outcome, rule_id: str, order: Decimal | None) -> None:
    if out.credit is not None and order is not None:
        before = out.refund or Decimal(0)
        out.refund = before + out.credit
        out.limits_applied.append({"limit": f"money_back_only ({rule_id})", "component": "credit",
                                   "before": _fmt(out.credit, out.currency), "after": _fmt(Decimal(0), out.currency),
                                   "currency": out.currency})
        out.set_by.setdefault("refund", []).append(rule_id)
        out.credit = None
        out.credit_expires_in_days = None
        out.set_by.pop("credit", None)


def _drop_discount(out: Outcome, rule_id: str) -> None:
    """Once money goes back, no voucher-like discount comes with it."""
    if out.discount_percent is not None:
        out.limits_applied.append({"limit": f"money_back_only ({rule_id})", "component": "discount",
                                   "before": str(out.discount_percent), "after": "0", "currency": None})
        out.discount_percent = None
        out.discount_valid_days = None
        out.set_by.pop("discount", None)


def _apply_limits(out: Outcome, ruleset: RulesetDef, order: Decimal | None) -> None:
    limits = ruleset.limits
    if out.refund is not None and order is not None:
        cap = order * limits.refund.max_percent_of_order / HUNDRED
        if out.refund > cap:
            _clip(out, "refund.max_percent_of_order", "refund", out.refund, cap)
            out.refund = cap
    if out.credit is not None:
        caps: list[tuple[str, Decimal]] = []
        if limits.credit.max_percent_of_order is not None and order is not None:
            caps.append(("credit.max_percent_of_order", order * limits.credit.max_percent_of_order / HUNDRED))
        if limits.credit.max is not None and out.currency is not None:
            caps.append(("credit.max", limits.credit.max[out.currency]))
        for name, cap in caps:
            if out.credit > cap:
                _clip(out, name, "credit", out.credit, cap)
                out.credit = cap
    if out.discount_percent is not None and out.discount_percent > limits.discount.max_percent:
        out.limits_applied.append({"limit": "discount.max_percent", "component": "discount",
                                   "before": str(out.discount_percent), "after": str(limits.discount.max_percent),
                                   "currency": None})
        out.discount_percent = limits.discount.max_percent
    if limits.total is not None and order is not None:
        cap = order * limits.total.max_percent_of_order / HUNDRED
        refund = out.refund or Decimal(0)
        credit = out.credit or Decimal(0)
        excess = refund + credit - cap
        if excess > 0:
            if credit > 0:
                trimmed = max(credit - excess, Decimal(0))
                _clip(out, "total.max_percent_of_order", "credit", credit, trimmed)
                excess -= credit - trimmed
                out.credit = trimmed
            if excess > 0 and refund > 0:
                trimmed = max(refund - excess, Decimal(0))
                _clip(out, "total.max_percent_of_order", "refund", refund, trimmed)
                out.refund = trimmed


def _round(out: Outcome) -> None:
    currency = out.currency
    if currency is None:
        out.refund = out.credit = None
        return
    if out.refund is not None:
        out.refund = money.round_down(out.refund, currency)
        if out.refund == 0:
            out.refund = None
    if out.credit is not None:
        out.credit = money.round_down(out.credit, currency)
        if out.credit == 0:
            out.credit = None
            out.credit_expires_in_days = None


def _cost(out: Outcome, ruleset: RulesetDef, order: Decimal | None) -> None:
    currency = out.currency
    if currency is None:
        return
    cost = (out.refund or Decimal(0)) + (out.credit or Decimal(0))
    use = ruleset.costing.discount_expected_use_percent
    if out.discount_percent is not None and order is not None and use:
        cost += order * Decimal(out.discount_percent) / HUNDRED * use / HUNDRED
    out.estimated_cost = money.round_down(cost, currency)


def _approval(out: Outcome, ruleset: RulesetDef, flat: Flat) -> None:
    approval = ruleset.limits.approval
    cost, currency = out.estimated_cost, out.currency
    if cost is not None and currency is not None:
        crossed = [boundary for boundary in approval.by_amount if cost > boundary.above[currency]]
        if crossed:
            top = crossed[-1]
            limit = money.fmt(top.above[currency])
            out.approval_reasons.append(f"estimated cost {money.fmt(cost)} {currency} is above the {top.level} "
                                        f"boundary of {limit} {currency}")
            if LEVEL_RANK[top.level] > LEVEL_RANK[out.approval_level]:
                out.approval_level = top.level
    prior = flat["customer.prior_recoveries_90d"]
    reached = [boundary for boundary in approval.by_prior_recoveries if prior >= boundary.at_least]
    if reached:
        top_recoveries = reached[-1]
        out.approval_reasons.append(f"{prior} recoveries in the last 90 days: {top_recoveries.level} review "
                                    f"from {top_recoveries.at_least}")
        if LEVEL_RANK[top_recoveries.level] > LEVEL_RANK[out.approval_level]:
            out.approval_level = top_recoveries.level
