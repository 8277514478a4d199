"""One decision: normalise the event, match it in the engine, combine, render.

`decide()` is what the HTTP routes, the CLI and the simulator all call, so they
give the same decision for the same event. The body depends only on the event
and the ruleset revision (no clock, no randomness), and `decision_id` is derived
from both, so the same question gets the same bytes.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson

from .. import money
from ..engine import conditions
from ..engine.registry import Snapshot
from ..models import FailureEvent
from .combine import DEFAULT_REASONS, Outcome, combine
from .normalize import EventRejected, Flat, decision_currency, normalize

__all__ = ["EventRejected", "decide", "decide_bytes", "decision_id"]


def decision_id(flat: Flat, digest: str) -> str:
    """Derived from the normalised event (every field it carries, defaults filled in, amounts
    written with the currency's places) and the ruleset digest."""
    canonical = orjson.dumps(flat, option=orjson.OPT_SORT_KEYS, default=str)
    return "dec_" + hashlib.sha256(digest.encode() + b"\n" + canonical).hexdigest()[:32]


def decide(snapshot: Snapshot, event: FailureEvent, *, explain: bool = False) -> dict[str, Any]:
    ruleset = snapshot.ruleset
    flat = normalize(event, ruleset)
    matched = snapshot.engine.match(flat)
    currency = decision_currency(event)
    outcome = combine(ruleset, flat, matched, currency)
    body = render(snapshot, event, flat, outcome)
    if explain:
        body["explain"] = explanation(snapshot, flat, matched, outcome)
    return body


def decide_bytes(snapshot: Snapshot, event: FailureEvent, *, explain: bool = False) -> bytes:
    return orjson.dumps(decide(snapshot, event, explain=explain))


def _money(amount: Decimal | None, currency: str | None) -> dict[str, str] | None:
    if amount is None or currency is None:
        return None
    return {"amount": money.fmt(amount), "currency": currency}


def render(snapshot: Snapshot, event: FailureEvent, flat: Flat, out: Outcome) -> dict[str, Any]:
    ruleset = snapshot.ruleset
    currency = out.currency
    credit = None
    if out.credit is not None and currency is not None:
        credit = {"amount": money.fmt(out.credit), "currency": currency,
                  "expires_in_days": out.credit_expires_in_days}
    discount = None
    if out.discount_percent is not None:
        discount = {"percent": out.discount_percent, "valid_days": out.discount_valid_days}
    replacement = {"kind": out.replacement} if out.replacement is not None else None

    distributive_by = [name for name, given in (("refund", out.refund), ("credit", credit),
                                                ("discount", discount), ("replacement", replacement))
                       if given is not None]
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

    return {
        "decision_id": decision_id(flat, ruleset.digest),
        "event_id": event.event_id,
        "ruleset": {"name": ruleset.meta.name, "version": ruleset.meta.version, "digest": ruleset.digest},
        "mix": {
            "refund": _money(out.refund, currency),
            "credit": credit,
            "discount": discount,
            "apology": {"level": out.apology_level, "from": out.apology_from, "explanation": out.explanation},
            "replacement": replacement,
        },
        "estimated_cost": _money(out.estimated_cost, currency),
        "justice": {"distributive": distributive, "procedural": procedural, "interactional": interactional},
        "approval": {"required": out.approval_level != "agent", "level": out.approval_level,
                     "reasons": out.approval_reasons},
        "process_recovery": {"root_cause_review": out.root_cause_review},
        "rules_fired": [{"id": rule.id, "description": rule.description} for rule in out.fired],
        "limits_applied": out.limits_applied,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def explanation(snapshot: Snapshot, flat: Flat, matched: list[int], out: Outcome) -> dict[str, Any]:
    """Every rule, whether it matched and, if not, the first condition that failed."""
    ruleset = snapshot.ruleset
    fired = set(matched)
    rules = []
    for rule in ruleset.rules:
        entry: dict[str, Any] = {"id": rule.id, "matched": rule.index in fired, "file": rule.file,
                                 "line": rule.line}
        if rule.index not in fired:
            failed = conditions.explain(rule.when, flat, ruleset.tier_rank)
            if failed is not None:
                entry["failed"] = {"condition": failed.condition, "line": failed.line,
                                   "field": failed.field, "saw": _jsonable(failed.seen)}
        rules.append(entry)
    return {
        "event": {key: _jsonable(value) for key, value in flat.items() if "#" not in key},
        "rules": rules,
        "components": {name: {"set_by": ids,
                              "clipped_by": [entry["limit"] for entry in out.limits_applied
                                             if entry["component"] == name.split(".")[0]]}
                       for name, ids in sorted(out.set_by.items())},
        "limits_applied": out.limits_applied,
    }
