"""Amounts from the event: what a rule's money spec comes to for one event.

A spec is one of: a share of the order (`percent_of_order`), of the amount at stake
(`percent_of_stake`: the amount actually wrong, the order amount when the event gives
none), of a money fact (`percent_of_fact`), a fixed amount per currency (`amount`), a
pro-rata share (`pro_rata`: part over whole of the order or stake, at most all of it)
or a table of bands keyed on a number (`table`). Then, in this order: times an integer
fact (`per`), at least `min`, at most `max`. Amounts are exact Decimals here; rounding
happens once, at the end of combining (`money.round_down`).

`Basis.amount()` returns the amount, or None with the reason the event does not allow
computing it (no order, a missing fact): goodwill simply leaves such a contribution
out, while an owed line reports it as not assessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from ..engine import facts as facts_module
from ..engine.schema import Band, Bands, MoneySpec, _AmountForms

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Basis:
    """What amounts are computed from, for one event."""

    flat: Mapping[str, Any]
    currency: str | None
    order: Decimal | None
    stake: Decimal | None

    @classmethod
    def of(cls, flat: Mapping[str, Any], currency: str | None) -> "Basis":
        order = flat.get("order.amount.amount")
        stake = flat.get("failure.amount_at_stake.amount", order)
        return cls(flat, currency, order, stake)

    def amount(self, spec: MoneySpec | Band) -> tuple[Decimal | None, str | None]:
        """(amount, None), or (None, what is missing)."""
        table = getattr(spec, "table", None)
        if table is not None:
            base, missing = self._band(table)
        else:
            base, missing = self._base(spec)
        if missing is not None and spec.min is None:
            return None, missing
        if base is not None and spec.per is not None:
            count = self.flat.get(facts_module.PREFIX + spec.per)
            if count is None:
                return None, facts_module.PREFIX + spec.per
            base *= count
        if self.currency is None:
            return (base, None) if base is not None and spec.min is None and spec.max is None else (None, "currency")
        if spec.min is not None:
            base = spec.min[self.currency] if base is None else max(base, spec.min[self.currency])
        if spec.max is not None and base is not None:
            base = min(base, spec.max[self.currency])
        return base, None

    def _band(self, table: Bands) -> tuple[Decimal | None, str | None]:
        """The amount of the band the table's number falls in (the spec's `per`, `min` and `max` apply
        to it afterwards, like to any other form)."""
        value = self.flat.get(table.by)
        if value is None:
            return None, table.by
        chosen = None
        for band in table.bands:
            if value >= band.from_:
                chosen = band
        if chosen is None:
            return Decimal(0), None  # below the first band nothing is due
        return self.amount(chosen)

    def _base(self, spec: _AmountForms) -> tuple[Decimal | None, str | None]:
        if spec.percent_of_order is not None:
            if self.order is None:
                return None, "order.amount"
            return self.order * spec.percent_of_order / HUNDRED, None
        if spec.percent_of_stake is not None:
            if self.stake is None:
                return None, "failure.amount_at_stake"
            return self.stake * spec.percent_of_stake / HUNDRED, None
        if spec.percent_of_fact is not None:
            path = facts_module.PREFIX + spec.percent_of_fact.fact
            value = self.flat.get(path)
            if value is None:
                return None, path
            return value * spec.percent_of_fact.percent / HUNDRED, None
        if spec.pro_rata is not None:
            rata = spec.pro_rata
            of = self.order if rata.of == "order" else self.stake
            if of is None:
                return None, "order.amount" if rata.of == "order" else "failure.amount_at_stake"
            part, missing = self._number(rata.part)
            if missing is not None:
                return None, missing
            whole, missing = self._number(rata.whole)
            if missing is not None:
                return None, missing
            if not whole or whole <= 0:
                return Decimal(0), None
            share = min(max(Decimal(part) / Decimal(whole), Decimal(0)), Decimal(1))
            return of * share, None
        if spec.amount is not None:
            if self.currency is None:
                return None, "currency"
            return spec.amount[self.currency], None
        return None, "amount"

    def _number(self, value: str | Decimal) -> tuple[Any, str | None]:
        if isinstance(value, str):
            found = self.flat.get(value)
            return (found, None) if found is not None else (None, value)
        return value, None
