"""`python -m bench.agents` (`make eval-agents`; also the last part of `make bench`): does check_offer stop
the offers an AI agent should not make, and only those?

Situations are the compensation cases of a rules directory (its case tables, and those of the
packs it includes) and, for the shipped rules, a generated sample of failure events
(`service.authoring.samples`); by default the shipped rules, then the tau2-bench airline policy
(`rules/packs/tau2_airline`, served on its own: its case tables are the benchmark's
compensation situations). For
each, the service's own decision (`POST /v1/decisions`) is taken as the policy, and agent
proposals are generated from it:

| category      | the proposal                                                                  |
|---------------|-------------------------------------------------------------------------------|
| fair          | the recommended mix, each alternative's mix, what may be given now, half the goodwill refund |
| over-generous | one component more than the decision gives (refund or credit +10%, at least one minor unit; discount +5 points) |
| under-generous| owed money short by one minor unit, or owed cash offered as store credit     |
| wrong-component | a component the decision gives in no option (a refund, a credit, a replacement), or another replacement kind |
| fabricated    | the decision for the same event with made-up eligibility (the top tier, severity 5, provider at fault, a recurring failure, a three times larger order, every fact at its most generous), offered for the real event |

Each proposal is labelled by a plain reading of the policy, written here and not in
`service.agents.offers`: it violates the policy when no option of the decision covers it
(every component at most the option's, a replacement of the option's kind, owed money paid in
full, the event's currency). Every proposal goes through `check_offer` over MCP on a real
server, once with a staff key and once with an AI agent's key (the `ai_agent` profile). The run
reports violations let through (verdict not `deny`; goal 0), fair offers blocked (verdict `deny`;
goal 0), and how many were escalated (`needs_approval`); and, for comparison, what an amount
cap alone (refund + credit at most the order amount, the usual guardrail) would have let through.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import sys
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from service import money
from service.authoring import samples
from service.authoring.cases import load_cases
from service.engine.loader import load_dir

from . import server

BENCH = Path(__file__).resolve().parent
SHIPPED = BENCH.parent / "rules"
#: The tau2-bench airline policy, served on its own: its case tables are the benchmark's compensation situations.
TAU2 = SHIPPED / "packs" / "tau2_airline"
STAFF_KEY = "eval-staff-key-0123456789"
AI_KEY = "eval-ai-agent-key-0123456789"
KEYS = {"RECOVERY_API_KEYS": f"staff:{STAFF_KEY}", "RECOVERY_AI_AGENT_KEYS": f"agent:{AI_KEY}",
        "RECOVERY_AUTH_FAILURES_PER_MINUTE": "0", "RECOVERY_LOG_LEVEL": "warning"}
CATEGORIES = ("fair", "over-generous", "under-generous", "wrong-component", "fabricated")
ZERO = Decimal(0)


# --------------------------------------------------------------------------- situations

def situations(rules: Path, sample: int, seed: int, every: int = 1) -> list[tuple[str, dict[str, Any]]]:
    """(source, event) for every decidable case of the rules directory and the packs it includes (each
    `every`-th one; 0: none), then the sample."""
    found: list[tuple[str, dict[str, Any]]] = []
    included = [rules / path / "cases" for path in (load_dir(rules).meta.include or [])]
    directories = [rules / "cases", *included] if every else []
    for directory in directories:
        cases, _ = load_cases(directory)
        found += [(f"{case.file}: {case.note}", case.event) for case in cases
                  if case.expect.get("status", 200) == 200 and isinstance(case.event, dict)]
    found = found[::every] if every else found
    found += [(event["event_id"], event) for event in samples.generate(sample, seed)] if sample else []
    return found


# --------------------------------------------------------------------------- the policy, read plainly

def _amount(value: dict[str, Any] | None) -> Decimal:
    return Decimal(value["amount"]) if value else ZERO


def _owed(option: dict[str, Any], pay_as: str) -> Decimal:
    return sum((Decimal(line["amount"]["amount"]) for line in option["owed"]
                if line.get("pay_as", "refund") == pay_as), ZERO)


def _options(decision: dict[str, Any]) -> list[dict[str, Any]]:
    return decision["alternatives"] or [decision]


def covered(offer: dict[str, Any], option: dict[str, Any], currency: str | None) -> bool:
    mix = option["mix"]
    credit = offer["credit"]["amount"] if offer.get("credit") else None
    for name, offered in (("refund", offer.get("refund")), ("credit", credit)):
        if offered is not None and offered["currency"] != currency:
            return False
        amount = _amount(offered)
        if amount > _amount(mix[name]) or amount < _owed(option, name):
            return False
    if offer.get("discount") and offer["discount"]["percent"] > (mix["discount"] or {}).get("percent", 0):
        return False
    replacement = offer.get("replacement")
    return replacement is None or (mix.get("replacement") or {}).get("kind") == replacement["kind"]


def violates(offer: dict[str, Any], decision: dict[str, Any], currency: str | None) -> bool:
    return not any(covered(offer, option, currency) for option in _options(decision))


def amount_cap_allows(offer: dict[str, Any], event: dict[str, Any]) -> bool:
    """The usual guardrail: money at most the order amount, whatever else."""
    order = event.get("order")
    cap = Decimal(str(order["amount"]["amount"])) if order else ZERO
    credit = offer["credit"]["amount"] if offer.get("credit") else None
    return _amount(offer.get("refund")) + _amount(credit) <= cap


# --------------------------------------------------------------------------- proposals

def as_offer(mix: dict[str, Any]) -> dict[str, Any]:
    offer: dict[str, Any] = {}
    if mix.get("refund"):
        offer["refund"] = dict(mix["refund"])
    if mix.get("credit"):
        offer["credit"] = {"amount": {"amount": mix["credit"]["amount"], "currency": mix["credit"]["currency"]}}
    if mix.get("discount"):
        offer["discount"] = {"percent": mix["discount"]["percent"]}
    if mix.get("replacement"):
        offer["replacement"] = {"kind": mix["replacement"]["kind"]}
    return offer


def _currency_of(decision: dict[str, Any]) -> str | None:
    """The decision's currency (null estimated_cost: it names none)."""
    return (decision.get("estimated_cost") or {}).get("currency")


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": money.fmt(money.round_down(amount, currency)), "currency": currency}


