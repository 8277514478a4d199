"""The failure-event fields a mapping can fill, and how a ticket value becomes each.

Ticket values arrive as whatever the sender made of them: Zendesk placeholders
are strings ("129.90"), Jira numbers are JSON numbers, Salesforce numbers are
XML text ("2.0"), checkboxes are "true"/"false". `convert()` turns one value into
the field's type or says, in an admin's words, why it cannot. It never guesses:
"12,50" is not an amount, "2.5" is not a count. Numbers, as text or JSON, are read
and range-checked by `service.numbers` and amounts by `money.parse_amount`, exactly
as the decision routes read them, before any conversion that costs by their size.

`TARGETS` lists the fields by their dotted event path; `target_for()` is the one
place a mapping file's field name is looked up, so a new kind of field (ruleset
facts, `facts.<name>`, typed by the live ruleset) is added there. A field the
service's event model does not have yet is accepted in mapping files but left out
of the event (`mapping.model_has`), so a mapping can be written before the model
grows the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from .. import money, numbers

Kind = Literal["slug", "text", "id", "int", "bool", "decimal", "number", "currency", "enum", "enum_list", "locale",
               "fact"]

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
    "failure.amount_at_stake.amount": Target("decimal"),
    "failure.amount_at_stake.currency": Target("currency"),
    "failure.value_received": Target("enum", ("none", "partial", "full")),
    "context.locale": Target("locale"),
    "context.already_done": Target("enum_list", ("fixed", "apologised", "refunded", "replaced")),
}
"""Every field of a FailureEvent except `event_id` (always `<system>:<ticket id>`) and
`context.minutes_since_report` (a clock reading would make retries decide differently)."""

MONEY = ("order.amount", "customer.lifetime_value", "failure.amount_at_stake")
"""Money fields, each mapped as `<field>.amount` and `<field>.currency`."""

CURRENCY_FROM_ORDER = ("failure.amount_at_stake",)
"""Money fields whose currency, when the ticket names none, is the order's."""


FACTS = "facts."
FACT = Target("fact")
"""A fact the ruleset declares (`facts.<name>`): its type comes from the live ruleset at each delivery."""
_FACT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def target_for(name: str) -> Target | None:
    """The target a mapping file's field name denotes, or None when it names no event field."""
    if name.startswith(FACTS) and _FACT_NAME.match(name[len(FACTS):]):
        return FACT
    return TARGETS.get(name)


def fact_target(fact: Any) -> Target:
    """How a ticket value becomes a declared fact (`engine.schema.FactDecl`): by the fact's type."""
    if fact.type == "integer":
        return Target("int", minimum=None if fact.minimum is None else int(fact.minimum),
                      maximum=None if fact.maximum is None else int(fact.maximum))
    if fact.type == "number":
        return Target("number")
    if fact.type == "money":
        return Target("decimal")
    if fact.type == "boolean":
        return Target("bool")
    if fact.type == "slug":
        return Target("enum", tuple(fact.values or ()))
    return Target("text")

REQUIRED = ("failure.type", "failure.severity", "failure.root_cause")
RAISED_BY_TEXT = ("failure.severity",)
"""Fields a phrase only raises (a severity cue never lowers what the ticket's priority says);
phrases for every other field fill a gap the structured fields leave."""
SIGNAL_KINDS = ("slug", "enum", "int", "bool", "locale")
"""The kinds of field a phrase can set (not amounts, ids or free text)."""
TICKET_ID = Target("id")

_TRUE = {"true", "yes", "1", "y", "on", "checked"}
_FALSE = {"false", "no", "0", "n", "off", "unchecked"}


class NotConvertible(ValueError):
    """The value cannot become the field's type; the message says what was expected."""


def convert(target: Target, value: Any) -> Any:
    """`value` as `target`'s type, or NotConvertible."""
    if target.kind == "enum_list":
        # what was already done: each element one of the choices; a list (of tags, a
        # mapping's default) or one value, always returned as a list in the choices' order
        items = value if isinstance(value, list) else [value]
        one = Target("enum", target.choices)
        chosen = {convert(one, item) for item in items}
        return [choice for choice in target.choices if choice in chosen]
    if isinstance(value, (dict, list)):
        shape = "an object" if isinstance(value, dict) else "a list"
        hint = (f" with keys {', '.join(sorted(map(str, value))[:6])}: point `from` at one of them"
                if isinstance(value, dict) else ": add `values` to pick entries, or `split`")
        raise NotConvertible(f"the ticket value is {shape}{hint}")
    kind = target.kind
    if kind == "fact":  # typed at delivery, against the live ruleset's declaration
        return value
    if kind == "bool":
        return _bool(value)
    if kind == "int":
        return _int(target, value)
    if kind == "decimal":
        return _decimal(value)
    if kind == "number":
        if isinstance(value, bool):
            raise NotConvertible(f"expected a number, got {str(value).lower()}")
        try:
            return value if isinstance(value, int) else numbers.decimal_of(_number_text(value))
        except numbers.NotANumber as exc:
            raise NotConvertible(f"expected a number such as 6 or 2.5, got {_show(value)} ({exc})") from None
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
    if kind == "locale":
        return _locale(value, text)
    slug = "_".join(text.lower().split())
    if kind == "enum":
        if slug not in target.choices:
            raise NotConvertible(f"expected one of {', '.join(target.choices)}, got {_show(value)}")
        return slug
    return slug


_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def _locale(value: Any, text: str) -> str:
    """A BCP 47 language tag, in its usual case: `zh_cn` becomes `zh-CN`, `EN` becomes `en`."""
    if len(text) > 35 or not _LOCALE.match(text):
        raise NotConvertible(f"expected a language tag such as en, id, zh-CN or lv, got {_show(value)}")
    first, *rest = re.split(r"[-_]", text)
    parts = [first.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            parts.append(part.upper())
        else:
            parts.append(part.lower())
    return "-".join(parts)


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
