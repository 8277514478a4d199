"""The rules-file format: what one YAML file under `rules/` may contain.

Every top-level `*.yaml` file in a rules directory follows `RulesFile`. Exactly one
file carries the `ruleset` header; `catalogues`, `combine`, `limits` and `costing`
appear at most once across the files; `rules` may be spread over many files.
`rules/schema.json` is generated from these models (`json_schema()`), with the
`when` grammar spelled out from the vocabulary so editors can complete field names.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema,
                      field_validator, model_validator)

from .. import money, numbers
from . import vocabulary as vocab
from .vocabulary import STAFF_LEVELS

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RULE_ID = r"^[a-z0-9][a-z0-9._-]{0,79}$"
FACT_NAME = r"^[a-z][a-z0-9_]{0,63}$"
LOCALE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"

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


def _complete(value: dict[str, Decimal], info: ValidationInfo) -> dict[str, Decimal]:
    """Amounts by currency; with a declared rate table (passed as validation context),
    the currencies left out are converted from the base currency's amount."""
    if not value:
        raise ValueError("give an amount for at least one currency")
    for code, amount in value.items():
        places = money.minor_unit(code)
        if places is None:
            raise ValueError(f"{code!r} is not an ISO 4217 currency code with a minor unit")
        if money.places_of(amount) > places:
            raise ValueError(f"{amount} {code} has more decimal places than {code} allows ({places})")
    written = {code: money.normalize(amount, code) for code, amount in value.items()}
    table = (info.context or {}).get("currency") if info is not None else None
    if table is not None:
        return table.complete(written)
    return written


PerCurrency = Annotated[dict[str, Amount], AfterValidator(_complete),
                        Field(description='amounts by ISO 4217 currency, e.g. {EUR: "10.00", USD: "11.00"}; with '
                                          'a `currency` rate table, the base currency alone is enough')]
Rate = Annotated[Decimal, BeforeValidator(_decimal), Field(gt=0, lt=money.MAX_AMOUNT, allow_inf_nan=False),
                 WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                                           {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,8})?$"}],
                                 "description": "units of this currency for one unit of the base currency"})]
Factor = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, le=10, decimal_places=3, allow_inf_nan=False),
                   WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 10},
                                             {"type": "string", "pattern": r"^\d{1,2}(\.\d{1,3})?$"}],
                                   "description": "a factor, e.g. 1.5"})]
Number = Annotated[Decimal, BeforeValidator(_decimal), Field(allow_inf_nan=False, ge=-money.MAX_AMOUNT,
                                                             le=money.MAX_AMOUNT),
                   WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string",
                                                                 "pattern": r"^-?\d{1,13}(\.\d{1,6})?$"}],
                                   "description": "a number"})]
FactName = Annotated[str, Field(pattern=FACT_NAME)]


class Meta(_Model):
    name: str = Field(pattern=SLUG)
    """The ruleset's name, reported with every decision."""
    version: str = Field(min_length=1, max_length=64)
    """A version label for people (quote it: "2026.11.1"); the digest identifies the exact content."""
    description: Prose | None = None
    include: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=8)
    """Rules directories whose rules, facts, failure types and alternatives join this ruleset (a policy pack:
    `packs/eu261`), relative to this directory. This ruleset's header, limits, combining, costing and
    currencies apply to all of them."""


class FailureType(_Model):
    category: Literal["outcome", "process"]
    """outcome: the core service was not delivered; process: it was delivered badly."""
    kind: Literal["money", "product", "service", "time", "attention", "information"]
    """What the customer lost; remedies match it in kind (Roschk & Gelbrich 2014)."""
    value_received: Literal["none", "partial", "full"] | None = None
    """What the customer usually still gets from the service when this fails (events may say otherwise)."""
    description: str | None = None


class Catalogues(_Model):
    failure_types: dict[Annotated[str, Field(pattern=SLUG)], FailureType] = Field(min_length=1)
    """Known failure types and their category."""
    tiers: list[Annotated[str, Field(pattern=SLUG)]] = Field(min_length=1)
    """Customer tiers, lowest first; an event without a tier gets the first."""
    currencies: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = Field(default_factory=list)
    """Currencies the ruleset decides in; other currencies are refused (422). Leave it out with a `currency`
    rate table: the base currency and every rated one."""
    channels: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list)
    """Complaint channels rules may name (open set: events may carry others)."""
    approval_levels: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=lambda: list(STAFF_LEVELS), min_length=3)
    """Who may approve, lowest first: the first level is the frontline (no approval needed)."""

    @field_validator("tiers", "currencies", "channels", "approval_levels")
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

    @field_validator("approval_levels")
    @classmethod
    def _levels(cls, values: list[str]) -> list[str]:
        if values[:3] != list(STAFF_LEVELS):
            raise ValueError("approval levels start with agent, supervisor, manager; add higher levels after them")
        return values


