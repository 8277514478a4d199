"""The v1 wire contract (docs/contract.md): request and response models.

Field names here are fixed; the service may add fields, never rename or drop them.
Requests are validated by these models (unknown fields rejected); responses are
built as plain dicts on the hot path and these models describe them in OpenAPI
(the contract tests check that every response validates against the spec).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler, StrictBool, StrictInt,
                      ValidationError, ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError
from pydantic.json_schema import JsonSchemaValue

from . import money, problems, strictjson

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FailureType = Annotated[str, Field(pattern=SLUG_PATTERN, examples=["late_delivery"])]
Tier = Annotated[str, Field(pattern=SLUG_PATTERN, examples=["gold"])]
Channel = Annotated[str, Field(pattern=SLUG_PATTERN, examples=["chat"])]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code", examples=["EUR"])]
Level = Literal["agent", "supervisor", "manager"]
ApprovalLevel = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["supervisor"],
                                     description="agent (no approval needed), supervisor, manager, or a higher "
                                                 "level the ruleset declares")]
Locale = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$", max_length=35,
                              examples=["en", "zh-CN"], description="a BCP 47 language tag")]
FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(_In):
    """An amount with its currency. The amount is a decimal string; a JSON number is accepted."""

    amount: Annotated[Decimal, BeforeValidator(money.parse_amount),
                      Field(ge=0, lt=money.MAX_AMOUNT, allow_inf_nan=False),
                      WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                                                 "exclusiveMaximum": float(money.MAX_AMOUNT)},
                                                {"type": "string", "pattern": money.AMOUNT_PATTERN}],
                                      "examples": ["80.00"], "title": "Amount"})]
    currency: CurrencyCode

    @model_validator(mode="after")
    def _minor_unit(self) -> "Money":
        places = money.minor_unit(self.currency)
        if places is None:
            raise ValueError(f"{self.currency} is not an ISO 4217 currency with a minor unit")
        exponent = self.amount.as_tuple().exponent
        if exponent != -places:  # "80.00" for EUR is already as the contract writes it
            if money.places_of(self.amount) > places:
                raise ValueError(f"{self.currency} amounts have at most {places} decimal places, got {self.amount}")
            object.__setattr__(self, "amount", money.normalize(self.amount, self.currency))
        return self


class Failure(_In):
    type: FailureType
    """The failure type; the ruleset's catalogue maps known types to a category."""
    category: Literal["outcome", "process"] | None = None
    """outcome: core service not delivered; process: delivered badly. Required for an uncatalogued type."""
    severity: Annotated[StrictInt, Field(ge=1, le=5)]
    """1 minor annoyance .. 5 total loss, safety or legal exposure."""
    root_cause: Literal["provider", "customer", "third_party", "unknown"]
    recurring: StrictBool = False
    """The same customer met the same failure before (a stable cause)."""
    description: Annotated[str, Field(max_length=2000)] | None = None
    amount_at_stake: Money | None = None
    """The amount actually wrong (the duplicate charge, the overcharge, the missing lines), in the order's
    currency. Money failures are put right on this amount; default: the order amount."""
    value_received: Literal["none", "partial", "full"] | None = None
    """How much of the service the customer still got; default: the failure type's, from the ruleset."""


class Customer(_In):
    id: Annotated[str, Field(max_length=128)] | None = None
    tier: Tier = "standard"
    """One of the ruleset's tiers."""
    lifetime_value: Money | None = None
    prior_recoveries_90d: Annotated[StrictInt, Field(ge=0, le=100000)] = 0
    """Recoveries the customer had in the last 90 days. Left out, the ledger may fill it (RECOVERY_LEDGER_HISTORY)."""


class Order(_In):
    id: Annotated[str, Field(max_length=128)] | None = None
    amount: Money


