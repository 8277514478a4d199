"""The vocabulary rules are written in: every event field a `when` can test.

Rules are type-checked against this list when they load (rule-engine style), so a
misspelt field or a value of the wrong type fails at load time, never at 3 a.m.
The order of `FIELDS` is also the order in which the compiler lays conditions into
the Rete network (most shared first), so keep low-cardinality fields near the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "enum", "int", "decimal", "bool"]

CATEGORIES = ("outcome", "process")
FAILURE_KINDS = ("money", "product", "service", "time", "attention", "information")
ROOT_CAUSES = ("provider", "customer", "third_party", "unknown")
CUSTOMER_REQUESTS = ("refund", "credit", "discount", "replacement", "apology")
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
    minimum: int | None = None
    maximum: int | None = None


FIELDS: tuple[Field, ...] = (
    Field("failure.root_cause", "enum", "who caused the failure", values=ROOT_CAUSES, always=True),
    Field("failure.category", "enum", "outcome (core service not delivered) or process (delivered badly); "
          "filled from the catalogue when the event leaves it out", values=CATEGORIES, always=True),
    Field("failure.kind", "enum", "what the customer lost, from the catalogue (money, product, service, time, "
          "attention, information); absent for a type the catalogue does not know", values=FAILURE_KINDS),
    Field("failure.recurring", "bool", "the customer met the same failure before (a stable cause)", always=True),
    Field("failure.type", "enum", "the failure type slug", catalogue="failure_types", always=True),
    Field("customer.tier", "enum", "the customer's tier; `at_least`/`at_most` compare by catalogue order",
          catalogue="tiers", ordered=True, always=True),
    Field("order.amount.currency", "enum", "the order's currency", catalogue="currencies"),
    Field("customer.lifetime_value.currency", "enum", "the lifetime value's currency", catalogue="currencies"),
    Field("context.customer_request", "enum", "what the customer asked for", values=CUSTOMER_REQUESTS),
    Field("context.channel", "enum", "where the customer complained", catalogue="channels"),
    Field("failure.severity", "int", "1 minor annoyance .. 5 total loss, safety or legal exposure",
          always=True, minimum=1, maximum=5),
    Field("customer.prior_recoveries_90d", "int", "recoveries the customer already had in 90 days",
          always=True, minimum=0),
    Field("context.minutes_since_report", "int", "minutes since the customer reported the failure", minimum=0),
    Field("order.amount.amount", "decimal", "the order amount (compare together with its currency)"),
    Field("customer.lifetime_value.amount", "decimal", "the customer's lifetime value (compare with its currency)"),
    Field("event_id", "text", "the caller's event id"),
    Field("failure.description", "text", "free text from the caller"),
    Field("customer.id", "text", "the caller's customer id"),
    Field("order.id", "text", "the caller's order id"),
)

BY_PATH: dict[str, Field] = {field.path: field for field in FIELDS}
ORDER: dict[str, int] = {field.path: index for index, field in enumerate(FIELDS)}

#: The tier's rank (position in the tier catalogue), used by at_least / at_most.
TIER_RANK_PATH = "customer.tier#rank"
ORDER[TIER_RANK_PATH] = ORDER["customer.tier"]

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
