"""The rules-file format: what one YAML file under `rules/` may contain.

Every top-level `*.yaml` file in a rules directory follows `RulesFile`. Exactly one
file carries the `ruleset` header; `catalogues`, `combine`, `limits` and `costing`
appear at most once across the files; `rules` may be spread over many files.
`rules/schema.json` is generated from these models (`json_schema()`), with the
`when` grammar spelled out from the vocabulary so editors can complete field names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator,
                      model_validator)

from .. import money, numbers
from . import vocabulary as vocab

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RULE_ID = r"^[a-z0-9][a-z0-9._-]{0,79}$"

Level = Literal["agent", "supervisor", "manager"]
ApologyLevel = Literal["none", "standard", "sincere", "personal"]


def _prose(value: Any) -> Any:
    """Folded YAML text keeps a trailing newline and line breaks: one line of prose."""
    return " ".join(value.split()) if isinstance(value, str) else value


Prose = Annotated[str, BeforeValidator(_prose)]


def _decimal(value: Any) -> Any:
    """Numbers in rules files are read as on every route (`service.numbers`): YAML's 10.5 keeps
    its written digits, and text such as "8_0.00" or "+10" is refused."""
    if isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool):
        try:
            return numbers.decimal_of(value)
        except numbers.NotANumber as exc:
            raise ValueError(str(exc)) from None
    return value


Amount = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, lt=money.MAX_AMOUNT, allow_inf_nan=False),
                   WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0},
                                             {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,4})?$"}],
                                   "description": 'an amount, best quoted: "10.00"'})]
Percent = Annotated[Decimal, BeforeValidator(_decimal),
                    Field(ge=0, le=1000, decimal_places=2, allow_inf_nan=False),
                    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1000},
                                              {"type": "string", "pattern": r"^\d{1,4}(\.\d{1,2})?$"}],
                                    "description": "a percentage, e.g. 50 or 12.5"})]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True,
                              populate_by_name=True)


def _check_per_currency(value: dict[str, Decimal]) -> dict[str, Decimal]:
    if not value:
        raise ValueError("give an amount for at least one currency")
    for code, amount in value.items():
        places = money.minor_unit(code)
        if places is None:
            raise ValueError(f"{code!r} is not an ISO 4217 currency code with a minor unit")
        if money.places_of(amount) > places:
            raise ValueError(f"{amount} {code} has more decimal places than {code} allows ({places})")
    return {code: money.normalize(amount, code) for code, amount in value.items()}


PerCurrency = Annotated[dict[str, Amount], AfterValidator(_check_per_currency),
                        Field(description='amounts by ISO 4217 currency, e.g. {EUR: "10.00", USD: "11.00"}')]


class Meta(_Model):
    name: str = Field(pattern=SLUG)
    """The ruleset's name, reported with every decision."""
    version: str = Field(min_length=1, max_length=64)
    """A version label for people (quote it: "2026.11.1"); the digest identifies the exact content."""
    description: Prose | None = None


class FailureType(_Model):
    category: Literal["outcome", "process"]
    """outcome: the core service was not delivered; process: it was delivered badly."""
    kind: Literal["money", "product", "service", "time", "attention", "information"]
    """What the customer lost; remedies match it in kind (Roschk & Gelbrich 2014)."""
    description: str | None = None


class Catalogues(_Model):
    failure_types: dict[Annotated[str, Field(pattern=SLUG)], FailureType] = Field(min_length=1)
    """Known failure types and their category."""
    tiers: list[Annotated[str, Field(pattern=SLUG)]] = Field(min_length=1)
    """Customer tiers, lowest first; an event without a tier gets the first."""
    currencies: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = Field(min_length=1)
    """Currencies the ruleset has amounts and boundaries for; other currencies are refused (422)."""
    channels: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list)
    """Complaint channels rules may name (open set: events may carry others)."""

    @field_validator("tiers", "currencies", "channels")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        seen = set()
        for value in values:
            if value in seen:
                raise ValueError(f"{value!r} is listed twice")
            seen.add(value)
        return values

    @field_validator("currencies")
    @classmethod
    def _iso(cls, values: list[str]) -> list[str]:
        for value in values:
            if money.minor_unit(value) is None:
                raise ValueError(f"{value!r} is not an ISO 4217 currency code with a minor unit")
        return values


class Combine(_Model):
    """How the contributions of every matching rule combine into one mix."""

    refund: Literal["largest", "sum"] = "largest"
    credit: Literal["largest", "sum"] = "largest"
    discount: Literal["largest"] = "largest"
    apology: Literal["highest"] = "highest"
    respond_within_minutes: Literal["shortest"] = "shortest"
    follow_up_within_hours: Literal["shortest"] = "shortest"
    approval: Literal["highest"] = "highest"


class RefundLimit(_Model):
    max_percent_of_order: Percent = Decimal(100)


class CreditLimit(_Model):
    max_percent_of_order: Percent | None = None
    max: PerCurrency | None = None



class DiscountLimit(_Model):
    max_percent: int = Field(default=100, ge=0, le=100)


class TotalLimit(_Model):
    max_percent_of_order: Percent
    """Refund plus credit never exceed this share of the order (Haesevoets et al. 2017: about 150%)."""


class AmountBoundary(_Model):
    level: Level
    above: PerCurrency
    """Estimated cost above which this level must approve, per currency."""



class RecoveriesBoundary(_Model):
    level: Level
    at_least: int = Field(ge=1)
    """Prior recoveries in 90 days from which this level must approve."""


