"""Conditions: the Rete engine and the plain-Python reading (used by explain) agree on every event."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.engine import compiler, conditions
from service.engine.loader import load_sources
from service.engine.runtime import Engine
from service.engine.vocabulary import TIER_RANK_PATH
from tests.engine.rulesets import HEADER

EXAMPLES = int(os.environ.get("RECOVERY_PROPERTY_EXAMPLES", "60"))
TIERS = ["standard", "gold"]
TYPES = ["late_delivery", "rude_agent"]

FIELD_VALUES: dict[str, Any] = {
    "failure.root_cause": st.sampled_from(["provider", "customer", "third_party", "unknown"]),
    "failure.category": st.sampled_from(["outcome", "process"]),
    "failure.kind": st.sampled_from(["time", "attention", "money"]),
    "failure.recurring": st.booleans(),
    "failure.type": st.sampled_from(TYPES),
    "customer.tier": st.sampled_from(TIERS),
    "failure.severity": st.integers(1, 5),
    "customer.prior_recoveries_90d": st.integers(0, 6),
    "context.minutes_since_report": st.integers(0, 40),
    "order.amount.amount": st.decimals(0, 200, places=2).map(str),
    "context.channel": st.sampled_from(["chat", "social"]),
}
NUMERIC = {"failure.severity", "customer.prior_recoveries_90d", "context.minutes_since_report",
           "order.amount.amount"}
OPTIONAL = {"failure.kind", "context.minutes_since_report", "order.amount.amount", "context.channel"}


@st.composite
def field_test(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(FIELD_VALUES)))
    value = FIELD_VALUES[field]
    ops = ["eq", "ne", "in", "not_in"] + (["gt", "gte", "lt", "lte", "between"] if field in NUMERIC else [])
    ops += ["present"] if field in OPTIONAL else []
    ops += ["at_least", "at_most"] if field == "customer.tier" else []
    op = draw(st.sampled_from(ops))
    if op in ("in", "not_in"):
        operand: Any = draw(st.lists(value, min_size=1, max_size=3))
    elif op == "between":
        low, high = sorted([draw(value), draw(value)], key=Decimal)
        operand = [low, high]
    elif op == "present":
        operand = draw(st.booleans())
    else:
        operand = draw(value)
    if op == "eq" and draw(st.booleans()):
        return {field: operand}
    return {field: {op: operand}}


conditions_tree = st.recursive(
    field_test(),
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, children),
    ),
    max_leaves=6,
)


@st.composite
def flat_event(draw: st.DrawFn) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for field, values in FIELD_VALUES.items():
        if field in OPTIONAL and draw(st.booleans()):
            continue
        value = draw(values)
        flat[field] = Decimal(value) if field == "order.amount.amount" else value
    flat[TIER_RANK_PATH] = TIERS.index(flat["customer.tier"])
    return flat


def build(whens: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    rules = [{"id": f"r{i}", "description": f"generated rule number {i}", "when": when,
              "then": {"explanation": True}} for i, when in enumerate(whens)]
    sources = {"ruleset.yaml": HEADER.encode(), "rules.yaml": yaml.safe_dump({"rules": rules}).encode()}
    try:
        ruleset = load_sources(sources)
    except Exception as exc:  # contradictions are legitimately refused
        if all(f.code == "never-fires" for f in getattr(exc, "findings", [])):
            return None, None
        raise
    return ruleset, Engine(compiler.compile_ruleset(ruleset), cache_size=0)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(whens=st.lists(conditions_tree, min_size=1, max_size=12), events=st.lists(flat_event(), min_size=1,
                                                                                    max_size=15))
def test_engine_and_python_agree(whens: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    ruleset, engine = build(whens)
    if ruleset is None:
        return
    try:
        for flat in events:
            python = [rule.index for rule in ruleset.rules
                      if conditions.holds(rule.when, flat, ruleset.tier_rank)]
            assert engine.match(flat) == python, (flat, [rule.when for rule in ruleset.rules])
    finally:
        engine.close()


def parse(when: dict[str, Any]) -> conditions.Node:
    errors: list[str] = []
    parser = conditions.ConditionParser({"tiers": TIERS, "failure_types": TYPES, "currencies": ["EUR"],
                                         "channels": []},
                                        lambda m, p, h: errors.append(m), lambda m, p, h: None, lambda p: None)
    node = parser.parse(when, ())
    assert node is not None, errors
    return node


RANK = {"standard": 0, "gold": 1}


@pytest.mark.parametrize("when", [
    {"all": [{"failure.severity": 5}, {"failure.severity": {"lt": 3}}]},
    {"failure.severity": {"gt": 3, "lt": 4}},
    {"all": [{"failure.root_cause": "provider"}, {"not": {"failure.root_cause": ["provider", "unknown"]}}]},
    {"all": [{"order.amount.amount": {"present": False}}, {"order.amount.amount": {"gte": "10"}}]},
    {"failure.recurring": {"eq": True, "ne": True}},
])
def test_contradictions_have_no_terms(when: dict[str, Any]) -> None:
    assert conditions.dnf(parse(when), RANK) == []


def test_not_holds_for_an_absent_field() -> None:
    node = parse({"not": {"order.amount.amount": {"gte": "100"}}})
    assert conditions.holds(node, {}, RANK)
    assert not conditions.holds(node, {"order.amount.amount": Decimal("150")}, RANK)
    assert conditions.holds(node, {"order.amount.amount": Decimal("50")}, RANK)


def test_explain_names_the_first_failing_test_and_the_value_seen() -> None:
    node = parse({"failure.category": "outcome", "failure.severity": {"gte": 4}})
    failed = conditions.explain(node, {"failure.category": "outcome", "failure.severity": 2}, RANK)
    assert failed is not None
    assert failed.condition == "failure.severity >= 4" and failed.seen == 2