class FactDecl(_Model):
    """A fact the ruleset's rules may read: events carry it under `facts`."""

    type: Literal["integer", "number", "boolean", "slug", "money", "text"]
    """integer, number (decimal), boolean, slug (one of `values`), money (in the decision's currency), text."""
    description: Prose = Field(min_length=3, max_length=500)
    """What the fact means, for integrators and agents (shown by GET /v1/ruleset)."""
    minimum: Number | None = None
    """Smallest value an event may give (integer and number facts)."""
    maximum: Number | None = None
    """Largest value an event may give (integer and number facts)."""
    values: list[Annotated[str, Field(pattern=SLUG)]] | None = None
    """The values a slug fact takes."""
    max_length: int = Field(default=200, ge=1, le=2000)
    """Longest text a text fact takes."""
    default: Any = None
    """The value when the event leaves the fact out (not for money)."""
    required_for: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list)
    """Failure types for which an event must carry this fact (else 422 naming it); `*` for every type."""

    @model_validator(mode="after")
    def _shape(self) -> "FactDecl":
        if self.type == "slug" and not self.values:
            raise ValueError("a slug fact lists its `values`")
        if self.type != "slug" and self.values is not None:
            raise ValueError("only slug facts take `values`")
        if self.type not in ("integer", "number") and (self.minimum is not None or self.maximum is not None):
            raise ValueError("only integer and number facts take `minimum` and `maximum`")
        if self.type == "integer":
            for bound in (self.minimum, self.maximum):
                if bound is not None and bound != bound.to_integral_value():
                    raise ValueError("an integer fact's bounds are whole numbers")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        if self.type == "money" and self.default is not None:
            raise ValueError("a money fact has no default")
        return self


class CurrencyTable(_Model):
    """Amounts written once, in the base currency, and converted for the other currencies."""

    base: str = Field(pattern=r"^[A-Z]{3}$")
    """The currency amounts are written in."""
    rates: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Rate] = Field(default_factory=dict)
    """Units of each other currency for one unit of the base currency."""
    round_to: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Amount] = Field(default_factory=dict)
    """Converted amounts are rounded (half up) to a multiple of this step; default the minor unit."""

    @model_validator(mode="after")
    def _codes(self) -> "CurrencyTable":
        for code in [self.base, *self.rates, *self.round_to]:
            if money.minor_unit(code) is None:
                raise ValueError(f"{code!r} is not an ISO 4217 currency code with a minor unit")
        if self.base in self.rates:
            raise ValueError(f"the base currency {self.base} needs no rate")
        for code, step in self.round_to.items():
            if step <= 0 or money.places_of(step) > (money.minor_unit(code) or 0):
                raise ValueError(f"round_to {code} must be a positive amount with at most {code}'s places")
        return self

    @property
    def currencies(self) -> list[str]:
        return [self.base, *self.rates]

    def convert(self, amount: Decimal, currency: str) -> Decimal:
        """A base-currency amount in `currency`, rounded to the declared step."""
        if currency == self.base:
            return amount
        step = self.round_to.get(currency) or money.quantum(currency)
        return (amount * self.rates[currency] / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step

    def to_base(self, amount: Decimal, currency: str) -> Decimal:
        """An amount in `currency` expressed in the base currency (to cents), for conditions."""
        if currency == self.base:
            return amount
        return (amount / self.rates[currency]).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)

    def complete(self, written: dict[str, Decimal]) -> dict[str, Decimal]:
        if self.base not in written:
            return written  # the loader reports the currencies still missing
        out = dict(written)
        for code in self.rates:
            if code not in out:
                out[code] = money.normalize(self.convert(written[self.base], code), code)
        return out


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
    """Goodwill refund and credit plus a replacement's value never exceed this share of the order
    (Haesevoets et al. 2017: about 150%); owed money comes on top and is never trimmed."""


class AmountBoundary(_Model):
    level: str = Field(pattern=SLUG)
    above: PerCurrency
    """Goodwill cost above which this level must approve, per currency."""


class RecoveriesBoundary(_Model):
    level: str = Field(pattern=SLUG)
    at_least: int = Field(ge=1)
    """Prior recoveries in 90 days from which this level must approve."""