class Approval(_Model):
    by_amount: list[AmountBoundary] = Field(default_factory=list)
    by_prior_recoveries: list[RecoveriesBoundary] = Field(default_factory=list)


class Limits(_Model):
    """The empowerment boundaries: what frontline staff may give without approval."""

    refund: RefundLimit = RefundLimit()
    credit: CreditLimit = CreditLimit()
    discount: DiscountLimit = DiscountLimit()
    total: TotalLimit | None = None
    approval: Approval = Approval()


class Costing(_Model):
    discount_expected_use_percent: Percent = Decimal(0)
    """Share of a discount's face value expected to be redeemed; counts into estimated_cost."""


class MoneySpec(_Model):
    percent_of_order: Percent | None = None
    amount: PerCurrency | None = None


    @model_validator(mode="after")
    def _one(self) -> "MoneySpec":
        if (self.percent_of_order is None) == (self.amount is None):
            raise ValueError("give exactly one of percent_of_order or amount")
        return self


class RefundSpec(MoneySpec):
    """Money back to the customer's original payment."""


class CreditSpec(MoneySpec):
    """Store credit for a later purchase."""

    expires_in_days: int = Field(default=180, ge=1, le=3650)


class DiscountSpec(_Model):
    percent: int = Field(ge=1, le=100)
    valid_days: int = Field(default=60, ge=1, le=3650)


class ApologySpec(_Model):
    level: ApologyLevel
    from_: Level = Field(default="agent", alias="from")


class Unaddressed(_Model):
    """The reason a decision gives when a justice dimension stays unaddressed."""

    distributive: Prose | None = Field(default=None, min_length=1, max_length=300)
    procedural: Prose | None = Field(default=None, min_length=1, max_length=300)
    interactional: Prose | None = Field(default=None, min_length=1, max_length=300)


class Then(_Model):
    """What a matching rule contributes to the decision."""

    refund: RefundSpec | None = None
    credit: CreditSpec | None = None
    discount: DiscountSpec | None = None
    replacement: Literal["exchange", "re_performance", "repair"] | None = None
    apology: ApologySpec | None = None
    explanation: bool | None = None
    """Explain the cause to the customer, promptly and accurately."""
    respond_within_minutes: int | None = Field(default=None, ge=1, le=10080)
    follow_up_within_hours: int | None = Field(default=None, ge=1, le=720)
    approval: Level | None = None
    root_cause_review: bool | None = None
    money_back_only: bool | None = None
    """Pay all monetary compensation as a refund: no credit, no discount (money failures)."""
    unaddressed_reason: Unaddressed | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "Then":
        if not self.model_fields_set:
            raise ValueError("`then` contributes nothing: set at least one of " + ", ".join(Then.model_fields))
        return self


class Rule(_Model):
    id: str = Field(pattern=RULE_ID)
    """Unique across the ruleset; reported in rules_fired."""
    description: Prose = Field(min_length=10, max_length=500)
    """What the rule does and the finding of DOMAIN.md it follows."""
    when: dict[str, Any] | None = None
    """The condition; leave it out for a rule that applies to every event."""
    then: Then


class RulesFile(_Model):
    """One YAML file of a rules directory."""

    ruleset: Meta | None = None
    catalogues: Catalogues | None = None
    combine: Combine | None = None
    limits: Limits | None = None
    costing: Costing | None = None
    rules: list[Rule] = Field(default_factory=list)


# --------------------------------------------------------------------------- JSON Schema

def _value_schema(field: vocab.Field) -> dict[str, Any]:
    if field.kind == "bool":
        return {"type": "boolean"}
    if field.kind == "int":
        schema: dict[str, Any] = {"type": "integer"}
        if field.minimum is not None:
            schema["minimum"] = field.minimum
        if field.maximum is not None:
            schema["maximum"] = field.maximum
        return schema
    if field.kind == "decimal":
        return {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\d+(\.\d+)?$"}]}
    if field.values:
        return {"type": "string", "enum": list(field.values)}
    return {"type": "string"}


def _field_test_schema(field: vocab.Field) -> dict[str, Any]:
    value = _value_schema(field)
    listed = {"type": "array", "minItems": 1, "items": value}
    ops: dict[str, Any] = {"eq": value, "ne": value, "in": listed, "not_in": listed,
                           "present": {"type": "boolean"}}
    if field.kind in ("int", "decimal"):
        ops.update({"gt": value, "gte": value, "lt": value, "lte": value,
                    "between": {"type": "array", "minItems": 2, "maxItems": 2, "items": value}})
    if field.ordered:
        ops.update({"at_least": value, "at_most": value})
    return {
        "description": field.doc,
        "anyOf": [value, listed, {"type": "object", "minProperties": 1, "additionalProperties": False,
                                  "properties": ops}],
    }


def condition_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Condition"},
                "description": "every condition holds"},
        "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Condition"},
                "description": "at least one condition holds"},
        "not": {"$ref": "#/$defs/Condition", "description": "the condition does not hold"},
    }
    for field in vocab.FIELDS:
        properties[field.path] = _field_test_schema(field)
    return {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": properties,
            "description": "field tests (all must hold) and all/any/not combinations"}


def json_schema() -> dict[str, Any]:
    schema = RulesFile.model_json_schema(by_alias=True)
    schema["$defs"]["Condition"] = condition_schema()
    schema["$defs"]["Rule"]["properties"]["when"] = {"$ref": "#/$defs/Condition",
                                                     "description": Rule.model_fields["when"].description}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://service-recovery.invalid/rules/schema.json"
    schema["title"] = "Service recovery rules file"
    return schema
