"""Cross-route agreement (make test-deep): the same generated events through every way in.

Each event (valid ones drawn from the ruleset's catalogues, and the same with an
amount or a count in one of the forms the number reader refuses or accepts) goes
through POST /v1/decisions, POST /v1/decisions:batch, a ServiceNow webhook whose
mapping copies each event field from the ticket, `recovery decide` (a sample of
them) and POST /v1/simulations. Every route must give the same decision, byte for
byte, or the same 4xx; the simulation's counts and cost totals must be those of the
single route. The figures go to test-output/cross-route.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from service.authoring.invariants import events
from service.engine.loader import load_dir
from tests.support import OUTPUT, ROOT, RULES, running_server
from tests.webhooks import deliveries as d

pytestmark = pytest.mark.deep

COUNT = int(os.environ.get("RECOVERY_CROSS_ROUTE_EVENTS", "600"))
CLI_SAMPLE = 40
RULESET = load_dir(RULES)
FIELDS = ["failure.type", "failure.category", "failure.severity", "failure.root_cause", "failure.recurring",
          "customer.tier", "customer.prior_recoveries_90d", "customer.lifetime_value.amount",
          "customer.lifetime_value.currency", "order.amount.amount", "order.amount.currency", "context.channel",
          "context.customer_request", "context.locale", "context.already_done", "failure.value_received",
          "failure.amount_at_stake.amount", "failure.amount_at_stake.currency"]
AMOUNT_FORMS = ["8e1", "80", "79.9999999999999999999999999", "1e-400", "1e1000000", '"8_0.00"', '"+80.00"',
                '"-0.00"', "-0.0", '"\\u0668\\u0660"', "1" + "0" * 5000, '"12,50"']
COUNT_FORMS = ["1e1000000", "1" + "0" * 5000, "-1", "100001"]


def passthrough_mapping() -> str:
    lines = ["system: servicenow", "ticket_id: {from: ticket.number}", "fields:"]
    for field in FIELDS + [f"facts.{name}" for name in sorted(RULESET.facts)]:
        lines.append(f"  {field}: {{from: event.{field}}}")
    return "\n".join(lines) + "\n"


def collect(count: int) -> list[dict[str, Any]]:
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(event=events(RULESET))
    def draw(event: dict[str, Any]) -> None:
        event["context"].pop("minutes_since_report", None)  # a clock reading: no ticket carries it
        raw = json.dumps(event)
        # hypothesis favours small numbers; the event's own digest gives a fair one in a hundred
        chance = int(hashlib.sha256(raw.encode()).hexdigest(), 16)
        mutate, form = chance % 100, chance // 100 % 1000
        if mutate < 20 and "order" in event:
            raw = raw.replace(f'"amount": "{event["order"]["amount"]["amount"]}"',
                              f'"amount": {AMOUNT_FORMS[form % len(AMOUNT_FORMS)]}', 1)
        elif mutate < 28:
            raw = raw.replace(f'"prior_recoveries_90d": {event["customer"]["prior_recoveries_90d"]}',
                              f'"prior_recoveries_90d": {COUNT_FORMS[form % len(COUNT_FORMS)]}', 1)
        drawn.append({"raw": raw})

    draw()
    for number, item in enumerate(drawn):
        item["id"] = f"INC{number:07d}"
        item["event"] = '{"event_id": "servicenow:' + item["id"] + '", ' + item["raw"][1:]
    return drawn


def test_every_route_gives_the_same_decision_or_the_same_4xx(tmp_path: Path) -> None:
    mappings = tmp_path / "webhooks"
    mappings.mkdir()
    (mappings / "servicenow.yaml").write_text(passthrough_mapping())
    env = {**d.ENV, "RECOVERY_WEBHOOK_MAPPINGS_DIR": str(mappings), "RECOVERY_LOG_LEVEL": "warning",
           "RECOVERY_WORKERS": "2"}
    cases = collect(COUNT)
    headers = {"content-type": "application/json"}
    outcomes: Counter[str] = Counter()
    disagreements: list[str] = []
    with running_server("cross-route", RULES, env=env, ready_path="/readyz") as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        singles = []
        for case in cases:
            response = http.post("/v1/decisions", content=case["event"].encode(), headers=headers)
            singles.append((response.status_code, response.content))
        batch: list[tuple[int, bytes | None]] = []
        for start in range(0, len(cases), 200):
            body = '{"events": [' + ", ".join(case["event"] for case in cases[start:start + 200]) + "]}"
            response = http.post("/v1/decisions:batch", content=body.encode(), headers=headers)
            if response.status_code != 200:  # a number no reader takes refuses the whole body alike
                batch.extend((response.status_code, None) for _ in cases[start:start + 200])
                continue
            for item in response.json()["results"]:
                decision = json.dumps(item["decision"], separators=(",", ":")).encode() \
                    if item["status"] == 200 else None
                batch.append((item["status"], decision))
        for index, case in enumerate(cases):
            status, body = singles[index]
            ticket = ('{"ticket": {"number": "' + case["id"] + '"}, "event": ' + case["raw"] + "}").encode()
            hook = http.post("/v1/webhooks/servicenow", content=ticket,
                             headers={**headers, "X-Webhook-Token": d.SERVICENOW_TOKEN})
            hook_status = hook.status_code
            hook_decision = json.dumps(hook.json()["decision"], separators=(",", ":")).encode() \
                if hook_status == 200 else None
            outcomes[str(status)] += 1
            expected = body if status == 200 else None
            if batch[index][0] != status and not (status == 400 and batch[index][0] == 400):
                disagreements.append(f"{case['id']}: single {status}, batch {batch[index][0]}")
            elif status == 200 and json.loads(batch[index][1] or b"null") != json.loads(body):
                disagreements.append(f"{case['id']}: batch decided differently")
            if hook_status != status and not (status == 400 and hook_status == 400):
                disagreements.append(f"{case['id']}: single {status}, webhook {hook_status} {hook.text[:160]}")
            elif status == 200 and json.loads(hook_decision or b"null") != json.loads(expected or b"null"):
                disagreements.append(f"{case['id']}: webhook decided differently")

        sample = random.Random(7).sample(range(len(cases)), min(CLI_SAMPLE, len(cases)))
        for index in sample:
            cli = subprocess.run([sys.executable, "-m", "service.cli", "decide", "-", "--rules", str(RULES)],
                                 input=cases[index]["event"].encode(), capture_output=True, cwd=ROOT, timeout=120)
            status, body = singles[index]
            if status == 200:
                if cli.returncode != 0 or json.loads(cli.stdout) != json.loads(body):
                    disagreements.append(f"{cases[index]['id']}: the CLI decided differently")
            else:
                problem = json.loads(cli.stderr or b"{}")
                if cli.returncode != 1 or problem.get("status") != status:
                    disagreements.append(f"{cases[index]['id']}: CLI {problem.get('status')}, single {status}")

        readable = [case for case, (status, _) in zip(cases, singles) if status != 400]
        body = '{"candidate": {"files": {}}, "events": [' + ", ".join(case["event"] for case in readable) + "]}"
        simulated = http.post("/v1/simulations", content=body.encode(), headers=headers)
        assert simulated.status_code == 200, simulated.text[:500]
        summary = simulated.json()
        decided = [json.loads(body) for status, body in singles if status == 200]
        refused = sum(1 for status, _ in singles if status == 422)
        if summary["compared"] != len(decided) or summary["invalid"] + summary["rejected"]["baseline"] != refused:
            disagreements.append(f"simulation: compared {summary['compared']} / invalid {summary['invalid']} / "
                                 f"rejected {summary['rejected']}, single route {len(decided)} decided, "
                                 f"{refused} refused")
        costs: dict[str, Decimal] = {}
        for decision in decided:
            cost = decision["estimated_cost"]
            if cost is not None:
                costs[cost["currency"]] = costs.get(cost["currency"], Decimal(0)) + Decimal(cost["amount"])
        simulated_costs = {currency: Decimal(row["baseline"]) for currency, row in summary["cost_by_currency"].items()}
        if simulated_costs != costs:
            disagreements.append(f"simulation costs {simulated_costs} != single route {costs}")
    report = {"events": len(cases), "by_status": dict(outcomes), "cli_sample": len(sample),
              "simulated": len(readable), "disagreements": len(disagreements), "examples": disagreements[:10]}
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "cross-route.json").write_text(json.dumps(report, indent=2))
    assert disagreements == [], disagreements[:10]
    assert outcomes["200"] > 0 and outcomes["422"] > 0
