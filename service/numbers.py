"""Numbers as clients, tickets and rules files write them: one grammar, one range check.

Every number the service reads, from a JSON body, a ticket field, a query string or
a rules file, goes through here, so every route accepts and refuses the same
numbers. A number written as text follows the JSON grammar (RFC 8259) and nothing
else: ASCII digits, an optional minus, an optional fraction and exponent; no plus
sign, no spaces, no underscores (`8_0.00`), no other digits (`٨٠`), no `NaN` or
`Infinity`, at most `MAX_CHARS` characters.

Reading is cheap whatever the number says: a `Decimal` keeps its exponent apart, so
`1e1000000` costs nine characters to read. What costs time and memory in proportion
to a number's size is turning it into an `int` or writing it out in full
(`format(value, "f")`), so `whole()` checks the range first and converts after.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_CHARS = 64
"""Longest number accepted as text (a JSON number's own text included)."""

MAX_PLAIN_EXPONENT = 30
"""Numbers with more digits than this before or after the point are shown in exponent form."""

_GRAMMAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


class NotANumber(ValueError):
    """The value is not a number, or is one in a form the grammar refuses; the message says which."""


def decimal_of(value: Any) -> Decimal:
    """`value` as an exact, finite Decimal: from text in the grammar above, an int, a Decimal,
    or a float (by its shortest repr, which is what YAML and JSON wrote). Booleans are not numbers."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotANumber(f"{value} is not a number")
        return value
    if isinstance(value, bool):
        raise NotANumber(f"expected a number, got {str(value).lower()}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NotANumber(f"{value} is not a number")
        return Decimal(repr(value))
    if isinstance(value, str):
        return parse(value)
    raise NotANumber(f"expected a number, got {type(value).__name__}")


def parse(text: str) -> Decimal:
    """The exact value of `text`, which must follow the JSON number grammar."""
    if len(text) > MAX_CHARS:
        raise NotANumber(f"a number has at most {MAX_CHARS} characters, this one has {len(text)}")
    if _GRAMMAR.fullmatch(text) is None:
        raise NotANumber(f"{show(text)} is not a number written as digits with an optional minus, decimals and "
                         "exponent (no plus sign, spaces, underscores or thousands separators)")
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold
        raise NotANumber(f"{show(text)} is out of range") from None


def whole(value: Decimal | int, minimum: int | None, maximum: int | None) -> int:
    """`value` as an int within [minimum, maximum]; the range is checked before converting."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise NotANumber(f"expected a number from {_bound(minimum)} to {_bound(maximum)}, got {show(value)}")
        return number
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise NotANumber(f"expected a number from {_bound(minimum)} to {_bound(maximum)}, got {show(value)}")
    if minimum is None or maximum is None:
        if abs(value.adjusted()) > MAX_PLAIN_EXPONENT:
            raise NotANumber(f"{show(value)} is out of range")
    if value != value.to_integral_value():
        raise NotANumber(f"expected a whole number, got {show(value)}")
    return int(value)


def plain(value: Decimal) -> str:
    """`value` written out (`129.90`, `100`), or in exponent form when that would be long (`1E+1000000`)."""
    if value.is_finite() and -MAX_PLAIN_EXPONENT <= value.adjusted() <= MAX_PLAIN_EXPONENT:
        return format(value, "f")
    return str(value)


def show(value: Any, limit: int = 40) -> str:
    """A short rendering of a number or of text that should have been one, for messages."""
    if isinstance(value, Decimal):
        text = plain(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        text = f"a number of {value.bit_length()} bits"  # str() of a huge int costs time (and is refused)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bound(value: int | None) -> str:
    return "any" if value is None else str(value)
