"""The class cache answers exactly what the Rete network answers, for generated rules and events.

Rulesets and events come from the same strategies as `test_conditions.py`; each event is matched
by an engine without the cache, by the cached engine (every event twice, and the lot again, so
most answers come from the cache), and by the plain Python reading of the conditions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.engine import classes, compiler, conditions
from service.engine.runtime import Engine
from tests.engine.test_conditions import EXAMPLES, FIELD_VALUES, build, conditions_tree, flat_event


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(whens=st.lists(conditions_tree, min_size=1, max_size=12),
       events=st.lists(flat_event(), min_size=1, max_size=25))
def test_cached_matches_are_the_networks(whens: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    ruleset, raw = build(whens)
    if ruleset is None:
        return
    cached = Engine(compiler.compile_ruleset(ruleset))
    try:
        for flat in events + events:
            python = [rule.index for rule in ruleset.rules if conditions.holds(rule.when, flat, ruleset.tier_rank)]
            network = raw.match(flat)
            assert cached.match(flat) == network == python, (flat, [rule.when for rule in ruleset.rules])
            assert cached.match(dict(flat)) == network
        assert cached.cache_hits >= len(events)  # the second pass came from the cache
    finally:
        raw.close()
        cached.close()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(whens=st.lists(conditions_tree, min_size=1, max_size=12), event=flat_event(),
       field=st.sampled_from(sorted(FIELD_VALUES)), data=st.data())
def test_events_of_one_class_match_alike(whens: list[dict[str, Any]], event: dict[str, Any], field: str,
                                         data: st.DataObject) -> None:
    """Change one field to another value with the same cell: the network's answer does not move."""
    ruleset, raw = build(whens)
    if ruleset is None:
        return
    try:
        program = compiler.compile_ruleset(ruleset)
        classifier = program.classifier
        assert classifier is not None
        other = dict(event)
        value = data.draw(FIELD_VALUES[field])
        other[field] = Decimal(value) if field == "order.amount.amount" else value
        if field == "customer.tier":
            other["customer.tier#rank"] = ["standard", "gold"].index(value)
        if classifier.cells(other) == classifier.cells(event):
            assert raw.match(other) == raw.match(event)
    finally:
        raw.close()


def test_numbers_fall_between_or_on_the_cut_points() -> None:
    field = classes.Field("order.amount.amount", (10.0, 20.0), frozenset())
    cells = [field.cell(value) for value in (Decimal("9.99"), Decimal("10"), Decimal("15"), Decimal("20.00"),
                                             Decimal("20.01"), None)]
    assert cells == [0, 1, 2, 3, 4, classes.ABSENT]


def test_values_keep_their_type() -> None:
    field = classes.Field("failure.recurring", None, frozenset({(bool, True)}))
    assert field.cell(True) == (bool, True)
    assert field.cell(1) == classes.OTHER
    assert field.cell(False) == classes.OTHER


def test_rules_that_cut_finer_than_the_cache_bypass_it_and_free_it() -> None:
    """100 rules, each cutting the order amount and the minutes since the report at a point of its own:
    about 16,000 classes, so 4,096 events seldom repeat one. After that probe the engine goes straight
    to the network and lets go of what the cache held; its answers are the network's all along."""
    import random

    from service.engine import runtime

    whens = [{"all": [{"order.amount.amount": {"gt": f"{2 * number}.00"}},
                      {"context.minutes_since_report": {"gt": number % 40}}]} for number in range(100)]
    ruleset, raw = build(whens)
    assert ruleset is not None
    cached = Engine(compiler.compile_ruleset(ruleset))
    draw = random.Random(7)
    try:
        for number in range(runtime.PROBE + 300):
            flat = {"order.amount.amount": Decimal(f"{draw.uniform(0, 200):.2f}"),
                    "context.minutes_since_report": draw.randint(0, 40), "customer.tier": "standard",
                    "customer.tier#rank": 0, "failure.type": "late_delivery", "failure.severity": 3}
            python = [rule.index for rule in ruleset.rules if conditions.holds(rule.when, flat, ruleset.tier_rank)]
            assert cached.match(flat) == raw.match(flat) == python
            if number == runtime.PROBE - 2:
                assert cached.cached_classes > runtime.PROBE // 2  # still probing: the classes are kept
        assert cached.probes and cached.probes[-1] < runtime.MIN_HIT_RATE
        assert cached.cached_classes == 0
        assert cached.answered < runtime.PROBE * runtime.MIN_HIT_RATE
    finally:
        raw.close()
        cached.close()
