"""Money: a `Decimal` amount with an ISO 4217 currency.

This module is the one place where amounts are rounded. Every amount the service
pays out is rounded *down* to the currency's minor unit, so a rounded
recommendation never exceeds what a rule or a limit allows.
"""

from __future__ import annotations

import functools
from decimal import ROUND_DOWN, Decimal
from typing import Any

import iso4217

from . import numbers

#: Largest amount the service accepts (exclusive): keeps every amount exact in
#: the engine's double-precision comparisons (at most 15 significant digits).
MAX_AMOUNT = Decimal("1000000000000")


AMOUNT_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
"""An amount written as text: a JSON number without a sign (`80.00`, `80`, `8e1`)."""


def parse_amount(value: Any) -> Decimal:
    """An input amount as an exact Decimal, or ValueError saying what is wrong.

    The one validation of money in requests, tickets and rules files: a JSON number or
    text in the JSON number grammar (`service.numbers`), at least 0 and written without
    a sign (`-0.00` is refused like any negative amount, so it cannot become a second
    way to write zero), below MAX_AMOUNT. Only comparisons happen before the range is
    known, so `1e1000000` is refused as fast as `-1`; places are the currency's concern
    (`places_of`, `normalize`).
    """
    try:
        amount = numbers.decimal_of(value)
    except numbers.NotANumber as exc:
        if isinstance(value, str) and len(value) > numbers.MAX_CHARS:
            raise ValueError(str(exc)) from None
        raise ValueError(f"expected an amount such as 80.00 (digits, a dot and decimals; no sign, spaces or "
                         f"separators), got {numbers.show(value)!r}") from None
    if amount.is_signed():
        raise ValueError("an amount is 0 or more, written without a sign")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"an amount is below {MAX_AMOUNT}, got {numbers.show(amount)}")
    return amount


@functools.cache
def minor_unit(currency: str) -> int | None:
    """Decimal places of `currency` per ISO 4217, or None for an unknown code
    or a code without a minor unit (gold, SDRs, test codes)."""
    if len(currency) != 3 or not currency.isascii() or not currency.isupper():
        return None
    try:
        exponent = iso4217.Currency(currency).exponent
    except ValueError:
        return None
    return exponent if isinstance(exponent, int) else None


@functools.cache
def quantum(currency: str) -> Decimal:
    places = minor_unit(currency)
    if places is None:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency with a minor unit")
    return Decimal(1).scaleb(-places)


def places_of(amount: Decimal) -> int:
    """Number of decimal places written in `amount` (`80.10` has 2, `1E+2` has 0)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def normalize(amount: Decimal, currency: str) -> Decimal:
    """Write an input amount with exactly the currency's places (`80` -> `80.00`).

    The caller has checked that `amount` has no more places than the currency
    allows, so this never changes its value.
    """
    return amount.quantize(quantum(currency))


def round_down(amount: Decimal, currency: str) -> Decimal:
    """Round a computed amount down to the currency's minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_DOWN)


def fmt(amount: Decimal) -> str:
    """Format a rounded amount as the wire's decimal string (`40.00`)."""
    return f"{amount:f}"
