"""The vocabulary rules are written in: every event field a `when` can test.

Rules are type-checked against a vocabulary when they load (rule-engine style), so a
misspelt field or a value of the wrong type fails at load time, never at 3 a.m.
`FIELDS` are the fields every ruleset knows; a ruleset adds the facts it declares
(`facts.<name>`, see `facts.py`) and, when it declares a base currency, the amounts
converted into it (`*.base`). `Vocabulary` is that per-ruleset view.

The order of the fields is also the order in which the compiler lays conditions into
the Rete network (most shared first), so keep low-cardinality fields near the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from decimal import Decimal
from typing import Iterable, Literal, Mapping

Kind = Literal["text", "enum", "int", "decimal", "bool"]

CATEGORIES = ("outcome", "process")
FAILURE_KINDS = ("money", "product", "service", "time", "attention", "information")
ROOT_CAUSES = ("provider", "customer", "third_party", "unknown")
CUSTOMER_REQUESTS = ("refund", "credit", "discount", "replacement", "apology")
VALUE_RECEIVED = ("none", "partial", "full")
ALREADY_DONE = ("fixed", "apologised", "refunded", "replaced")
APOLOGY_LEVELS = ("none", "standard", "sincere", "personal")
STAFF_LEVELS = ("agent", "supervisor", "manager")
REPLACEMENTS = ("exchange", "re_performance", "repair")


@dataclass(frozen=True, slots=True)
class Field:
    path: str
    kind: Kind
    doc: str
    values: tuple[str, ...] = ()
    catalogue: str | None = None
    ordered: bool = False
    always: bool = False
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None


FIELDS: tuple[Field, ...] = (
    Field("failure.root_cause", "enum", "who caused the failure", values=ROOT_CAUSES, always=True),
    Field("failure.category", "enum", "outcome (core service not delivered) or process (delivered badly); "
          "filled from the catalogue when the event leaves it out", values=CATEGORIES, always=True),
    Field("failure.kind", "enum", "what the customer lost, from the catalogue (money, product, service, time, "
          "attention, information); absent for a type the catalogue does not know", values=FAILURE_KINDS),
    Field("failure.recurring", "bool", "the customer met the same failure before (a stable cause)", always=True),
    Field("failure.value_received", "enum", "how much of the service the customer still got: none, partial, full "
          "(from the event, else the failure type's catalogue default)", values=VALUE_RECEIVED),
    Field("failure.type", "enum", "the failure type slug", catalogue="failure_types", always=True),
    Field("customer.tier", "enum", "the customer's tier; `at_least`/`at_most` compare by catalogue order",
          catalogue="tiers", ordered=True, always=True),
    Field("order.amount.currency", "enum", "the order's currency", catalogue="currencies"),
    Field("customer.lifetime_value.currency", "enum", "the lifetime value's currency", catalogue="currencies"),
    Field("failure.amount_at_stake.currency", "enum", "the amount at stake's currency (the order's)",
          catalogue="currencies"),
    Field("context.customer_request", "enum", "what the customer asked for", values=CUSTOMER_REQUESTS),
    Field("context.channel", "enum", "where the customer complained", catalogue="channels"),
    *(Field(f"context.already_done.{done}", "bool", f"the agent already {done} before asking "
            "(`context.already_done` lists it)", always=True) for done in ALREADY_DONE),
    Field("failure.severity", "int", "1 minor annoyance .. 5 total loss, safety or legal exposure",
          always=True, minimum=1, maximum=5),
    Field("customer.prior_recoveries_90d", "int", "recoveries the customer already had in 90 days",
          always=True, minimum=0),
    Field("context.minutes_since_report", "int", "minutes since the customer reported the failure", minimum=0),
    Field("order.amount.amount", "decimal", "the order amount (compare together with its currency)"),
    Field("customer.lifetime_value.amount", "decimal", "the customer's lifetime value (compare with its currency)"),
    Field("failure.amount_at_stake.amount", "decimal", "the amount actually wrong (compare with its currency); "
          "absent when the event does not say"),
    Field("event_id", "text", "the caller's event id"),
    Field("failure.description", "text", "free text from the caller"),
    Field("customer.id", "text", "the caller's customer id"),
    Field("order.id", "text", "the caller's order id"),
    Field("context.locale", "text", "the language the messages are rendered in, as the event asked"),
)

#: Amounts converted into the ruleset's base currency (only with `currency.base`):
#: one threshold in one currency, whatever the event's currency.
BASE_FIELDS: tuple[Field, ...] = (
    Field("order.amount.base", "decimal", "the order amount in the ruleset's base currency"),
    Field("customer.lifetime_value.base", "decimal", "the lifetime value in the ruleset's base currency"),
    Field("failure.amount_at_stake.base", "decimal", "the amount at stake in the ruleset's base currency"),
)
BASE_OF = {"order.amount.base": "order.amount.amount",
           "customer.lifetime_value.base": "customer.lifetime_value.amount",
           "failure.amount_at_stake.base": "failure.amount_at_stake.amount"}

BY_PATH: dict[str, Field] = {field.path: field for field in FIELDS}

#: The tier's rank (position in the tier catalogue), used by at_least / at_most.
TIER_RANK_PATH = "customer.tier#rank"

#: Operators a rule may write, by field kind.
COMMON_OPERATORS = ("eq", "ne", "in", "not_in", "present")
NUMERIC_OPERATORS = ("gt", "gte", "lt", "lte", "between")
ORDERED_OPERATORS = ("at_least", "at_most")


def operators_for(field: Field) -> tuple[str, ...]:
    ops = COMMON_OPERATORS
    if field.kind in ("int", "decimal"):
        ops += NUMERIC_OPERATORS
    if field.ordered:
        ops += ORDERED_OPERATORS
    return ops


ALL_OPERATORS = COMMON_OPERATORS + NUMERIC_OPERATORS + ORDERED_OPERATORS


def _short(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(97 + remainder) + letters
    return letters


@dataclass(frozen=True)
class Vocabulary:
    """The fields one ruleset's conditions may test, their layout order and engine keys."""

    fields: Mapping[str, Field]
    order: Mapping[str, int] = dataclass_field(repr=False)
    #: Fact keys: a letter or two per field (upper case for facts). The engine serialises
    #: the fact into every action it starts, so short keys make an evaluation cheaper.
    keys: Mapping[str, str] = dataclass_field(repr=False)

    @classmethod
    def build(cls, extra: Iterable[Field] = ()) -> "Vocabulary":
        extra = tuple(extra)
        fields = {field.path: field for field in FIELDS + extra}
        order = {path: index for index, path in enumerate(fields)}
        order[TIER_RANK_PATH] = order["customer.tier"]
        keys = {field.path: _short(index) for index, field in enumerate(FIELDS)}
        keys[TIER_RANK_PATH] = _short(len(FIELDS))
        keys.update({field.path: _short(index).upper() for index, field in enumerate(extra)})
        return cls(fields, order, keys)

    def get(self, path: str) -> Field | None:
        return self.fields.get(path)

    def always(self, path: str) -> bool:
        field = self.fields.get(path)
        return path == TIER_RANK_PATH or (field is not None and field.always)

    def integral(self, path: str) -> bool:
        field = self.fields.get(path)
        return path == TIER_RANK_PATH or (field is not None and field.kind == "int")


#: The vocabulary of a ruleset that declares no facts and no base currency.
STATIC = Vocabulary.build()
