"""A realistic, reproducible sample of failure events for `recovery simulate`.

`generate(count, seed)` yields events whose distribution is documented in
samples/README.md; the same seed gives the same file.
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_DOWN, Decimal
from typing import Any, Iterator

from .. import money

FAILURE_TYPES = {  # type: weight (share of complaints)
    "late_delivery": 24, "damaged_item": 10, "wrong_item": 7, "missing_item": 6, "double_charge": 4,
    "billing_error": 5, "service_outage": 8, "missed_appointment": 4, "cancelled_booking": 3,
    "rude_agent": 6, "ignored_request": 6, "slow_response": 8, "long_wait": 6, "misinformation": 3,
}
SEVERITY = {1: 30, 2: 30, 3: 22, 4: 12, 5: 6}
ROOT_CAUSE = {"provider": 55, "third_party": 15, "customer": 20, "unknown": 10}
TIER = {"standard": 55, "silver": 25, "gold": 15, "platinum": 5}
CURRENCY = {"EUR": 50, "USD": 25, "GBP": 10, "IDR": 7, "CNY": 5, "JPY": 3}
#: median order value per currency (log-normal around it, sigma 0.8)
MEDIAN_ORDER = {"EUR": 60, "USD": 65, "GBP": 50, "IDR": 900_000, "CNY": 450, "JPY": 9_000}
CHANNEL = {"chat": 30, "email": 25, "phone": 20, "web": 12, "app": 8, "social": 5}
REQUEST = {None: 40, "refund": 30, "replacement": 12, "credit": 6, "discount": 4, "apology": 8}


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _amount(rng: random.Random, currency: str, median: float, sigma: float = 0.8) -> str:
    value = Decimal(str(median * math.exp(rng.gauss(0, sigma))))
    return money.fmt(value.quantize(money.quantum(currency), rounding=ROUND_DOWN))


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for number in range(1, count + 1):
        currency = _pick(rng, CURRENCY)
        event: dict[str, Any] = {
            "event_id": f"sample-{number:07d}",
            "failure": {"type": _pick(rng, FAILURE_TYPES), "severity": _pick(rng, SEVERITY),
                        "root_cause": _pick(rng, ROOT_CAUSE), "recurring": rng.random() < 0.12},
            "customer": {"id": f"c-{rng.randrange(1, count // 3 + 2):06d}", "tier": _pick(rng, TIER),
                         "prior_recoveries_90d": min(int(rng.expovariate(1.4)), 9)},
            "context": {"channel": _pick(rng, CHANNEL), "minutes_since_report": int(rng.expovariate(1 / 12))},
        }
        if rng.random() < 0.6:
            event["customer"]["lifetime_value"] = {"amount": _amount(rng, currency, MEDIAN_ORDER[currency] * 15),
                                                   "currency": currency}
        if rng.random() < 0.9:
            event["order"] = {"id": f"o-{number:07d}",
                              "amount": {"amount": _amount(rng, currency, MEDIAN_ORDER[currency]),
                                         "currency": currency}}
        request = _pick(rng, REQUEST)
        if request is not None:
            event["context"]["customer_request"] = request
        yield event