class Context(_In):
    channel: Channel | None = None
    minutes_since_report: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = None
    customer_request: Literal["refund", "credit", "discount", "replacement", "apology"] | None = None
    already_done: Annotated[list[Literal["fixed", "apologised", "refunded", "replaced"]],
                            Field(max_length=4)] | None = None
    """What the agent did before asking."""
    locale: Locale | None = None
    """The language of the rendered messages; default the ruleset's."""

    @field_validator("already_done")
    @classmethod
    def _once(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        if len(set(values)) != len(values):
            raise ValueError("list each thing done once")
        return sorted(values)


def _one_fact_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A fact that fits none of the shapes is one error at the fact, not one per shape tried
    (`facts.downtime_hours.bool: Input should be a valid boolean (and 4 more)`)."""
    if isinstance(value, dict):  # money: its own errors name the part (`facts.stake.amount`)
        return Money.model_validate(value)
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "fact_value", "a fact is true or false, a whole number within ±2^53, a number within ±{limit}, "
            "text of at most 2,000 characters, or money as {{amount, currency}}; the ruleset declares its type "
            "(GET /v1/ruleset)", {"limit": f"{money.MAX_AMOUNT:,}"}) from None


FactValue = Annotated[
    StrictBool | Annotated[StrictInt, Field(ge=-2**53, le=2**53)]
    | Annotated[Decimal, Field(allow_inf_nan=False, ge=-money.MAX_AMOUNT, le=money.MAX_AMOUNT)]
    | Annotated[str, Field(max_length=2000)] | Money,
    WrapValidator(_one_fact_error),
    Field(description="a value of the type the ruleset declares for the fact (GET /v1/ruleset lists them): "
                      "integer, number, boolean, slug, text, or money as {amount, currency}")]


class FailureEvent(_In):
    """A service failure as a CRM or ticketing system reports it."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{
        "event_id": "crm-48213",
        "failure": {"type": "late_delivery", "category": "outcome", "severity": 3, "root_cause": "provider",
                    "recurring": False, "description": "parcel 4 days late"},
        "customer": {"id": "c-1009", "tier": "gold", "lifetime_value": {"amount": "1840.00", "currency": "EUR"},
                     "prior_recoveries_90d": 0},
        "order": {"id": "o-77", "amount": {"amount": "80.00", "currency": "EUR"}},
        "context": {"channel": "chat", "minutes_since_report": 5, "customer_request": "refund"},
    }]})

    event_id: Annotated[str, Field(max_length=128)] | None = None
    """Echoed back in the decision."""
    failure: Failure
    customer: Customer = Field(default_factory=Customer)
    order: Order | None = None
    """Without an order the mix holds no refund."""
    context: Context = Field(default_factory=Context)
    facts: Annotated[dict[FactName, FactValue], Field(max_length=64)] | None = None
    """Facts the live ruleset declares (`GET /v1/ruleset`, `facts`), e.g. {"flight_distance_km": 1840}."""


def event_from_json(body: bytes | str) -> FailureEvent:
    """The one way a JSON failure event is read (routes, CLI, simulator, case tables): numbers
    exactly as written and duplicate keys refused (`strictjson`), then this contract's validation.
    Raises strictjson.JSONRefused (not JSON the service reads) or pydantic.ValidationError."""
    return FailureEvent.model_validate(strictjson.loads(body))


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[dict[str, Any]] = Field(min_length=1, max_length=1000)
    """Up to 1,000 failure events (each a FailureEvent), decided independently and answered in order."""


# --------------------------------------------------------------------------- responses