class Approval(_Model):
    by_amount: list[AmountBoundary] = Field(default_factory=list)
    by_prior_recoveries: list[RecoveriesBoundary] = Field(default_factory=list)


class Limits(_Model):
    """The empowerment boundaries: what frontline staff may give without approval. They bound goodwill
    only: owed money is never clipped."""

    refund: RefundLimit = RefundLimit()
    credit: CreditLimit = CreditLimit()
    discount: DiscountLimit = DiscountLimit()
    total: TotalLimit | None = None
    approval: Approval = Approval()


class Costing(_Model):
    discount_expected_use_percent: Percent = Decimal(0)
    """Share of a discount's face value expected to be redeemed; counts into estimated_cost."""
    discount_basis_max: PerCurrency | None = None
    """A discount applies to a next purchase: its expected value counts at most this much of the order."""


class Alternative(_Model):
    """Remedies that exclude each other (a refund OR a replacement): rules name the one they add to."""

    id: str = Field(pattern=SLUG)
    description: Prose = Field(min_length=3, max_length=300)
    answers: list[Literal["refund", "credit", "discount", "replacement", "apology"]] = Field(default_factory=list)
    """The customer requests (context.customer_request) this alternative honours."""


class FactPercent(_Model):
    fact: FactName
    """A money fact."""
    percent: Percent


class ProRata(_Model):
    """A share of the order (or the amount at stake): part over whole, at most all of it."""

    of: Literal["order", "stake"] = "order"
    part: str | Number
    """A numeric field or fact (`facts.downtime_hours`) or a number."""
    whole: str | Number
    """A numeric field or fact (`facts.billing_period_hours`) or a number."""


class _AmountForms(_Model):
    percent_of_order: Percent | None = None
    """A share of the order amount."""
    percent_of_stake: Percent | None = None
    """A share of the amount at stake (the amount actually wrong; the order amount when the event gives none)."""
    percent_of_fact: FactPercent | None = None
    """A share of a money fact."""
    amount: PerCurrency | None = None
    """A fixed amount."""
    pro_rata: ProRata | None = None
    per: FactName | None = None
    """Multiply by an integer fact (per passenger, per night)."""
    min: PerCurrency | None = None
    """At least this much (also what is given when the base amount is missing, e.g. no order)."""
    max: PerCurrency | None = None
    """At most this much."""

    _FORMS = ("percent_of_order", "percent_of_stake", "percent_of_fact", "amount", "pro_rata")

    def _forms(self) -> list[str]:
        return [name for name in self._FORMS if getattr(self, name) is not None]


class Band(_AmountForms):
    from_: Number = Field(alias="from")
    """The band starts at this value (inclusive) and runs to the next band's start."""

    @model_validator(mode="after")
    def _one(self) -> "Band":
        if len(self._forms()) != 1:
            raise ValueError("give exactly one of " + ", ".join(self._FORMS))
        return self


class Bands(_Model):
    by: str
    """The numeric field or fact the bands are keyed on (`facts.flight_distance_km`)."""
    bands: list[Band] = Field(min_length=1, max_length=50)
    """Rising starts; below the first band nothing is due."""

    @model_validator(mode="after")
    def _rising(self) -> "Bands":
        starts = [band.from_ for band in self.bands]
        if starts != sorted(set(starts)):
            raise ValueError("list the bands with rising `from` values, each once")
        return self


class MoneySpec(_AmountForms):
    table: Bands | None = None
    """An amount looked up by bands of a number (distance, delay)."""

    @model_validator(mode="after")
    def _one(self) -> "MoneySpec":
        forms = self._forms() + (["table"] if self.table is not None else [])
        if len(forms) != 1:
            raise ValueError("give exactly one of " + ", ".join(self._FORMS + ("table",)))
        return self


class RefundSpec(MoneySpec):
    """Money back to the customer's original payment."""


class CreditSpec(MoneySpec):
    """Store credit for a later purchase."""

    expires_in_days: int = Field(default=180, ge=1, le=3650)


class OwedSpec(MoneySpec):
    """Money the customer is owed whatever the goodwill policy: paid in full, never clipped."""

    kind: Literal["restitution", "statutory", "contractual"]
    """restitution: money taken in error; statutory: a law; contractual: an SLA or a published guarantee."""
    basis: Prose = Field(min_length=3, max_length=200)
    """Why it is owed: the article or clause (`EU261 Art. 7(1)(b)`), said to the customer too."""
    pay_as: Literal["refund", "credit"] = "refund"
    """Cash (refund), or a voucher where the law or contract allows one the customer accepted."""
    expires_in_days: int = Field(default=365, ge=1, le=3650)
    """For an owed credit: how long the voucher is valid."""