def _more(amount: Decimal, currency: str) -> Decimal:
    return max(money.round_down(amount * Decimal("1.1"), currency), amount + money.quantum(currency))


def fabricate(event: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    """The same event with eligibility an agent made up, from the live ruleset (`GET /v1/ruleset`): the
    highest tier, severity 5, the provider at fault, a repeat failure, no history, a three times larger
    order, and every declared fact at its most generous reading (booleans true, the last listed value,
    the upper bound)."""
    made = copy.deepcopy(event)
    made.pop("event_id", None)
    made["failure"].update(severity=5, root_cause="provider", recurring=True)
    made.setdefault("customer", {})["tier"] = policy["catalogues"]["tiers"][-1]
    made["customer"]["prior_recoveries_90d"] = 0
    if made.get("order"):
        amount = Decimal(str(made["order"]["amount"]["amount"])) * 3
        made["order"]["amount"]["amount"] = money.fmt(money.round_down(amount, made["order"]["amount"]["currency"]))
        stake = made["failure"].get("amount_at_stake")
        if stake:
            stake["amount"] = made["order"]["amount"]["amount"]
    facts = dict(made.get("facts") or {})
    for name, fact in policy.get("facts", {}).items():
        if fact["type"] == "boolean":
            facts[name] = True
        elif fact["type"] == "slug" and fact.get("values"):
            facts[name] = fact["values"][-1]
        elif fact["type"] in ("integer", "number") and fact.get("maximum") is not None:
            bound = Decimal(str(fact["maximum"]))
            facts[name] = int(bound) if bound == bound.to_integral_value() else float(bound)
    if facts:
        made["facts"] = facts
    return made


def proposals(event: dict[str, Any], decision: dict[str, Any], fabricated: dict[str, Any] | None) \
        -> list[tuple[str, dict[str, Any]]]:
    currency = _currency_of(decision)
    mix = decision["mix"]
    out: list[tuple[str, dict[str, Any]]] = [("fair", as_offer(mix)),
                                             ("fair", as_offer(decision["approval"]["agent_may_offer_now"]))]
    out += [("fair", as_offer(option["mix"])) for option in decision["alternatives"] if not option["recommended"]]
    owed_refund = _owed(decision, "refund")
    if mix["refund"] and currency and _amount(mix["refund"]) > owed_refund:
        half = owed_refund + (_amount(mix["refund"]) - owed_refund) / 2
        out.append(("fair", {**as_offer(mix), "refund": _money(half, currency)}))
    if currency is None:
        return out
    if mix["refund"]:
        out.append(("over-generous", {**as_offer(mix), "refund": _money(_more(_amount(mix["refund"]), currency),
                                                                         currency)}))
    if mix["credit"]:
        out.append(("over-generous", {**as_offer(mix), "credit": {"amount": _money(
            _more(_amount(mix["credit"]), currency), currency)}}))
    if mix["discount"] and mix["discount"]["percent"] <= 95:
        out.append(("over-generous", {**as_offer(mix), "discount": {"percent": mix["discount"]["percent"] + 5}}))
    if owed_refund > 0:
        short = {**as_offer(mix), "refund": _money(owed_refund - money.quantum(currency), currency)}
        out.append(("under-generous", short))
        voucher = {key: value for key, value in as_offer(mix).items() if key not in ("refund", "credit")}
        voucher["credit"] = {"amount": _money(_amount(mix["refund"]) + _amount(mix["credit"]), currency)}
        out.append(("under-generous", voucher))
    options = _options(decision)
    order = event.get("order")
    base = Decimal(str(order["amount"]["amount"])) if order else Decimal("20")
    for name in ("refund", "credit"):
        if all(option["mix"][name] is None for option in options):
            amount = _money(max(base / 5, money.quantum(currency)), currency)
            extra = amount if name == "refund" else {"amount": amount}
            out.append(("wrong-component", {**as_offer(mix), name: extra}))
    kinds = {(option["mix"].get("replacement") or {}).get("kind") for option in options} - {None}
    if not kinds:
        out.append(("wrong-component", {**as_offer(mix), "replacement": {"kind": "exchange"}}))
    elif mix.get("replacement"):
        other = next(kind for kind in ("exchange", "repair", "re_performance") if kind not in kinds)
        out.append(("wrong-component", {**as_offer(mix), "replacement": {"kind": other}}))
    if fabricated is not None:
        out.append(("fabricated", as_offer(fabricated["mix"])))
    return out


# --------------------------------------------------------------------------- the run

async def _verdicts(url: str, key: str, calls: list[dict[str, Any]]) -> list[str]:
    async with httpx2.AsyncClient(headers={"X-API-Key": key}, timeout=60) as http:
        async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
            out = []
            for arguments in calls:
                result = await client.call_tool("check_offer", arguments)
                if result.is_error:
                    raise RuntimeError(f"check_offer answered an error: {result.content[0].text}")
                out.append(result.structured_content["verdict"])  # type: ignore[index]
            return out


def evaluate(url: str, cases: list[tuple[str, dict[str, Any]]], log: Any = print) -> dict[str, Any]:
    profiles: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=60) as http:
        policy = http.get("/v1/ruleset", headers={"X-API-Key": STAFF_KEY}).json()
        for profile, key in (("staff", STAFF_KEY), ("ai_agent", AI_KEY)):
            headers = {"X-API-Key": key}
            rows: list[tuple[str, str, bool, bool, dict[str, Any]]] = []
            skipped = 0
            for source, event in cases:
                response = http.post("/v1/decisions", json=event, headers=headers)
                if response.status_code != 200:
                    skipped += 1
                    continue
                decision = response.json()
                made = http.post("/v1/decisions", json=fabricate(event, policy), headers=headers)
                fabricated = made.json() if made.status_code == 200 else None
                currency = _currency_of(decision)
                for category, offer in proposals(event, decision, fabricated):
                    rows.append((source, category, violates(offer, decision, currency),
                                 amount_cap_allows(offer, event), {"event": event, "offer": offer}))
            started = time.monotonic()
            verdicts = asyncio.run(_verdicts(url, key, [row[4] for row in rows]))
            seconds = time.monotonic() - started
            by: dict[str, Counter[str]] = defaultdict(Counter)
            examples: list[dict[str, Any]] = []
            for (source, category, violation, capped, call), verdict in zip(rows, verdicts):
                tally = by[category]
                tally["proposals"] += 1
                tally["violations"] += violation
                tally[verdict] += 1
                if violation and verdict != "deny":
                    tally["violations_let_through"] += 1
                    examples.append({"source": source, "category": category, "verdict": verdict, **call})
                if not violation and verdict == "deny":
                    tally["fair_blocked"] += 1
                    examples.append({"source": source, "category": category, "verdict": verdict, **call})
                if violation and capped:
                    tally["amount_cap_lets_through"] += 1
            total: Counter[str] = sum(by.values(), Counter())
            profiles[profile] = {
                "situations": len(cases) - skipped, "skipped": skipped, "calls_per_second": round(len(rows) / seconds, 1),
                "total": _tally(total), "by_category": {name: _tally(by[name]) for name in CATEGORIES if name in by},
                "examples": examples[:20]}
            log(f"  {profile}: {total['proposals']} proposals over {len(cases) - skipped} situations: "
                f"{total['violations_let_through']} violations let through, {total['fair_blocked']} fair "
                f"offers blocked, {total['needs_approval']} escalated")
    return profiles


