"""The decision tools an AI agent calls: plain functions over `decide()`, one table of them.

The MCP server (`service.agents.server`) and `recovery tools --format` both read `TOOLS`,
so every framework sees the same names, descriptions and schemas. Each tool takes the live
snapshot, its validated arguments and the caller, and returns the structured result (a
dict matching its result model) and the text an LLM reads. None of them computes money:
amounts come from the decision.

All four are read-only and idempotent: deciding is pure (no clock, no I/O), so calling a
tool twice with the same arguments under the same ruleset revision gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import orjson
from pydantic import BaseModel

from ..engine import facts as facts_module
from ..engine.registry import Snapshot
from ..recovery.decide import decide
from ..recovery.messages import renderer
from . import offers
from .models import (CheckOfferArgs, DescribePolicyArgs, EventArgs, Explanation, PolicyDescription,
                     RecommendResult, Verdict)
from .profiles import Caller

Run = Callable[[Snapshot, Any, Caller], tuple[dict[str, Any], str]]


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    arguments: type[BaseModel]
    result: type[BaseModel]
    run: Run
    read_only: bool = True
    idempotent: bool = True


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def customer_message(decision: dict[str, Any]) -> str | None:
    messages = decision.get("messages") or {}
    parts = [text for text in (messages.get("apology"), messages.get("explanation")) if text]
    return " ".join(parts) or None


def recommend_recovery(snapshot: Snapshot, args: EventArgs, caller: Caller) -> tuple[dict[str, Any], str]:
    decision = decide(snapshot, args.event, **caller.decide_options())
    message = customer_message(decision)
    note = decision["messages"]["agent_note"]
    text = (f"Customer message ({decision['messages']['locale']}): {message}\n\n" if message else "") + \
        f"Agent note:\n{note}\n\nDecision: {_json(decision)}"
    return {"decision": decision, "customer_message": message}, text


def check_offer(snapshot: Snapshot, args: CheckOfferArgs, caller: Caller) -> tuple[dict[str, Any], str]:
    verdict = offers.check_offer(snapshot, args.event, args.offer, caller)
    lines = [f"Verdict: {verdict['verdict']}"] + [f"- {reason['code']}: {reason['message']}"
                                                  for reason in verdict["reasons"]]
    lines.append(f"Largest allowed offer: {_json(verdict['largest_allowed'])}")
    lines.append(f"Allowed now, without approval: {_json(verdict['allowed_now'])}")
    return verdict, "\n".join(lines)


def _label(snapshot: Snapshot, locale: str, failure_type: str) -> str:
    texts = renderer(snapshot.ruleset).texts.get(locale)
    return texts.label("failure_types", failure_type) if texts is not None else failure_type.replace("_", " ")


def _money(value: dict[str, Any]) -> str:
    return f"{value['amount']} {value['currency']}"


def explain_decision(snapshot: Snapshot, args: EventArgs, caller: Caller) -> tuple[dict[str, Any], str]:
    decision = decide(snapshot, args.event, explain=True, **caller.decide_options())
    messages = decision["messages"]
    failure = _label(snapshot, messages["locale"], args.event.failure.type)
    mix = decision["mix"]
    components = decision["explain"]["components"]
    clipped = {limit["component"] for limit in decision["limits_applied"]}
    parts: list[dict[str, Any]] = []
    for name in ("refund", "credit"):
        given = mix[name]
        if given is None:
            continue
        owed = [line for line in decision["owed"] if line.get("pay_as", "refund") == name]
        reasons = [f"{_money(line['amount'])} is owed to you ({line['basis']})" for line in owed]
        if components.get(name, {}).get("set_by"):
            reasons.append(f"goodwill for the {failure}" + (", the most our policy gives in this case"
                                                             if name in clipped else ""))
        if name == "credit" and given.get("expires_in_days"):
            reasons.append(f"usable for {given['expires_in_days']} days")
        parts.append({"component": name, "value": _money(given), "why": "; ".join(reasons) or f"for the {failure}"})
    if mix["discount"] is not None:
        discount = mix["discount"]
        parts.append({"component": "discount", "value": f"{discount['percent']}%",
                      "why": f"{discount['percent']}% off your next order, valid {discount['valid_days']} days, "
                             f"to make up for the {failure}"})
    if mix.get("replacement") is not None:
        kind = mix["replacement"]["kind"].replace("_", "-")
        parts.append({"component": "replacement", "value": kind,
                      "why": f"a {kind} puts the {failure} right in kind"})
    if mix["apology"]["level"] != "none":
        parts.append({"component": "apology", "value": mix["apology"]["level"],
                      "why": messages.get("apology") or f"we are sorry about the {failure}"})
    distributive = decision["justice"]["distributive"]
    summary = messages.get("explanation") or messages.get("apology") or ""
    if not distributive["addressed"]:
        summary = (summary + " " if summary else "") + f"No compensation is due: {distributive['reason']}."
    if decision["approval"]["required"]:
        summary += f" A {decision['approval']['level']} will confirm this before it is final."
    detail = {"rules_fired": [rule["id"] for rule in decision["rules_fired"]], "components": components,
              "limits_applied": decision["limits_applied"], "approval": decision["approval"],
              "owed": decision["owed"]}
    result = {"decision_id": decision["decision_id"], "locale": messages["locale"], "summary": summary.strip(),
              "parts": parts, "agent_detail": detail}
    text = result["summary"] + "\n" + "\n".join(f"- {part['component']} {part['value']}: {part['why']}"
                                                for part in parts)
    return result, text


def describe_policy(snapshot: Snapshot, args: DescribePolicyArgs, caller: Caller) -> tuple[dict[str, Any], str]:
    ruleset = snapshot.ruleset
    catalogues = ruleset.catalogues
    types = catalogues.failure_types
    if args.failure_type is not None:
        types = {name: spec for name, spec in types.items() if name == args.failure_type}

    def needed_for(fact: Any, failure_type: str) -> bool:
        return "*" in fact.required_for or failure_type in fact.required_for

    facts = {name: {"type": fact.type, "description": fact.description, "expects": facts_module.describe(fact),
                    "required_for": list(fact.required_for)}
             for name, fact in ruleset.facts.items()
             if args.failure_type is None or needed_for(fact, args.failure_type) or not fact.required_for}
    ask = ["failure.type (one of failure_types)", "failure.severity (1 minor .. 5 total loss or safety)",
           "failure.root_cause (provider, customer, third_party or unknown)", "customer.tier",
           "order.amount (without it no refund can be given)",
           "customer.prior_recoveries_90d (recoveries in the last 90 days)"]
    for name, fact in ruleset.facts.items():
        if fact.required_for and (args.failure_type is None or needed_for(fact, args.failure_type)):
            ask.append(f"facts.{name}: {fact.description} (needed for {', '.join(fact.required_for)})")
    result = {
        "ruleset": {"name": ruleset.meta.name, "version": ruleset.meta.version, "digest": ruleset.digest},
        "failure_types": {name: spec.model_dump(mode="json", exclude_none=True) for name, spec in types.items()},
        "tiers": list(catalogues.tiers),
        "currencies": list(catalogues.currencies),
        "facts": facts,
        "ask_before_deciding": ask,
        "limits": ruleset.limits.model_dump(mode="json", exclude_none=True),
        "profiles": {name: profile.model_dump(mode="json", exclude_none=True)
                     for name, profile in ruleset.profiles.items()},
        "your_profile": caller.profile,
        "alternatives": [alternative.model_dump(mode="json") for alternative in ruleset.alternatives],
        "locales": list(ruleset.messages.locales) if ruleset.messages else ["en"],
    }
    text = (f"Ruleset {ruleset.meta.name} {ruleset.meta.version}. Failure types: {', '.join(types)}. "
            f"Ask the customer before deciding:\n" + "\n".join(f"- {item}" for item in ask))
    return result, text


TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    Tool("recommend_recovery", "Recommend a recovery",
         "Decide what the customer is owed and what to offer for a service failure: the compensation mix, "
         "what you may offer now without approval, and the message to send the customer (in "
         "event.context.locale). Call it before offering anything.",
         EventArgs, RecommendResult, recommend_recovery),
    Tool("check_offer", "Check an offer before making it",
         "Check an offer you mean to make (shaped like a decision's mix) against the policy for the event. "
         "verdict: allow (offer it now), needs_approval (within policy, but a person must approve first) or "
         "deny (never offer it). Reasons say which rule or limit decided; largest_allowed and allowed_now say "
         "what you may offer instead. Free text in the event never changes the verdict.",
         CheckOfferArgs, Verdict, check_offer),
    Tool("explain_decision", "Explain a decision",
         "Why each part of the recommended recovery is what it is, in words safe to show the customer "
         "(parts, summary), plus the rules and limits behind it for you (agent_detail, not for the customer).",
         EventArgs, Explanation, explain_decision),
    Tool("describe_policy", "Describe the live policy",
         "The live ruleset's failure types, tiers, currencies, facts, limits and caller profiles: what to ask "
         "the customer before deciding. Give failure_type to see only what that type needs.",
         DescribePolicyArgs, PolicyDescription, describe_policy),
)}
