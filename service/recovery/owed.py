"""What is owed before any goodwill: restitution, statutory and contractual lines.

A rule's `then.owed` lists lines (kind, amount spec, basis, pay as refund or credit).
Owed lines are computed first, from every matching rule, whatever caused the failure
(a customer's own duplicate payment is still returned); combining adds goodwill on
top and never clips them. A line the event does not allow computing (no order, a
missing fact) is not a silent zero: it is reported as not assessed, with what is
missing. Rules can also state an entitlement they cannot assess (`then.not_assessed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from .. import money
from ..engine.loader import RuleDef
from .amounts import Basis


@dataclass(frozen=True)
class OwedLine:
    kind: str
    amount: Decimal
    pay_as: str
    basis: str
    rule: str
    expires_in_days: int

    def as_dict(self, currency: str) -> dict[str, Any]:
        return {"kind": self.kind, "amount": {"amount": money.fmt(self.amount), "currency": currency},
                "basis": self.basis, "rule": self.rule, "pay_as": self.pay_as}


def lines(rules: Iterable[RuleDef], basis: Basis) -> tuple[list[OwedLine], list[dict[str, Any]]]:
    """The owed lines of `rules` (rounded down to the currency's minor unit, zero lines left out) and the
    entitlements that could not be assessed."""
    owed: list[OwedLine] = []
    unassessed: list[dict[str, Any]] = []
    for rule in rules:
        then = rule.then
        if then.not_assessed is not None:
            unassessed.append({"rule": rule.id, "what": then.not_assessed, "missing": []})
        for spec in then.owed or ():
            amount, missing = basis.amount(spec)
            if amount is None or basis.currency is None:
                what = missing or "currency"
                unassessed.append({"rule": rule.id, "what": f"{spec.basis}: cannot be assessed without {what}",
                                   "missing": [what]})
                continue
            amount = money.round_down(amount, basis.currency)
            if amount > 0:
                owed.append(OwedLine(spec.kind, amount, spec.pay_as, spec.basis, rule.id, spec.expires_in_days))
    return owed, unassessed


def total(owed: Iterable[OwedLine], pay_as: str) -> Decimal:
    return sum((line.amount for line in owed if line.pay_as == pay_as), Decimal(0))
