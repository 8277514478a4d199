"""The shared set of failure events every part of the benchmark decides.

Deterministic (a seeded generator), varied the way CRM traffic is: every
catalogued failure type and a few the catalogue does not know, all severities,
root causes and tiers, orders in several currencies or none, lifetime values,
history, channels (some outside the catalogue) and customer requests. Each event
is a valid `FailureEvent` for the shipped catalogues, which the generated rulesets
share, so the same bytes are decided under every ruleset.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import orjson

TYPES = ("late_delivery", "damaged_item", "wrong_item", "missing_item", "double_charge", "billing_error",
         "service_outage", "missed_appointment", "cancelled_booking", "rude_agent", "ignored_request",
         "slow_response", "long_wait", "misinformation")
UNCATALOGUED = (("app_crash", "outcome"), ("confusing_invoice", "process"))
ROOT_CAUSES = ("provider", "provider", "provider", "unknown", "third_party", "customer")
TIERS = ("standard", "standard", "standard", "silver", "silver", "gold", "platinum")
CHANNELS = ("chat", "email", "phone", "social", "in_person", "web", "app", "kiosk")
REQUESTS = ("refund", "credit", "discount", "replacement", "apology")
#: (currency, low, high, decimal places), weighted by repetition.
CURRENCIES = (("EUR", 5, 400, 2), ("EUR", 5, 400, 2), ("USD", 5, 450, 2), ("GBP", 5, 350, 2),
              ("JPY", 800, 60000, 0), ("IDR", 50000, 5000000, 2), ("CNY", 30, 3000, 2))


def _money(rng: random.Random, currency: tuple[str, int, int, int]) -> dict[str, str]:
    code, low, high, places = currency
    whole = rng.randint(low, high)
    if places == 0:
        return {"amount": str(whole), "currency": code}
    return {"amount": f"{whole}.{rng.choice(('00', '50', '99', '10'))}", "currency": code}


def event(rng: random.Random, number: int) -> dict[str, Any]:
    """One realistic event as the wire JSON object."""
    failure: dict[str, Any] = {"severity": rng.randint(1, 5), "root_cause": rng.choice(ROOT_CAUSES)}
    if rng.random() < 0.05:
        failure["type"], failure["category"] = rng.choice(UNCATALOGUED)
    else:
        failure["type"] = rng.choice(TYPES)
    if rng.random() < 0.15:
        failure["recurring"] = True
    if rng.random() < 0.4:
        failure["description"] = f"reported via ticket {number}: " + rng.choice(
            ("parcel days late", "box crushed", "charged twice", "agent hung up", "no answer for a week"))
    currency = rng.choice(CURRENCIES)
    customer: dict[str, Any] = {"id": f"c-{rng.randint(1, 99999)}", "tier": rng.choice(TIERS),
                                "prior_recoveries_90d": rng.choice((0, 0, 0, 0, 1, 1, 2, 3, 5))}
    if rng.random() < 0.6:
        ltv = _money(rng, currency)
        ltv["amount"] = str(Decimal(ltv["amount"]) * rng.randint(3, 30))
        customer["lifetime_value"] = ltv
    body: dict[str, Any] = {"event_id": f"crm-{number}", "failure": failure, "customer": customer}
    if rng.random() < 0.85:
        body["order"] = {"id": f"o-{rng.randint(1, 999999)}", "amount": _money(rng, currency)}
    context: dict[str, Any] = {}
    if rng.random() < 0.9:
        context["channel"] = rng.choice(CHANNELS)
    if rng.random() < 0.7:
        context["minutes_since_report"] = rng.choice((0, 2, 5, 15, 45, 240, 2880))
    if rng.random() < 0.4:
        context["customer_request"] = rng.choice(REQUESTS)
    if context:
        body["context"] = context
    return body


def events(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [event(rng, number) for number in range(count)]


def bodies(count: int, seed: int = 7) -> list[bytes]:
    """The events as request bodies, exactly as a CRM would send them."""
    return [orjson.dumps(item) for item in events(count, seed)]
