"""Money: a `Decimal` amount with an ISO 4217 currency.

This module is the one place where amounts are rounded. Every amount the service
pays out is rounded *down* to the currency's minor unit, so a rounded
recommendation never exceeds what a rule or a limit allows.
"""

from __future__ import annotations

import functools
from decimal import ROUND_DOWN, Decimal

import iso4217

#: Largest amount the service accepts (exclusive): keeps every amount exact in
#: the engine's double-precision comparisons (at most 15 significant digits).
MAX_AMOUNT = Decimal("1000000000000")


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