class _Out(BaseModel):
    """A response model. In the OpenAPI document a field with a default is required, since the service
    always sends it, except the fields a model names in `absent` (sent only when they apply)."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)
    absent: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # In the model's own schema, so the OpenAPI document and the MCP tools' output schemas agree.
        schema = handler(core_schema)
        if handler.mode == "serialization" and cls.absent:
            target = handler.resolve_ref_schema(schema)
            target["required"] = [name for name in target.get("required", []) if name not in cls.absent]
            for name in cls.absent:  # a `default` reads as "always sent" to code generators
                target.get("properties", {}).get(name, {}).pop("default", None)
        return schema


class MoneyOut(_Out):
    amount: str = Field(pattern=r"^\d+(\.\d+)?$", examples=["40.00"])
    currency: CurrencyCode


class CreditOut(MoneyOut):
    expires_in_days: int


class DiscountOut(_Out):
    percent: int
    valid_days: int


class ReplacementOut(_Out):
    kind: Literal["exchange", "re_performance", "repair"]
    value: MoneyOut | None = None
    """What the replacement is worth to the firm; counts in caps and approval."""


class ApologyOut(_Out):
    level: Literal["none", "standard", "sincere", "personal"]
    from_: Level = Field(alias="from")
    explanation: bool


class Mix(_Out):
    refund: MoneyOut | None
    credit: CreditOut | None
    discount: DiscountOut | None
    apology: ApologyOut
    replacement: ReplacementOut | None = None


class Dimension(_Out):
    absent = frozenset({"reason"})
    addressed: bool
    by: list[str] | None = None
    reason: str | None = None


class Procedural(Dimension):
    absent = frozenset({"reason", "by"})  # procedural justice is met by deadlines, never "by" a component
    respond_within_minutes: int | None = None
    follow_up_within_hours: int | None = None


class Justice(_Out):
    distributive: Dimension
    procedural: Procedural
    interactional: Dimension


class OfferNow(_Out):
    """What the frontline may give without waiting for the approver: owed money always, goodwill within the
    frontline boundary."""

    refund: MoneyOut | None = None
    credit: CreditOut | None = None
    discount: DiscountOut | None = None
    replacement: ReplacementOut | None = None


class ApprovalOut(_Out):
    required: bool
    level: Level
    """agent (no approval needed), supervisor or manager; a level the ruleset declares above manager reads
    as manager here and is named in `approver`."""
    approver: ApprovalLevel | None = None
    """Who must approve, as the ruleset names it: agent, supervisor, manager or a higher declared level."""
    reasons: list[str]
    agent_may_offer_now: OfferNow | None = None


class OwedLine(_Out):
    """Money owed whatever the goodwill policy: included in mix.refund (or mix.credit), never clipped."""

    kind: Literal["restitution", "statutory", "contractual"]
    amount: MoneyOut
    basis: str
    """Why it is owed: the duplicate charge, `EU261 Art. 7(1)(b)`, an SLA clause."""
    rule: str
    pay_as: Literal["refund", "credit"] = "refund"


class NotAssessed(_Out):
    """An entitlement the event did not let the service assess, and what to give so it can."""

    rule: str
    what: str
    missing: list[str] = Field(default_factory=list)


class Costs(_Out):
    """What the decision costs the firm: owed money, goodwill (refund, credit, a discount's expected use) and a
    replacement's value. Approval boundaries compare goodwill plus the replacement."""

    owed: MoneyOut
    goodwill: MoneyOut
    replacement: MoneyOut | None = None
    total: MoneyOut


class AlternativeOut(_Out):
    id: str
    description: str
    recommended: bool
    answers_request: bool
    mix: "Mix"
    owed: list[OwedLine]
    estimated_cost: MoneyOut | None
    costs: Costs | None = None
    approval: ApprovalOut


class Messages(_Out):
    """Texts to use with the customer and on the ticket, rendered from the ruleset's templates."""
    absent = frozenset({"requested_locale", "fallback"})

    locale: str
    requested_locale: str | None = None
    fallback: bool = False
    """True when the requested locale has no texts and another one was used."""
    apology: str | None
    explanation: str | None
    agent_note: str


class ProcessRecovery(_Out):
    root_cause_review: bool


class RuleRef(_Out):
    id: str
    description: str


class RulesetRef(_Out):
    name: str
    version: str
    digest: str


class LimitApplied(_Out):
    limit: str
    component: str
    before: str
    after: str
    currency: str | None = None


class HistoryOut(_Out):
    """What the ledger filled in because the caller left it out (RECOVERY_LEDGER_HISTORY)."""

    source: Literal["ledger"]
    available: bool
    """False: the ledger did not answer in time; the event was decided as sent."""
    filled: dict[str, int | bool]
    """Event field -> the value the decision used, e.g. {"customer.prior_recoveries_90d": 2}."""
    window_days: int


class ProfileOut(_Out):
    """The caller profile the decision was made under (its API key picked it); absent: the default limits."""

    name: str
    declared: bool
    """False when the ruleset declares no such profile, so the default limits applied."""


class Decision(_Out):
    absent = frozenset({"history", "explain", "profile"})
    decision_id: str = Field(pattern=r"^dec_[0-9a-f]{32}$")
    event_id: str | None
    ruleset: RulesetRef
    mix: Mix
    estimated_cost: MoneyOut | None
    """refund + credit + the discount's expected value; null when the event names no currency."""
    justice: Justice
    approval: ApprovalOut
    process_recovery: ProcessRecovery
    rules_fired: list[RuleRef]
    limits_applied: list[LimitApplied] = Field(default_factory=list)
    owed: list[OwedLine] = Field(default_factory=list)
    not_assessed: list[NotAssessed] = Field(default_factory=list)
    alternatives: list[AlternativeOut] = Field(default_factory=list)
    """When remedies exclude each other (a refund OR a replacement): every option; `mix` is the recommended one."""
    costs: Costs | None = None
    messages: Messages | None = None
    history: HistoryOut | None = None
    """Present when the ledger filled history fields the caller left out."""
    explain: dict[str, Any] | None = None
    profile: ProfileOut | None = None
    """Present when the caller's key picks a profile (e.g. `ai_agent`), which may need approval sooner."""


class ProblemError(_Out):
    loc: list[str | int]
    msg: str


class Problem(_Out):
    """RFC 9457 problem details."""
    absent = frozenset({"errors"})

    type: str
    title: str
    status: int
    detail: str
    code: Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(problems.CODES), "title": "Code",
                                         "description": "stable: what went wrong, for a program to branch on"})]
    errors: list[ProblemError] | None = None
    """Validation errors only: each place that is wrong and why."""


class BatchItem(_Out):
    absent = frozenset({"decision", "problem"})
    index: int
    status: int
    decision: Decision | None = None
    problem: Problem | None = None


class BatchResponse(_Out):
    results: list[BatchItem]
    decided: int
    rejected: int
