"""Remedies that exclude each other: a refund OR a replacement, a refund OR a re-booking.

A ruleset declares its alternatives (`alternatives:`, in order of preference) and a
rule names the one its contributions belong to (`then.alternative`). Rules that name
none contribute to every option. An alternative is offered when at least one matching
rule contributes to it; the recommended one is the first offered alternative that
answers the customer's request (`context.customer_request`, matched against each
alternative's `answers`), else the first offered in the ruleset's order.
"""

from __future__ import annotations

from typing import Iterable

from ..engine.loader import RuleDef, RulesetDef
from ..engine.schema import Alternative


def split(rules: Iterable[RuleDef]) -> tuple[list[RuleDef], dict[str, list[RuleDef]]]:
    """(rules for every option, rules per alternative id)."""
    common: list[RuleDef] = []
    options: dict[str, list[RuleDef]] = {}
    for rule in rules:
        if rule.then.alternative is None:
            common.append(rule)
        else:
            options.setdefault(rule.then.alternative, []).append(rule)
    return common, options


def offered(ruleset: RulesetDef, options: dict[str, list[RuleDef]]) -> list[Alternative]:
    return [alternative for alternative in ruleset.alternatives if alternative.id in options]


def recommend(available: list[Alternative], request: str | None) -> tuple[Alternative, bool]:
    """The recommended alternative and whether it answers the customer's request."""
    if request is not None:
        for alternative in available:
            if request in alternative.answers:
                return alternative, True
    return available[0], False
