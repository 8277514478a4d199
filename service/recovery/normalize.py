"""From a validated wire event to the flat view rules are written against.

The wire model checks structure; this step checks the event against the live
ruleset's catalogues (failure types, tiers, currencies) and fills what the
catalogue knows (category, kind, the tier's rank). Fields the event does not carry
are absent from the flat view, never None.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..engine import facts as facts_module
from ..engine import vocabulary as vocab
from ..engine.loader import RulesetDef
from ..models import FailureEvent, Money

Flat = dict[str, Any]


class EventRejected(Exception):
    """The event is well-formed but the ruleset cannot decide it (422)."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(error["msg"] for error in errors))


def decision_currency(event: FailureEvent, currencies: Sequence[str] = ()) -> str | None:
    """The order's currency; else the amount at stake's; else the lifetime value's; else a money
    fact's (a bag fee); else the ruleset's currency when it decides in one only (`currencies`),
    so a statutory amount that needs no price (EU261's 250 euros) is owed without an order."""
    if event.order is not None:
        return event.order.amount.currency
    if event.failure.amount_at_stake is not None:
        return event.failure.amount_at_stake.currency
    if event.customer.lifetime_value is not None:
        return event.customer.lifetime_value.currency
    for value in (event.facts or {}).values():
        if isinstance(value, Money):
            return value.currency
    return currencies[0] if len(currencies) == 1 else None


def normalize(event: FailureEvent, ruleset: RulesetDef) -> Flat:
    failure, customer, order, context = event.failure, event.customer, event.order, event.context
    catalogues = ruleset.catalogues
    errors: list[dict[str, Any]] = []
    entry = catalogues.failure_types.get(failure.type)
    category = failure.category or (entry.category if entry is not None else None)
    if category is None:
        errors.append({"loc": ["failure", "category"],
                       "msg": f"failure type '{failure.type}' is not in ruleset '{ruleset.meta.name}', so "
                              f"failure.category (outcome or process) is required; known types: "
                              f"{', '.join(catalogues.failure_types)}"})
    rank = ruleset.tier_rank.get(customer.tier)
    if rank is None:
        errors.append({"loc": ["customer", "tier"],
                       "msg": f"unknown tier '{customer.tier}'; ruleset '{ruleset.meta.name}' knows "
                              f"{', '.join(catalogues.tiers)}"})
    currency = decision_currency(event, catalogues.currencies)
    if currency is not None and currency not in catalogues.currencies:
        money_fact = next((name for name, value in (event.facts or {}).items() if isinstance(value, Money)), "")
        loc = (["order", "amount", "currency"] if order is not None else
               ["failure", "amount_at_stake", "currency"] if failure.amount_at_stake is not None else
               ["customer", "lifetime_value", "currency"] if customer.lifetime_value is not None else
               ["facts", money_fact, "currency"])
        errors.append({"loc": loc, "msg": f"ruleset '{ruleset.meta.name}' has no amounts or boundaries for "
                                          f"{currency}; it decides in {', '.join(catalogues.currencies)}"})
    stake = failure.amount_at_stake
    if stake is not None and stake.currency != currency:
        errors.append({"loc": ["failure", "amount_at_stake", "currency"],
                       "msg": f"the amount at stake is in {stake.currency} but the order is in {currency}: "
                              "give it in the order's currency"})
    elif stake is not None and order is not None and stake.amount > order.amount.amount:
        errors.append({"loc": ["failure", "amount_at_stake", "amount"],
                       "msg": f"the amount at stake ({stake.amount}) is more than the order "
                              f"({order.amount.amount}): it is the part of the order that went wrong"})
    facts, fact_errors = facts_module.read(ruleset.facts, event.facts, failure.type, currency)
    errors += fact_errors
    if errors:
        raise EventRejected(errors)

    flat: Flat = {
        "failure.root_cause": failure.root_cause,
        "failure.category": category,
        "failure.recurring": failure.recurring,
        "failure.type": failure.type,
        "customer.tier": customer.tier,
        vocab.TIER_RANK_PATH: rank,
        "failure.severity": failure.severity,
        "customer.prior_recoveries_90d": customer.prior_recoveries_90d,
    }
    if entry is not None:
        flat["failure.kind"] = entry.kind
    value_received = failure.value_received or (entry.value_received if entry is not None else None)
    if value_received is not None:
        flat["failure.value_received"] = value_received
    done = context.already_done or ()
    for item in vocab.ALREADY_DONE:
        flat[f"context.already_done.{item}"] = item in done
    if event.event_id is not None:
        flat["event_id"] = event.event_id
    if failure.description is not None:
        flat["failure.description"] = failure.description
    if customer.id is not None:
        flat["customer.id"] = customer.id
    if customer.lifetime_value is not None:
        flat["customer.lifetime_value.amount"] = customer.lifetime_value.amount
        flat["customer.lifetime_value.currency"] = customer.lifetime_value.currency
    if order is not None:
        flat["order.amount.amount"] = order.amount.amount
        flat["order.amount.currency"] = order.amount.currency
        if order.id is not None:
            flat["order.id"] = order.id
    if context.channel is not None:
        flat["context.channel"] = context.channel
    if context.minutes_since_report is not None:
        flat["context.minutes_since_report"] = context.minutes_since_report
    if context.customer_request is not None:
        flat["context.customer_request"] = context.customer_request
    if context.locale is not None:
        flat["context.locale"] = context.locale
    if stake is not None:
        flat["failure.amount_at_stake.amount"] = stake.amount
        flat["failure.amount_at_stake.currency"] = stake.currency
    table = ruleset.currency
    if table is not None:
        for base, amount in vocab.BASE_OF.items():
            value = flat.get(amount)
            code = flat.get(amount.rsplit(".", 1)[0] + ".currency")
            if value is not None and code in table.currencies:
                flat[base] = table.to_base(value, code)
    flat.update(facts)
    return flat
