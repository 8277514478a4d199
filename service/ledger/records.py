"""What the ledger keeps of a decision: a row of report columns and the masked event.

Masked as the logs are: customer and order ids become the logs' hash of them
(`logs.CustomerMask` with RECOVERY_LOG_HASH_SALT, always hashed here whatever the
log setting), and the failure description is left out unless
RECOVERY_LEDGER_RECORD_DESCRIPTIONS is on. Amounts become integers in the
currency's minor unit.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import uuid
from decimal import Decimal
from typing import Any, Callable

import orjson

from .. import money
from ..models import FailureEvent

Mask = Callable[[str | None], str | None]

VOLATILE = ("minutes_since_report",)
"""Context fields a retry is expected to change (time has passed): not part of an event's identity."""


# Record ids: a random prefix per process and a counter (uuid4 costs a system call per decision).
_PREFIX = uuid.uuid4().hex[:16]
_counter = itertools.count(1)


def new_record_id() -> str:
    return f"{_PREFIX}{next(_counter):016x}"


def minor(amount: str | Decimal | None, currency: str | None) -> int | None:
    if amount is None or currency is None:
        return None
    places = money.minor_unit(currency) or 0
    return int(Decimal(amount).scaleb(places))


def from_minor(amount: int, currency: str) -> str:
    places = money.minor_unit(currency) or 0
    return money.fmt(Decimal(amount).scaleb(-places))


def identity(event: FailureEvent, mask: Mask, descriptions: bool, salt: bytes) -> tuple[dict[str, Any], str]:
    """(the masked event, its digest).

    The masked event is the event as sent (defaults filled in) with ids hashed and the
    description only when allowed. The digest says what makes two requests the same
    question: a salted hash of every field but the volatile ones.
    """
    data = event.model_dump(mode="json", exclude_none=True)
    context = data.get("context") or {}
    kept = {name: context.pop(name) for name in VOLATILE if name in context}
    digest = hmac.new(salt, orjson.dumps(data, option=orjson.OPT_SORT_KEYS), hashlib.sha256).hexdigest()
    context.update(kept)
    customer = data.get("customer") or {}
    if "id" in customer:
        customer["id"] = mask(customer["id"])
    order = data.get("order")
    if order and "id" in order:
        order["id"] = mask(order["id"])
    if not descriptions:
        data["failure"].pop("description", None)
    return data, digest


def differences(first: dict[str, Any], second: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """Paths of the leaves where two masked events differ (volatile fields ignored)."""
    out: list[list[str]] = []
    for key in sorted(set(first) | set(second)):
        if key in VOLATILE and prefix == ("context",):
            continue
        a, b = first.get(key), second.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(differences(a, b, prefix + (key,)))
        elif a != b:
            out.append([*prefix, key])
    return out


def _owed(decision: dict[str, Any], currency: str | None) -> int | None:
    lines = decision.get("owed") or []
    if currency is None:
        return None
    total = 0
    for line in lines:
        amount = line.get("amount") or {}
        if amount.get("currency") == currency:
            total += minor(amount.get("amount"), currency) or 0
    return total


def decision_row(event: FailureEvent, decision: dict[str, Any], *, record_id: str, at_ms: int, source: str,
                 caller: str | None, customer_hash: str | None, masked: dict[str, Any],
                 history_filled: bool) -> dict[str, Any]:
    mix = decision["mix"]
    cost = decision.get("estimated_cost")
    currency = cost["currency"] if cost else next(
        (part["currency"] for part in (mix.get("refund"), mix.get("credit")) if part), None)
    refund, credit = mix.get("refund"), mix.get("credit")
    discount, replacement = mix.get("discount"), mix.get("replacement")
    failure = event.failure
    ruleset = decision["ruleset"]
    approval = decision["approval"]
    return {
        "record_id": record_id, "decision_id": decision["decision_id"], "event_id": event.event_id,
        "at_ms": at_ms, "source": source, "caller": caller,
        "ruleset_name": ruleset["name"], "ruleset_version": ruleset["version"], "ruleset_digest": ruleset["digest"],
        "failure_type": failure.type, "category": failure.category, "severity": failure.severity,
        "root_cause": failure.root_cause, "recurring": failure.recurring, "tier": event.customer.tier,
        "channel": event.context.channel, "customer_hash": customer_hash, "currency": currency,
        "refund_minor": minor(refund["amount"], currency) if refund else None,
        "credit_minor": minor(credit["amount"], currency) if credit else None,
        "owed_minor": _owed(decision, currency),
        "cost_minor": minor(cost["amount"], currency) if cost else None,
        "discount_percent": discount["percent"] if discount else None,
        "replacement": replacement["kind"] if replacement else None,
        "tangible": any(part is not None for part in (refund, credit, discount, replacement)),
        "approval_required": bool(approval["required"]), "approval_level": approval["level"],
        "root_cause_review": bool(decision["process_recovery"]["root_cause_review"]),
        "history_filled": history_filled,
        "rules_fired": [rule["id"] for rule in decision["rules_fired"]],
        "event": masked,
    }
