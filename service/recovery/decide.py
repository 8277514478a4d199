"""One decision: normalise the event, match it in the engine, what is owed, goodwill, render.

`decide()` is what the HTTP routes, the webhooks, the CLI and the simulator all call, so
they give the same decision for the same event:

    normalize -> match (durable_rules) -> owed -> combine per alternative -> recommend -> render

The body depends only on the event and the ruleset revision (no clock, no randomness,
no I/O), and `decision_id` is derived from both, so the same question gets the same bytes.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson

from .. import money
from ..engine import conditions
from ..engine.vocabulary import STAFF_LEVELS
from ..engine.registry import Snapshot
from ..models import FailureEvent
from . import alternatives as alternatives_module
from . import owed as owed_module
from .amounts import Basis
from .combine import DEFAULT_REASONS, ORDER_OF_OPERATIONS, Outcome, combine, show_steps
from .messages import renderer
from .normalize import EventRejected, Flat, decision_currency, normalize

__all__ = ["EventRejected", "SUMMARY_KEYS", "decide", "decide_bytes", "decision_id", "outcome_summary"]

#: The parts of a decision `outcome_summary()` gives: what was decided, without messages or ids.
SUMMARY_KEYS = ("mix", "estimated_cost", "justice", "approval", "process_recovery", "costs")


def decision_id(flat: Flat, digest: str, profile: str | None = None) -> str:
    """Derived from the normalised event (every field it carries, defaults filled in, amounts
    written with the currency's places), the ruleset digest, and the caller's profile when
    there is one (the same event asked under another profile is another decision)."""
    canonical = orjson.dumps(flat, option=orjson.OPT_SORT_KEYS, default=str)
    salt = b"" if profile is None else b"\nprofile:" + profile.encode()
    return "dec_" + hashlib.sha256(digest.encode() + salt + b"\n" + canonical).hexdigest()[:32]


def decide(snapshot: Snapshot, event: FailureEvent, *, explain: bool = False,
           profile: str | None = None) -> dict[str, Any]:
    """The decision; `profile` is the caller's profile (picked by its API key), None for the default
    limits. A profile the ruleset does not declare changes nothing but is still reported."""
    ruleset = snapshot.ruleset
    declared = ruleset.profiles.get(profile) if profile is not None else None
    limits = (profile, declared) if profile is not None and declared is not None else None
    flat = normalize(event, ruleset)
    matched = snapshot.engine.match(flat)
    currency = decision_currency(event)
    basis = Basis.of(flat, currency)
    rules = [ruleset.rules[index] for index in matched]
    common, options = alternatives_module.split(rules)
    owed, unassessed = owed_module.lines(common, basis)
    offered = alternatives_module.offered(ruleset, options)
    outcomes: list[tuple[Any, Outcome, bool]] = []
    if offered:
        recommended, answers = alternatives_module.recommend(offered, flat.get("context.customer_request"))
        for alternative in offered:
            extra = options[alternative.id]
            extra_owed, extra_unassessed = owed_module.lines(extra, basis)
            if alternative is recommended:
                unassessed = unassessed + extra_unassessed
            merged = sorted(common + extra, key=lambda rule: rule.index)
            outcome = combine(ruleset, flat, merged, basis, owed + extra_owed, limits)
            outcomes.append((alternative, outcome, alternative is recommended and answers))
        chosen = next(outcome for alternative, outcome, _ in outcomes if alternative is recommended)
    else:
        chosen = combine(ruleset, flat, common, basis, owed, limits)
    options_out = {id(outcome): _option(outcome) for _, outcome, _ in outcomes}
    chosen_option = options_out.get(id(chosen)) or _option(chosen)
    body = render(snapshot, event, flat, chosen, rules, chosen_option)
    if profile is not None:
        body["decision_id"] = decision_id(flat, ruleset.digest, profile)
    body["not_assessed"] = unassessed
    body["alternatives"] = [
        {"id": alternative.id, "description": alternative.description, "recommended": outcome is chosen,
         "answers_request": answered, **options_out[id(outcome)]}
        for alternative, outcome, answered in outcomes]
    if profile is not None:
        body["profile"] = {"name": profile, "declared": declared is not None}
    body["messages"] = renderer(ruleset).render(body, flat)
    if explain:
        body["explain"] = explanation(snapshot, flat, matched, chosen, outcomes)
    return body


def outcome_summary(snapshot: Snapshot, event: FailureEvent) -> dict[str, Any]:
    """`SUMMARY_KEYS` of `decide()`'s body, equal to them, for replays that compare what two rulesets decide
    (`recovery simulate`): only the recommended option is combined, and nothing is rendered that no summary
    reads (messages, the decision id, the other options, the rules fired)."""
    ruleset = snapshot.ruleset
    flat = normalize(event, ruleset)
    matched = snapshot.engine.match(flat)
    basis = Basis.of(flat, decision_currency(event))
    common, options = alternatives_module.split([ruleset.rules[index] for index in matched])
    owed, _ = owed_module.lines(common, basis)
    offered = alternatives_module.offered(ruleset, options)
    if offered:
        recommended, _ = alternatives_module.recommend(offered, flat.get("context.customer_request"))
        extra = options[recommended.id]
        extra_owed, _ = owed_module.lines(extra, basis)
        merged = sorted(common + extra, key=lambda rule: rule.index)
        chosen = combine(ruleset, flat, merged, basis, owed + extra_owed)
    else:
        chosen = combine(ruleset, flat, common, basis, owed)
    option = _option(chosen)
    return {"mix": option["mix"], "estimated_cost": option["estimated_cost"], "justice": _justice(chosen, option),
            "approval": option["approval"], "process_recovery": {"root_cause_review": chosen.root_cause_review},
            "costs": option["costs"]}


def decide_bytes(snapshot: Snapshot, event: FailureEvent, *, explain: bool = False) -> bytes:
    return orjson.dumps(decide(snapshot, event, explain=explain))


def _money(amount: Decimal | None, currency: str | None) -> dict[str, str] | None:
    if amount is None or currency is None:
        return None
    return {"amount": money.fmt(amount), "currency": currency}


def _mix(out: Outcome) -> dict[str, Any]:
    currency = out.currency
    credit = None
    paid_credit = out.paid_credit
    if paid_credit is not None and currency is not None:
        credit = {"amount": money.fmt(paid_credit), "currency": currency, "expires_in_days": out.credit_days}
    discount = None
    if out.discount_percent is not None:
        discount = {"percent": out.discount_percent, "valid_days": out.discount_valid_days}
    replacement = None
    if out.replacement is not None:
        replacement = {"kind": out.replacement, "value": _money(out.replacement_value, currency)}
    return {
        "refund": _money(out.paid_refund, currency),
        "credit": credit,
        "discount": discount,
        "apology": {"level": out.apology_level, "from": out.apology_from, "explanation": out.explanation},
        "replacement": replacement,
    }


def _approval(out: Outcome, mix: dict[str, Any]) -> dict[str, Any]:
    now = out.offer_now
    currency = out.currency
    credit_now = None
    if now.get("credit") and currency is not None:
        credit_now = {"amount": money.fmt(now["credit"]), "currency": currency, "expires_in_days": out.credit_days}
    level = out.approval_level
    return {"required": level != "agent", "level": level if level in STAFF_LEVELS else "manager",
            "approver": level, "reasons": out.approval_reasons,
            "agent_may_offer_now": {"refund": _money(now.get("refund"), currency), "credit": credit_now,
                                    "discount": mix["discount"] if now.get("discount") else None,
                                    "replacement": mix["replacement"] if now.get("replacement") else None}}


def _costs(out: Outcome) -> dict[str, Any] | None:
    currency = out.currency
    if currency is None or out.goodwill_cost is None:
        return None
    owed = money.round_down(out.owed_refund + out.owed_credit, currency)
    goodwill = money.round_down(out.goodwill_cost, currency)
    replacement = out.replacement_value
    return {"owed": _money(owed, currency), "goodwill": _money(goodwill, currency),
            "replacement": _money(replacement, currency),
            "total": _money(owed + goodwill + (replacement or Decimal(0)), currency)}


def _option(out: Outcome) -> dict[str, Any]:
    mix = _mix(out)
    return {"mix": mix, "owed": [line.as_dict(out.currency) for line in out.owed] if out.currency else [],
            "estimated_cost": _money(out.estimated_cost, out.currency), "costs": _costs(out),
            "approval": _approval(out, mix)}


def render(snapshot: Snapshot, event: FailureEvent, flat: Flat, out: Outcome, rules: list[Any],
           option: dict[str, Any]) -> dict[str, Any]:
    ruleset = snapshot.ruleset
    return {
        "decision_id": decision_id(flat, ruleset.digest),
        "event_id": event.event_id,
        "ruleset": {"name": ruleset.meta.name, "version": ruleset.meta.version, "digest": ruleset.digest},
        "mix": option["mix"],
        "estimated_cost": option["estimated_cost"],
        "justice": _justice(out, option),
        "approval": option["approval"],
        "process_recovery": {"root_cause_review": out.root_cause_review},
        "rules_fired": [{"id": rule.id, "description": rule.description} for rule in rules],
        "limits_applied": out.limits_applied,
        "owed": option["owed"],
        "costs": option["costs"],
    }


def _justice(out: Outcome, option: dict[str, Any]) -> dict[str, Any]:
    currency = out.currency
    mix = option["mix"]
    distributive_by = [name for name in ("refund", "credit", "discount", "replacement") if mix[name] is not None]
    interactional_by = (["apology"] if out.apology_level != "none" else []) + \
                       (["explanation"] if out.explanation else [])
    distributive: dict[str, Any] = {"addressed": bool(distributive_by), "by": distributive_by}
    if not distributive_by:
        reason = out.unaddressed.get("distributive", DEFAULT_REASONS["distributive"])
        if currency is None and "distributive" not in out.unaddressed:
            reason += " (the event names no order or currency to compute amounts in)"
        distributive["reason"] = reason
    procedural: dict[str, Any] = {"addressed": out.respond_within_minutes is not None,
                                  "respond_within_minutes": out.respond_within_minutes,
                                  "follow_up_within_hours": out.follow_up_within_hours}
    if out.respond_within_minutes is None:
        procedural["reason"] = out.unaddressed.get("procedural", DEFAULT_REASONS["procedural"])
    interactional: dict[str, Any] = {"addressed": bool(interactional_by), "by": interactional_by}
    if not interactional_by:
        interactional["reason"] = out.unaddressed.get("interactional", DEFAULT_REASONS["interactional"])
    return {"distributive": distributive, "procedural": procedural, "interactional": interactional}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def _components(out: Outcome) -> dict[str, Any]:
    components: dict[str, Any] = {}
    for name, ids in sorted(out.set_by.items()):
        components[name] = {"set_by": ids}
    for name, steps in out.steps.items():
        components.setdefault(name, {"set_by": []}).update(show_steps(steps, out.currency))
    for entry in components.values():
        entry.setdefault("clipped_by", [])
    for name, entry in components.items():
        entry["clipped_by"] = [limit["limit"] for limit in out.limits_applied
                               if limit["component"] == name.split(".")[0]]
    return dict(sorted(components.items()))


def explanation(snapshot: Snapshot, flat: Flat, matched: list[int], out: Outcome,
                outcomes: list[tuple[Any, Outcome, bool]]) -> dict[str, Any]:
    """Every rule, whether it matched and, if not, the first condition that failed; then how each part of
    the mix was reached, in the order of operations."""
    ruleset = snapshot.ruleset
    fired = set(matched)
    rules = []
    for rule in ruleset.rules:
        entry: dict[str, Any] = {"id": rule.id, "matched": rule.index in fired, "file": rule.file,
                                 "line": rule.line}
        if rule.then.alternative is not None:
            entry["alternative"] = rule.then.alternative
        if rule.index not in fired:
            failed = conditions.explain(rule.when, flat, ruleset.tier_rank)
            if failed is not None:
                entry["failed"] = {"condition": failed.condition, "line": failed.line,
                                   "field": failed.field, "saw": _jsonable(failed.seen)}
        rules.append(entry)
    body: dict[str, Any] = {
        "event": {key: _jsonable(value) for key, value in flat.items() if "#" not in key},
        "rules": rules,
        "order_of_operations": list(ORDER_OF_OPERATIONS),
        "owed": [{"rule": line.rule, "kind": line.kind, "basis": line.basis, "pay_as": line.pay_as,
                  "amount": _jsonable(line.amount)} for line in out.owed],
        "components": _components(out),
        "limits_applied": out.limits_applied,
    }
    if outcomes:
        body["alternatives"] = {alternative.id: {"rules": [rule.id for rule in outcome.fired
                                                           if rule.then.alternative == alternative.id],
                                                 "components": _components(outcome)}
                                for alternative, outcome, _ in outcomes}
    return body
