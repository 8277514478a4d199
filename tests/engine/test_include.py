"""A ruleset that includes a pack: the pack's rules, facts, failure types and texts join it; the
including ruleset's header, limits and currencies apply to all; mistakes are findings."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from service.engine import rulesdir
from service.engine.findings import RulesetInvalid
from service.engine.loader import load_dir, read_dir
from service.engine.registry import load_snapshot
from service.models import FailureEvent
from service.recovery.decide import decide
from tests.engine.rulesets import HEADER

PACK = """ruleset: {name: floor-pack, version: "1"}
catalogues:
  tiers: [standard]
  currencies: [EUR]
  failure_types:
    flight_delay: {category: outcome, kind: time, value_received: partial}
facts:
  arrival_delay_minutes: {type: integer, description: minutes late at arrival, minimum: 0, required_for: [flight_delay]}
rules:
  - id: floor-three-hours
    description: a statutory floor for a long delay
    when: {failure.type: flight_delay, facts.arrival_delay_minutes: {gte: 180}}
    then:
      owed: {kind: statutory, amount: {EUR: "250.00"}, basis: "Art. 7(1)(a)"}
messages:
  default_locale: en
  locales:
    en:
      failure_types: {flight_delay: delayed flight}
"""

GOODWILL = """rules:
  - id: goodwill-credit
    description: a goodwill credit on top of any floor
    when: {failure.category: outcome, failure.root_cause: provider}
    then: {credit: {amount: {EUR: "20.00", JPY: "3000"}}}
"""


def company(tmp_path: Path, include: str = "packs/floor", pack: str = PACK) -> Path:
    root = tmp_path / "company"
    (root / "packs" / "floor").mkdir(parents=True)
    (root / "ruleset.yaml").write_text(HEADER.replace('ruleset: {name: test, version: "1"}',
                                                      f'ruleset: {{name: test, version: "1", include: [{include}]}}')
                                       + 'currency: {base: EUR, rates: {JPY: "160"}}\n')
    (root / "rules.yaml").write_text(GOODWILL)
    (root / "packs" / "floor" / "pack.yaml").write_text(pack)
    return root


EVENT = {"failure": {"type": "flight_delay", "severity": 3, "root_cause": "provider"},
         "order": {"amount": {"amount": "180.00", "currency": "EUR"}}, "facts": {"arrival_delay_minutes": 200}}


def test_the_floor_and_the_goodwill_decide_together(tmp_path: Path) -> None:
    root = company(tmp_path)
    assert sorted(read_dir(root)) == ["packs/floor/pack.yaml", "rules.yaml", "ruleset.yaml"]
    ruleset = load_dir(root)
    assert ruleset.meta.name == "test"  # the including header, not the pack's
    assert "flight_delay" in ruleset.catalogues.failure_types and "late_delivery" in ruleset.catalogues.failure_types
    assert ruleset.catalogues.currencies == ["EUR", "JPY"] and ruleset.catalogues.tiers == ["standard", "gold"]
    assert "arrival_delay_minutes" in ruleset.facts
    snapshot = load_snapshot(root)
    try:
        body = decide(snapshot, FailureEvent.model_validate(EVENT))
    finally:
        snapshot.engine.close()
    assert [line["amount"]["amount"] for line in body["owed"]] == ["250.00"]
    assert body["mix"]["refund"]["amount"] == "250.00" and body["mix"]["credit"]["amount"] == "20.00"
    assert "delayed flight" in body["messages"]["agent_note"]


def test_a_packs_amounts_need_the_including_rulesets_currencies(tmp_path: Path) -> None:
    root = company(tmp_path)
    header = root / "ruleset.yaml"
    header.write_text(header.read_text().replace('currency: {base: EUR, rates: {JPY: "160"}}\n', ""))
    with pytest.raises(RulesetInvalid) as caught:
        load_dir(root)
    finding = caught.value.findings[0]
    assert finding.code == "currency-missing" and finding.file == "packs/floor/pack.yaml"
    assert "JPY" in finding.message and "rate table" in (finding.hint or "")


@pytest.mark.parametrize("include, pack, message", [
    ("packs/nowhere", PACK, "is not a rules directory"),
    ("packs/floor", PACK.replace("kind: time", "kind: money"), None),
    ("packs/floor", PACK.replace('ruleset: {name: floor-pack, version: "1"}',
                                 'ruleset: {name: floor-pack, version: "1", include: [../..]}'), "includes it back"),
])
def test_include_mistakes_are_findings(tmp_path: Path, include: str, pack: str, message: str | None) -> None:
    root = company(tmp_path, include, pack)
    if message is None:  # the same failure type with another kind in the including catalogue
        (root / "ruleset.yaml").write_text((root / "ruleset.yaml").read_text().replace(
            "    late_delivery: {category: outcome, kind: time}",
            "    late_delivery: {category: outcome, kind: time}\n    flight_delay: {category: outcome, kind: time}"))
        message = "flight_delay"
    with pytest.raises(RulesetInvalid) as caught:
        load_dir(root)
    assert any(message in finding.message for finding in caught.value.findings), caught.value.findings


def test_a_change_in_the_included_pack_is_a_new_version(tmp_path: Path) -> None:
    root = company(tmp_path)
    settler = rulesdir.Settler(root, quiet=0)
    first = settler.poll()
    assert isinstance(first, dict) and "packs/floor/pack.yaml" in first
    assert settler.poll() is None
    time.sleep(0.01)
    pack = root / "packs" / "floor" / "pack.yaml"
    pack.write_text(pack.read_text().replace('"250.00"', '"300.00"'))
    second = settler.poll()
    assert isinstance(second, dict) and b'"300.00"' in second["packs/floor/pack.yaml"]
