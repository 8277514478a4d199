"""The decision tools' arguments and results, as pydantic models.

The MCP tools (`service.agents.mcp`) and the function schemas for other frameworks
(`service.agents.functions`) take their JSON Schemas from these models, and they reuse the
wire contract's own models (`FailureEvent`, `Decision`, `Mix`, `OfferNow`, ...), so a tool's
`event` argument is exactly the body `POST /v1/decisions` takes and a tool's decision is
exactly what it answers. Arguments reject unknown fields, like the REST API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..models import (ApprovalOut, CreditOut, CurrencyCode, Decision, DiscountOut, FailureEvent, MoneyOut, Mix,
                      Money, OfferNow, ReplacementOut, RulesetRef)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Result(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------- offers an agent proposes

class CreditOffer(_Args):
    """Store credit the agent proposes."""

    amount: Annotated[Money, Field(description="the credit's amount and currency")]
    expires_in_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None


class DiscountOffer(_Args):
    percent: Annotated[StrictInt, Field(ge=1, le=100, description="percent off the next purchase")]
    valid_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None


class ReplacementOffer(_Args):
    kind: Literal["exchange", "re_performance", "repair"]


class ApologyOffer(_Args):
    """An apology costs nothing: check_offer never refuses one, whatever its level."""

    level: Literal["none", "standard", "sincere", "personal"] = "standard"
    from_: Literal["agent", "supervisor", "manager"] = Field("agent", alias="from")
    explanation: bool = False


class Offer(_Args):
    """What the agent means to give, shaped like a decision's `mix`: leave a component out (or null) to
    offer none of it. Money is in the event's currency, as a decimal string."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    refund: Money | None = None
    credit: Annotated[CreditOffer | None, Field(description="store credit: {amount: {amount, currency}, "
                                                             "expires_in_days}")] = None
    discount: DiscountOffer | None = None
    replacement: ReplacementOffer | None = None
    apology: ApologyOffer | None = None


# --------------------------------------------------------------------------- arguments

class EventArgs(_Args):
    event: Annotated[FailureEvent, Field(description="the failure event, exactly as POST /v1/decisions takes it")]


class CheckOfferArgs(_Args):
    event: Annotated[FailureEvent, Field(description="the failure event, exactly as POST /v1/decisions takes it")]
    offer: Annotated[Offer, Field(description="what the agent proposes to give, shaped like a decision's mix")]


class DescribePolicyArgs(_Args):
    failure_type: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
                                       description="only what this failure type needs")] | None = None


# --------------------------------------------------------------------------- results

ReasonCode = Literal["within-policy", "needs-approval", "over-limit", "not-in-policy", "wrong-replacement",
                     "below-owed", "wrong-currency"]


class Reason(_Result):
    """One finding about the offer; `code` is stable, `message` is for the agent."""

    code: ReasonCode
    component: Literal["refund", "credit", "discount", "replacement"] | None = None
    offered: str | None = None
    allowed: str | None = None
    message: str
    rules: list[str] = Field(default_factory=list)
    """The rules that set what the policy gives for this component (or what is owed)."""
    limits: list[str] = Field(default_factory=list)
    """The limits that clipped it, e.g. `credit.max`."""


class Verdict(_Result):
    """check_offer's answer: allow (the agent may give it now), needs_approval (within policy, but someone must
    approve first), or deny (outside the policy: never give it)."""

    verdict: Literal["allow", "needs_approval", "deny"]
    reasons: list[Reason]
    decided_by: list[str]
    """The rules, limits and approval boundaries behind the verdict, by id."""
    alternative: str | None = None
    """When remedies exclude each other: the option the offer was judged against."""
    largest_allowed: Mix
    """The most the policy gives for this event (this option): offering it never gets a deny."""
    allowed_now: OfferNow
    """What the agent may give without waiting for approval: offering no more than this gets an allow."""
    approval: ApprovalOut
    decision_id: str
    ruleset: RulesetRef
    profile: str


class RecommendResult(_Result):
    decision: Decision
    customer_message: str | None
    """The apology and explanation to send, in the locale the event asked for (null when there is nothing
    to say)."""


class Part(_Result):
    component: str
    value: str
    why: str
    """Words safe to show the customer."""


class Explanation(_Result):
    decision_id: str
    locale: str
    summary: str
    parts: list[Part]
    agent_detail: dict[str, Any]
    """For the agent, not the customer: the rules and limits behind each part, by id."""


class PolicyDescription(_Result):
    ruleset: RulesetRef
    failure_types: dict[str, Any]
    tiers: list[str]
    currencies: list[str]
    facts: dict[str, Any]
    """Facts an event may carry; `required_for` says which failure types need them (ask the customer)."""
    ask_before_deciding: list[str]
    limits: dict[str, Any]
    profiles: dict[str, Any]
    """Caller profiles: stricter limits for some callers (e.g. ai_agent), picked by the caller's key."""
    your_profile: str
    alternatives: list[dict[str, Any]]
    locales: list[str]


__all__ = ["ApprovalOut", "CheckOfferArgs", "CreditOffer", "CreditOut", "CurrencyCode", "DescribePolicyArgs",
           "DiscountOffer", "DiscountOut", "EventArgs", "Explanation", "MoneyOut", "Offer", "Part",
           "PolicyDescription", "Reason", "RecommendResult", "ReplacementOffer", "ReplacementOut", "Verdict"]
