"""The failure-event fields a mapping can fill, and how a ticket value becomes each.

Ticket values arrive as whatever the sender made of them: Zendesk placeholders
are strings ("129.90"), Jira numbers are JSON numbers, Salesforce numbers are
XML text ("2.0"), checkboxes are "true"/"false". `convert()` turns one value into
the field's type or says, in an admin's words, why it cannot. It never guesses:
"12,50" is not an amount, "2.5" is not a count. Numbers, as text or JSON, are read
and range-checked by `service.numbers` and amounts by `money.parse_amount`, exactly
as the decision routes read them, before any conversion that costs by their size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from .. import money, numbers

Kind = Literal["slug", "text", "id", "int", "bool", "decimal", "currency", "enum"]

DESCRIPTION_CHARS = 2000
ID_CHARS = 128


@dataclass(frozen=True)
class Target:
    kind: Kind
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


TARGETS: dict[str, Target] = {
    "failure.type": Target("slug"),
    "failure.category": Target("enum", ("outcome", "process")),
    "failure.severity": Target("int", minimum=1, maximum=5),
    "failure.root_cause": Target("enum", ("provider", "customer", "third_party", "unknown")),
    "failure.recurring": Target("bool"),
    "failure.description": Target("text"),
    "customer.id": Target("id"),
    "customer.tier": Target("slug"),
    "customer.prior_recoveries_90d": Target("int", minimum=0, maximum=100_000),
    "customer.lifetime_value.amount": Target("decimal"),
    "customer.lifetime_value.currency": Target("currency"),
    "order.id": Target("id"),
    "order.amount.amount": Target("decimal"),
    "order.amount.currency": Target("currency"),
    "context.channel": Target("slug"),
    "context.customer_request": Target("enum", ("refund", "credit", "discount", "replacement", "apology")),
}
"""Every field of a FailureEvent except `event_id` (always `<system>:<ticket id>`) and
`context.minutes_since_report` (a clock reading would make retries decide differently)."""

REQUIRED = ("failure.type", "failure.severity", "failure.root_cause")
TICKET_ID = Target("id")

_TRUE = {"true", "yes", "1", "y", "on", "checked"}
_FALSE = {"false", "no", "0", "n", "off", "unchecked"}


class NotConvertible(ValueError):
    """The value cannot become the field's type; the message says what was expected."""


def convert(target: Target, value: Any) -> Any:
    """`value` as `target`'s type, or NotConvertible."""
    if isinstance(value, (dict, list)):
        shape = "an object" if isinstance(value, dict) else "a list"
        hint = (f" with keys {', '.join(sorted(map(str, value))[:6])}: point `from` at one of them"
                if isinstance(value, dict) else ": add `values` to pick entries, or `split`")
        raise NotConvertible(f"the ticket value is {shape}{hint}")
    kind = target.kind
    if kind == "bool":
        return _bool(value)
    if kind == "int":
        return _int(target, value)
    if kind == "decimal":
        return _decimal(value)
    if isinstance(value, bool):
        raise NotConvertible(f"expected text, got {str(value).lower()}")
    text = _plain(value).strip()
    if kind == "text":
        return text[:DESCRIPTION_CHARS]
    if kind == "id":
        if len(text) > ID_CHARS:
            raise NotConvertible(f"ids have at most {ID_CHARS} characters, this one has {len(text)}")
        if not text.isprintable():  # a line break in an id would write lines of its own into the agent note
            raise NotConvertible(f"ids are one line of printable text, got {_show(value)}")
        return text
    if kind == "currency":
        code = text.upper()
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise NotConvertible(f"expected a three-letter ISO 4217 currency code, got {_show(value)}")
        return code
    slug = "_".join(text.lower().split())
    if kind == "enum":
        if slug not in target.choices:
            raise NotConvertible(f"expected one of {', '.join(target.choices)}, got {_show(value)}")
        return slug
    return slug


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return numbers.plain(value)
    return numbers.show(value, limit=10_000) if isinstance(value, int) else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _plain(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise NotConvertible(f"expected true or false, got {_show(value)}")


def _number_text(value: Any) -> Any:
    # Ticket text is trimmed (placeholders often carry spaces); JSON numbers arrive as they are.
    return value.strip() if isinstance(value, str) else value


def _int(target: Target, value: Any) -> int:
    if isinstance(value, bool):
        raise NotConvertible(f"expected a whole number, got {str(value).lower()}")
    try:
        number = value if isinstance(value, int) else numbers.decimal_of(_number_text(value))
    except numbers.NotANumber:
        raise NotConvertible(f"expected a whole number, got {_show(value)}") from None
    try:
        return numbers.whole(number, target.minimum, target.maximum)
    except numbers.NotANumber as exc:
        raise NotConvertible(str(exc)) from None


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise NotConvertible(f"expected an amount such as 129.90, got {str(value).lower()}")
    try:
        return money.parse_amount(_number_text(value))
    except ValueError as exc:
        raise NotConvertible(str(exc)) from None


def lookup_key(value: Any) -> str:
    """How a ticket value and a `values` key are compared: trimmed, case-insensitive text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) <= numbers.MAX_PLAIN_EXPONENT \
            and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _plain(value).strip().casefold()


def _show(value: Any, limit: int = 60) -> str:
    text = repr(_plain(value)) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "...'"
