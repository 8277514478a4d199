"""Facts: what a ruleset declares its rules may read beyond the built-in event fields.

A ruleset declares each fact under `facts:` (name, type, meaning, optional bounds,
values, default, the failure types that need it). Events carry them in `facts`.
This module turns the declarations into condition fields (`facts.<name>`) so rules
are type-checked against them like built-in fields, and reads an event's facts
against them: an undeclared fact, a value of the wrong type or out of bounds, or a
missing fact a failure type needs, is an error that names the declared facts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from .. import money
from . import vocabulary as vocab
from .schema import FactDecl

PREFIX = "facts."

_KINDS: dict[str, vocab.Kind] = {"integer": "int", "number": "decimal", "boolean": "bool", "slug": "enum",
                                 "money": "decimal", "text": "text"}

#: Integers beyond this are refused: the engine compares numbers as doubles.
MAX_INTEGER = 2**53


def fields(declared: Mapping[str, FactDecl]) -> list[vocab.Field]:
    """The condition fields the declared facts add, in declaration order."""
    out = []
    for name, fact in declared.items():
        minimum = maximum = None
        if fact.type == "integer":
            minimum = int(fact.minimum) if fact.minimum is not None else None
            maximum = int(fact.maximum) if fact.maximum is not None else None
        elif fact.type == "number":
            minimum, maximum = fact.minimum, fact.maximum
        elif fact.type == "money":
            minimum = Decimal(0)
        doc = fact.description + (" (an amount in the decision's currency)" if fact.type == "money" else "")
        out.append(vocab.Field(PREFIX + name, _KINDS[fact.type], doc, values=tuple(fact.values or ()),
                               minimum=minimum, maximum=maximum))
    return out


def describe(fact: FactDecl) -> str:
    if fact.type == "slug":
        return f"one of {', '.join(fact.values or ())}"
    if fact.type in ("integer", "number"):
        word = "a whole number" if fact.type == "integer" else "a number"
        if fact.minimum is not None and fact.maximum is not None:
            return f"{word} from {fact.minimum} to {fact.maximum}"
        if fact.minimum is not None:
            return f"{word} of at least {fact.minimum}"
        if fact.maximum is not None:
            return f"{word} of at most {fact.maximum}"
        return word
    return {"boolean": "true or false", "money": 'money, {"amount": "30.00", "currency": ...} in the order\'s '
            "currency", "text": f"text of at most {fact.max_length} characters"}[fact.type]


def typed(fact: FactDecl, value: Any, currency: str | None) -> tuple[Any, str | None]:
    """The fact's value as rules see it, or (None, what was expected)."""
    kind = fact.type
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "true or false")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) <= 15 \
                    and value == value.to_integral_value():
                value = int(value)
            else:
                return None, describe(fact)
        if abs(value) > MAX_INTEGER:
            return None, describe(fact)
        if fact.minimum is not None and value < fact.minimum or fact.maximum is not None and value > fact.maximum:
            return None, describe(fact)
        return value, None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return None, describe(fact)
        number = Decimal(value) if isinstance(value, int) else value
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            return None, describe(fact)
        if not number.is_finite() or abs(number.adjusted()) > 12 or money.places_of(number) > 6:
            return None, describe(fact) + " (at most 13 digits before and 6 after the point)"
        if fact.minimum is not None and number < fact.minimum or fact.maximum is not None and number > fact.maximum:
            return None, describe(fact)
        return number, None
    if kind == "money":
        amount = getattr(value, "amount", None)
        code = getattr(value, "currency", None)
        if amount is None or code is None:
            return None, describe(fact)
        if currency is not None and code != currency:
            return None, f"an amount in {currency}, the order's currency (got {code})"
        return amount, None
    if not isinstance(value, str):
        return None, describe(fact)
    if kind == "slug":
        return (value, None) if value in (fact.values or ()) else (None, describe(fact))
    return (value, None) if len(value) <= fact.max_length else (None, describe(fact))


def read(declared: Mapping[str, FactDecl], given: Mapping[str, Any] | None, failure_type: str,
         currency: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event's facts as flat `facts.<name>` values (declared defaults filled in), and the errors."""
    flat: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    given = given or {}
    known = ", ".join(declared) or "none"
    for name, value in given.items():
        fact = declared.get(name)
        if fact is None:
            errors.append({"loc": ["facts", name], "msg": f"undeclared fact '{name}': the ruleset declares "
                                                          f"{known} (GET /v1/ruleset lists them with their types)"})
            continue
        converted, expected = typed(fact, value, currency)
        if expected is not None:
            errors.append({"loc": ["facts", name], "msg": f"fact '{name}' is {expected}"})
            continue
        flat[PREFIX + name] = converted
    for name, fact in declared.items():
        if name in given:
            continue
        if fact.default is not None:
            flat[PREFIX + name] = Decimal(str(fact.default)) if fact.type == "number" else fact.default
        elif "*" in fact.required_for or failure_type in fact.required_for:
            errors.append({"loc": ["facts", name], "msg": f"fact '{name}' is needed for a {failure_type} "
                                                          f"({fact.description}): {describe(fact)}"})
    return flat, errors
