"""Generated rulesets of any size, written as real rules directories.

A generated directory holds the shipped `ruleset.yaml` (header, catalogues,
limits) and one `rules.yaml` with `count` rules, so it goes through the real
loader like any ops team's ruleset. The rules look like real ones: conditions on
failure type or category and kind, root cause, severity ranges, tier (`at_least`
and equality), channel, amounts with their currency, history (`any`) and the
customer's request (`not`). Each rule is narrowed in proportion to the ruleset's
size so that an event matches a handful of rules whatever the size, as in real
rulesets where rules specialise as they multiply.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import yaml

from . import events as ev

SHIPPED = Path(__file__).resolve().parent.parent / "rules"
OUTCOME = ev.TYPES[:9]
PROCESS = ev.TYPES[9:]
TIER_ORDER = ("standard", "silver", "gold", "platinum")
THRESHOLDS = {"EUR": ("50.00", "150.00", "300.00"), "USD": ("55.00", "165.00", "330.00"),
              "GBP": ("42.50", "127.50", "255.00")}


def _pick(rng: random.Random, values: tuple[str, ...], low: int, high: int) -> list[str]:
    return sorted(rng.sample(values, rng.randint(low, high)))


def _then(rng: random.Random) -> dict[str, Any]:
    shape = rng.randrange(5)
    if shape == 0:
        return {"refund": {"percent_of_order": rng.choice((10, 20, 25, 50))}}
    if shape == 1:
        return {"credit": {"amount": {"EUR": "10.00", "USD": "11.00", "GBP": "8.50", "JPY": "1600",
                                      "IDR": "170000.00", "CNY": "80.00"}, "expires_in_days": 180}}
    if shape == 2:
        return {"discount": {"percent": rng.choice((5, 10, 15)), "valid_days": 60},
                "follow_up_within_hours": 48}
    if shape == 3:
        return {"apology": {"level": rng.choice(("standard", "sincere")), "from": "agent"},
                "respond_within_minutes": 20}
    return {"approval": "supervisor", "root_cause_review": True}


def _when(rng: random.Random, narrowing: float) -> dict[str, Any]:
    when: dict[str, Any] = {}
    shape = rng.random()
    if shape < 0.5:  # a rule about specific failure types
        when["failure.type"] = rng.choice(ev.TYPES) if rng.random() < 0.6 else _pick(rng, ev.TYPES, 2, 3)
        when["failure.root_cause"] = _pick(rng, ("provider", "unknown", "third_party"), 1, 2)
        low = rng.randint(1, 4)
        when["failure.severity"] = {"between": [low, min(5, low + rng.randint(0, 2))]}
    elif shape < 0.8:  # a rule about a category of failures and what was lost
        category = rng.choice(("outcome", "process"))
        when["failure.category"] = category
        when["failure.kind"] = rng.choice(("time", "product", "money", "service") if category == "outcome"
                                          else ("attention", "time", "information"))
        when["failure.root_cause"] = rng.choice(("provider", "unknown", "third_party", "customer"))
        when["failure.severity"] = {"gte": rng.randint(2, 4)}
    else:  # a rule about history, with any / not
        when["failure.type"] = _pick(rng, OUTCOME if rng.random() < 0.6 else PROCESS, 1, 3)
        when["any"] = [{"failure.recurring": True},
                       {"customer.prior_recoveries_90d": {"gte": rng.randint(1, 3)}}]
        when["not"] = {"context.customer_request": rng.choice(("refund", "credit", "discount"))}
    if narrowing < 0 and rng.random() < -narrowing:  # a broad rule: one condition fewer
        when.pop(rng.choice([key for key in ("failure.severity", "failure.root_cause") if key in when] or
                            ["failure.type"]), None)
    count = int(max(0.0, narrowing)) + (1 if rng.random() < max(0.0, narrowing) % 1 else 0)
    extras = ["tier", "channel", "amount", "severity-eq", "request"]
    rng.shuffle(extras)
    for extra in extras[:count]:
        if extra == "tier":
            if rng.random() < 0.5:
                when["customer.tier"] = {"at_least": rng.choice(TIER_ORDER[1:])}
            else:
                when["customer.tier"] = rng.choice(TIER_ORDER)
        elif extra == "channel":
            when["context.channel"] = _pick(rng, ("chat", "email", "phone", "social", "web", "app"), 1, 2)
        elif extra == "amount":
            currency = rng.choice(tuple(THRESHOLDS))
            when["order.amount.currency"] = currency
            when["order.amount.amount"] = {"gte": rng.choice(THRESHOLDS[currency])}
        elif extra == "severity-eq" and "failure.severity" not in when:
            when["failure.severity"] = rng.randint(1, 5)
        elif extra == "request" and "not" not in when:
            when["context.customer_request"] = rng.choice(ev.REQUESTS)
    return when


def narrowing_for(count: int) -> float:
    """Conditions added per rule (on average; below 0, the share of rules with one fewer) so that an
    event matches a handful (about 5) of `count` rules; tuned on the benchmark's events."""
    if count <= 200:
        return -0.2
    if count <= 2000:
        return 1.5
    return 2.5


def rules(count: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed * 100003 + count)
    narrowing = narrowing_for(count)
    out = []
    for number in range(count):
        out.append({"id": f"gen-{number:05d}", "description": f"Generated rule {number} of {count}.",
                    "when": _when(rng, narrowing), "then": _then(rng)})
    return out


def write(directory: Path, count: int, seed: int = 11) -> Path:
    """Write a rules directory with `count` generated rules and the shipped header."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    shutil.copyfile(SHIPPED / "ruleset.yaml", directory / "ruleset.yaml")
    text = "# Generated by bench/rulesets.py; do not edit.\n" + yaml.safe_dump(
        {"rules": rules(count, seed)}, sort_keys=False, width=120)
    (directory / "rules.yaml").write_text(text)
    return directory
