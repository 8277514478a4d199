"""Invariants over declared facts: `never_less_money` may change a fact, and finds the event
that breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.authoring.invariants import load_invariants, verify
from service.engine.registry import load_snapshot
from tests.engine.rulesets import HEADER, write_rules

FACTS = """facts:
  passengers: {type: integer, description: passengers on the booking, minimum: 1, maximum: 9, default: 1}
"""

# A per-passenger floor, and a deliberately wrong one that pays nothing from three passengers up.
RULES = {
    "per-passenger": """rules:
  - id: floor
    description: ten euros per passenger
    when: {failure.type: late_delivery}
    then: {owed: {kind: contractual, amount: {EUR: "10.00", JPY: "1600"}, per: passengers, basis: "clause 4"}}
""",
    "capped-at-two": """rules:
  - id: floor
    description: ten euros per passenger, but only for one or two
    when: {failure.type: late_delivery, facts.passengers: {lte: 2}}
    then: {owed: {kind: contractual, amount: {EUR: "10.00", JPY: "1600"}, per: passengers, basis: "clause 4"}}
""",
}

INVARIANT = """invariants:
  - id: more-passengers-never-less
    check: never_less_money
    when: {facts.passengers: 2}
    change: {%s: 3}
"""


@pytest.mark.parametrize("rules, broken", [("per-passenger", False), ("capped-at-two", True)])
def test_never_less_money_changes_a_declared_fact(tmp_path: Path, rules: str, broken: bool) -> None:
    root = write_rules(tmp_path / "rules", RULES[rules], HEADER + FACTS)
    (root / "invariants").mkdir()
    (root / "invariants" / "facts.yaml").write_text(INVARIANT % "facts.passengers")
    snapshot = load_snapshot(root)
    try:
        invariants, findings = load_invariants(root / "invariants", snapshot.ruleset)
        assert findings == [] and len(invariants) == 1
        violation = verify(invariants[0], snapshot, 60)
    finally:
        snapshot.engine.close()
    assert (violation is not None) == broken
    if violation is not None:
        assert violation.event["facts"]["passengers"] == 2 and "falls from 20.00" in violation.detail


def test_a_change_of_an_undeclared_fact_is_a_finding(tmp_path: Path) -> None:
    root = write_rules(tmp_path / "rules", RULES["per-passenger"], HEADER + FACTS)
    (root / "invariants").mkdir()
    (root / "invariants" / "facts.yaml").write_text(INVARIANT % "facts.pasengers")
    snapshot = load_snapshot(root)
    try:
        invariants, findings = load_invariants(root / "invariants", snapshot.ruleset)
    finally:
        snapshot.engine.close()
    assert invariants == [] and "declared `facts.<name>`" in findings[0].message