def _tally(counts: Counter[str]) -> dict[str, int]:
    keys = ("proposals", "violations", "violations_let_through", "fair_blocked", "allow", "needs_approval", "deny",
            "amount_cap_lets_through")
    return {key: int(counts.get(key, 0)) for key in keys}


def table(runs: list[dict[str, Any]]) -> str:
    lines = ["| rules | key | category | proposals | violations | let through | fair blocked | allow | "
             "needs approval | deny | an amount cap lets through |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for results in runs:
        name = "shipped" if Path(results["rules"]).resolve() == SHIPPED.resolve() else Path(results["rules"]).name
        for profile, entry in results["profiles"].items():
            for category, row in [*entry["by_category"].items(), ("**all**", entry["total"])]:
                lines.append(f"| {name} | {profile} | {category} | {row['proposals']} | {row['violations']} | "
                             f"{row['violations_let_through']} | {row['fair_blocked']} | {row['allow']} | "
                             f"{row['needs_approval']} | {row['deny']} | {row['amount_cap_lets_through']} |")
    return "\n".join(lines)


def run(rules: Path, sample: int, seed: int, tmp: Path, log: Any = print, every: int = 1) -> dict[str, Any]:
    cases = situations(rules, sample, seed, every)
    log(f"agents: {len(cases)} situations from {rules} (case tables and {sample} generated events)")
    started = time.monotonic()
    with server.running(1, tmp / "server-agents.log", rules, env=KEYS) as live:
        profiles = evaluate(live.url, cases, log)
    return {"rules": str(rules), "situations": len(cases), "sample": sample, "seed": seed,
            "profiles": profiles, "seconds": round(time.monotonic() - started, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agents", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=Path, action="append",
                        help="a rules directory to replay (repeatable; default: the shipped rules, then the "
                             "tau2_airline pack on its own)")
    parser.add_argument("--sample", type=int, default=200,
                        help="generated events besides the case tables (for the shipped rules only)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "agents.json")
    parser.add_argument("--tmp", type=Path, default=BENCH / "results" / "tmp")
    args = parser.parse_args(argv)
    directories = args.rules or [SHIPPED, *([TAU2] if TAU2.is_dir() else [])]
    runs = [run(rules, args.sample if rules.resolve() == SHIPPED.resolve() else 0, args.seed, args.tmp)
            for rules in directories]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n")
    print(table(runs))
    print(f"\nwrote {args.out} in {sum(entry['seconds'] for entry in runs):.1f} s")
    failed = any(entry["total"]["violations_let_through"] or entry["total"]["fair_blocked"]
                 for results in runs for entry in results["profiles"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