class DiscountSpec(_Model):
    percent: int = Field(ge=1, le=100)
    valid_days: int = Field(default=60, ge=1, le=3650)


def _replacement(value: Any) -> Any:
    return {"kind": value} if isinstance(value, str) else value


class ReplacementSpec(_Model):
    """A remedy in kind; its value counts in cost, caps and approval."""

    kind: Literal["exchange", "re_performance", "repair"]
    value: MoneySpec | None = None
    """What it costs the firm; default the amount at stake (the order amount when the event gives none)."""


class ApologySpec(_Model):
    level: ApologyLevel
    from_: Level = Field(default="agent", alias="from")


class Unaddressed(_Model):
    """The reason a decision gives when a justice dimension stays unaddressed."""

    distributive: Prose | None = Field(default=None, min_length=1, max_length=300)
    procedural: Prose | None = Field(default=None, min_length=1, max_length=300)
    interactional: Prose | None = Field(default=None, min_length=1, max_length=300)


class AddSpec(_Model):
    """Escalation that adds: applied after combining and multiplying, before the limits."""

    refund: RefundSpec | None = None
    credit: CreditSpec | None = None


class MultiplySpec(_Model):
    """Escalation that multiplies what the other rules give: applied after combining, before adding."""

    refund: Factor | None = None
    credit: Factor | None = None


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class Then(_Model):
    """What a matching rule contributes to the decision."""

    refund: RefundSpec | None = None
    credit: CreditSpec | None = None
    discount: DiscountSpec | None = None
    replacement: Annotated[ReplacementSpec | None, BeforeValidator(_replacement)] = None
    """exchange, re_performance or repair; or {kind, value}."""
    owed: Annotated[list[OwedSpec] | None, BeforeValidator(_listed)] = None
    """Money owed (restitution, statutory, contractual): computed first, never clipped by goodwill limits."""
    alternative: str | None = Field(default=None, pattern=SLUG)
    """This rule's contributions belong to one of the ruleset's alternatives, not to every option."""
    add: AddSpec | None = None
    multiply: MultiplySpec | None = None
    apology: ApologySpec | None = None
    explanation: bool | None = None
    """Explain the cause to the customer, promptly and accurately."""
    respond_within_minutes: int | None = Field(default=None, ge=1, le=10080)
    follow_up_within_hours: int | None = Field(default=None, ge=1, le=720)
    approval: str | None = Field(default=None, pattern=SLUG)
    """Who must approve: one of the catalogue's approval levels."""
    root_cause_review: bool | None = None
    money_back_only: bool | None = None
    """Pay all goodwill money as a refund: no credit, no discount (money failures)."""
    unaddressed_reason: Unaddressed | None = None
    not_assessed: Prose | None = Field(default=None, min_length=3, max_length=300)
    """An entitlement the decision cannot assess from this event, and what the caller should give."""

    @model_validator(mode="after")
    def _not_empty(self) -> "Then":
        if not self.model_fields_set - {"alternative"}:
            raise ValueError("`then` contributes nothing: set at least one of " + ", ".join(Then.model_fields))
        return self


class Rule(_Model):
    id: str = Field(pattern=RULE_ID)
    """Unique across the ruleset; reported in rules_fired."""
    description: Prose = Field(min_length=10, max_length=500)
    """What the rule does and the finding it follows."""
    when: dict[str, Any] | None = None
    """The condition; leave it out for a rule that applies to every event."""
    then: Then


Template = Annotated[str, Field(min_length=1, max_length=2000)]


class ApologyTexts(_Model):
    standard: Template | None = None
    sincere: Template | None = None
    personal: Template | None = None
    customer_caused: Template | None = None
    """Used whatever the level when the customer caused the failure: courteous, no admission of fault."""


class ExplanationTexts(_Model):
    provider: Template | None = None
    customer: Template | None = None
    third_party: Template | None = None
    unknown: Template | None = None


class NoteTexts(_Model):
    """The agent note, line by line; a line is left out when its situation does not arise."""

    header: Template | None = None
    owed: Template | None = None
    not_assessed: Template | None = None
    refund: Template | None = None
    credit: Template | None = None
    discount: Template | None = None
    replacement: Template | None = None
    alternatives: Template | None = None
    no_compensation: Template | None = None
    apology: Template | None = None
    respond: Template | None = None
    follow_up: Template | None = None
    approval: Template | None = None
    offer_now: Template | None = None
    no_approval: Template | None = None
    review: Template | None = None
    footer: Template | None = None


