"""The benchmark's translations (zen-engine table, Python predicates) match what the service's engine matches.

Rules with every operator, on fields events may leave out, under `not` and `any`:
each rule must match some of the benchmark's events and miss others, so that
agreement on every event means something.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import pytest
import zen

from bench import events, translate
from service.engine import compiler, loader
from service.engine.runtime import Engine
from service.models import FailureEvent
from service.recovery.normalize import EventRejected, normalize
from tests.support import RULES

EDGE_RULES = """\
rules:
  - id: channel-not-chat
    description: ne on an optional field
    when: {context.channel: {ne: chat}}
    then: {explanation: true}
  - id: request-not-money
    description: not_in on an optional field
    when: {context.customer_request: {not_in: [refund, credit]}}
    then: {explanation: true}
  - id: eur-order-between
    description: an amount range with its currency
    when: {order.amount.currency: EUR, order.amount.amount: {between: ["20.00", "100.00"]}}
    then: {explanation: true}
  - id: no-order
    description: present false
    when: {order.amount.amount: {present: false}}
    then: {explanation: true}
  - id: has-lifetime-value
    description: present true
    when: {customer.lifetime_value.amount: {present: true}}
    then: {explanation: true}
  - id: low-tier-serious
    description: at_most and gt
    when: {customer.tier: {at_most: silver}, failure.severity: {gt: 2}}
    then: {explanation: true}
  - id: not-minor-customer-fault
    description: not over two fields
    when: {not: {failure.root_cause: customer, failure.severity: {lt: 3}}}
    then: {explanation: true}
  - id: recurring-or-late-report
    description: any with a not over an optional field
    when: {any: [{failure.recurring: true}, {not: {context.minutes_since_report: {lte: 15}}}]}
    then: {explanation: true}
  - id: kind-not-time
    description: ne on a field an uncatalogued type leaves out
    when: {failure.kind: {ne: time}}
    then: {explanation: true}
  - id: gold-and-up-high-value
    description: at_least with an amount, and tier equality excluded
    when: {customer.tier: {at_least: gold, ne: platinum}, customer.lifetime_value.amount: {gte: "1000"}}
    then: {explanation: true}
"""


@pytest.fixture(scope="module")
def edge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("edge-rules")
    shutil.copyfile(RULES / "ruleset.yaml", directory / "ruleset.yaml")
    (directory / "rules.yaml").write_text(EDGE_RULES)
    return directory


@pytest.fixture(scope="module")
def answers(edge_dir: Path) -> Iterator[tuple[loader.RulesetDef, list[tuple[list[int], list[int], list[int]]]]]:
    ruleset = loader.load_dir(edge_dir)
    engine = Engine(compiler.compile_ruleset(ruleset))
    graph, fields = translate.zen_table(ruleset)
    decision = zen.ZenEngine().create_decision(json.dumps(graph))
    predicates = translate.python_matcher(ruleset)
    out = []
    try:
        for body in events.bodies(300):
            try:
                flat = normalize(FailureEvent.model_validate_json(body), ruleset)
            except EventRejected:
                continue
            out.append((engine.match(flat), translate.zen_matches(decision.evaluate(translate.zen_input(flat, fields))),
                        predicates(flat)))
    finally:
        engine.close()
    yield ruleset, out


def test_every_edge_rule_both_matches_and_misses_some_events(answers) -> None:  # type: ignore[no-untyped-def]
    ruleset, results = answers
    assert len(results) > 250
    for rule in ruleset.rules:
        hits = sum(rule.index in service for service, _, _ in results)
        assert 0 < hits < len(results), rule.id


def test_zen_table_and_python_predicates_match_what_the_engine_matches(answers) -> None:  # type: ignore[no-untyped-def]
    ruleset, results = answers
    for number, (service, zen_matched, python_matched) in enumerate(results):
        ids = [ruleset.rules[index].id for index in service]
        assert zen_matched == service, (number, ids)
        assert python_matched == service, (number, ids)


def test_generated_rulesets_load_through_the_real_loader_and_scale(tmp_path: Path) -> None:
    from bench import rulesets

    small = loader.load_dir(rulesets.write(tmp_path / "small", 100))
    large = loader.load_dir(rulesets.write(tmp_path / "large", 1000))
    assert (len(small.rules), len(large.rules)) == (100, 1000)
    assert small.catalogues == loader.load_dir(RULES).catalogues
    again = rulesets.write(tmp_path / "again", 100)
    assert (again / "rules.yaml").read_bytes() == (tmp_path / "small" / "rules.yaml").read_bytes()