class LocaleTexts(_Model):
    failure_types: dict[Annotated[str, Field(pattern=SLUG)], Template] = Field(default_factory=dict)
    """How each failure type is named in this language (default: the type, spaced)."""
    replacements: dict[Literal["exchange", "re_performance", "repair"], Template] = Field(default_factory=dict)
    levels: dict[Annotated[str, Field(pattern=SLUG)], Template] = Field(default_factory=dict)
    """How each staff level is named in this language."""
    owed_kinds: dict[Literal["restitution", "statutory", "contractual"], Template] = Field(default_factory=dict)
    """How each kind of owed money is named in this language."""
    alternatives: dict[Annotated[str, Field(pattern=SLUG)], Template] = Field(default_factory=dict)
    """How each alternative is described in this language (default: its description)."""
    apology: ApologyTexts = ApologyTexts()
    explanation: ExplanationTexts = ExplanationTexts()
    agent_note: NoteTexts = NoteTexts()


class Messages(_Model):
    """Texts an agent (or an AI agent) can use, per locale, with {placeholders} filled per decision."""

    default_locale: str = Field(pattern=LOCALE)
    locales: dict[Annotated[str, Field(pattern=LOCALE)], LocaleTexts] = Field(min_length=1)


class Profile(_Model):
    """Stricter limits for one kind of caller, e.g. `ai_agent` for AI support agents (the caller's API key
    picks it). What the customer is owed and what the mix holds do not change; what this caller may give
    on its own, before a person approves, does."""

    description: Prose = Field(min_length=3, max_length=300)
    frontline_max: PerCurrency | None = None
    """Goodwill (with a discount's expected use and a replacement's value) above this needs approval when
    this caller asks, per currency; lower than the first `by_amount` boundary to be stricter."""
    approval: str = Field("supervisor", pattern=SLUG)
    """Who approves what this caller may not give itself."""
    never_grant: list[Literal["refund", "credit", "discount", "replacement"]] = Field(default_factory=list)
    """Goodwill components this caller never gives itself: they always need approval (owed money never does)."""


class RulesFile(_Model):
    """One YAML file of a rules directory."""

    ruleset: Meta | None = None
    catalogues: Catalogues | None = None
    facts: dict[FactName, FactDecl] | None = None
    currency: CurrencyTable | None = None
    alternatives: list[Alternative] | None = None
    combine: Combine | None = None
    limits: Limits | None = None
    costing: Costing | None = None
    messages: Messages | None = None
    profiles: dict[Annotated[str, Field(pattern=SLUG)], Profile] | None = None
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
    for field in vocab.FIELDS + vocab.BASE_FIELDS:
        properties[field.path] = _field_test_schema(field)
    scalar = {"anyOf": [{"type": "boolean"}, {"type": "number"}, {"type": "string"}]}
    fact_test = {"description": "a fact the ruleset declares under `facts:`",
                 "anyOf": [scalar, {"type": "array", "minItems": 1, "items": scalar},
                           {"type": "object", "minProperties": 1, "additionalProperties": False,
                            "properties": {op: scalar for op in vocab.ALL_OPERATORS if op != "between"}
                            | {"between": {"type": "array", "minItems": 2, "maxItems": 2, "items": scalar},
                               "in": {"type": "array", "minItems": 1, "items": scalar},
                               "not_in": {"type": "array", "minItems": 1, "items": scalar},
                               "present": {"type": "boolean"}}}]}
    return {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": properties,
            "patternProperties": {r"^facts\.[a-z][a-z0-9_]{0,63}$": fact_test},
            "description": "field tests (all must hold) and all/any/not combinations"}


def json_schema() -> dict[str, Any]:
    schema = RulesFile.model_json_schema(by_alias=True)
    schema["$defs"]["Condition"] = condition_schema()
    schema["$defs"]["Rule"]["properties"]["when"] = {"$ref": "#/$defs/Condition",
                                                     "description": Rule.model_fields["when"].description}
    then = schema["$defs"]["Then"]["properties"]
    # The short forms the validators accept: one owed line without a list, a replacement by its kind.
    then["owed"]["anyOf"] = [{"$ref": "#/$defs/OwedSpec"}, {"type": "array", "items": {"$ref": "#/$defs/OwedSpec"}},
                             {"type": "null"}]
    then["replacement"]["anyOf"] = [{"type": "string", "enum": list(vocab.REPLACEMENTS)},
                                    {"$ref": "#/$defs/ReplacementSpec"}, {"type": "null"}]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://service-recovery.invalid/rules/schema.json"
    schema["title"] = "Service recovery rules file"
    return schema
