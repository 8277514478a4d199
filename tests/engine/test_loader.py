"""A rules file with a mistake fails to load with the file, the rule id, the line and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.engine.findings import RulesetInvalid
from service.engine.loader import load_dir
from tests.engine.rulesets import HEADER, write_rules
from tests.support import RULES


def findings_for(tmp_path: Path, rules: str, header: str = HEADER):  # type: ignore[no-untyped-def]
    with pytest.raises(RulesetInvalid) as caught:
        load_dir(write_rules(tmp_path / "rules", rules, header))
    return caught.value.findings


def test_shipped_rules_load_without_warnings() -> None:
    ruleset = load_dir(RULES)
    assert ruleset.meta.name == "default"
    assert len(ruleset.rules) >= 30
    assert ruleset.warnings == ()


@pytest.mark.parametrize("rules, line, rule_id, words", [
    # a misspelt field, with a suggestion
    ("""rules:
  - id: r1
    description: a rule that tests a misspelt field
    when:
      failure.sevrity: {gte: 3}
    then: {explanation: true}
""", 5, "r1", ["unknown field `failure.sevrity`", "failure.severity"]),
    # an operator the field does not take
    ("""rules:
  - id: r2
    description: booleans have no ranges at all
    when:
      failure.recurring: {gte: 1}
    then: {explanation: true}
""", 5, "r2", ["operator `gte` does not apply to `failure.recurring`"]),
    # a value of the wrong type
    ("""rules:
  - id: r3
    description: severity is a whole number
    when:
      failure.severity: {gte: "3"}
    then: {explanation: true}
""", 5, "r3", ["whole number"]),
    # a tier outside the catalogue
    ("""rules:
  - id: r4
    description: tiers come from the catalogue
    when:
      customer.tier: golden
    then: {explanation: true}
""", 5, "r4", ["`golden` is not in the `tiers` catalogue", "gold"]),
    # a then key that does not exist
    ("""rules:
  - id: r5
    description: there is no cash component
    then:
      cash: 5
""", 5, "r5", ["unknown key `cash`"]),
    # an apology level that does not exist
    ("""rules:
  - id: r6
    description: apology levels are fixed
    then:
      apology: {level: grovelling}
""", 5, "r6", ["'none', 'standard', 'sincere' or 'personal'"]),
    # contradictory conditions
    ("""rules:
  - id: r7
    description: no event has severity 5 and below 3
    when:
      all:
        - failure.severity: 5
        - failure.severity: {lt: 3}
    then: {explanation: true}
""", 4, "r7", ["can never fire"]),
    # a fixed amount missing a catalogue currency
    ("""rules:
  - id: r8
    description: amounts for every currency
    then:
      credit: {amount: {EUR: "5.00"}}
""", 5, "r8", ["no amount for JPY"]),
    # too many decimal places for the currency
    ("""rules:
  - id: r9
    description: yen have no minor unit
    then:
      credit: {amount: {EUR: "5.00", JPY: "5.5"}}
""", 5, "r9", ["JPY allows (0)"]),
    # a missing description
    ("""rules:
  - id: r10
    then: {explanation: true}
""", 2, "r10", ["`rules.0.description` is required"]),
    # an empty then
    ("""rules:
  - id: r11
    description: contributes nothing at all
    then: {}
""", 4, "r11", ["contributes nothing"]),
])
def test_mistake_is_reported_with_file_line_rule_and_expectation(tmp_path: Path, rules: str, line: int,
                                                                 rule_id: str, words: list[str]) -> None:
    findings = findings_for(tmp_path, rules)
    match = [f for f in findings if f.rule_id == rule_id]
    assert match, [f.render() for f in findings]
    finding = match[0]
    assert finding.file == "rules.yaml"
    assert finding.line == line, finding.render()
    for word in words:
        assert word in finding.render(), finding.render()


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    findings = findings_for(tmp_path, """rules:
  - id: same
    description: the first rule with this id
    then: {explanation: true}
  - id: same
    description: the second rule with this id
    then: {explanation: true}
""")
    assert findings[0].code == "duplicate-id"
    assert findings[0].line == 5 and "rules.yaml:2" in findings[0].message


@pytest.mark.parametrize("raw, code", [
    (b"rules: [\n", "yaml"),
    (b"rules:\n  - id: \xff\xfe\n", "not-utf8"),
    (b"a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
     "too-large"),
    (b"rules: " + b"[" * 200 + b"]" * 200 + b"\n", "too-large"),
    (b"rules: 1\nrules: 2\n", "duplicate-key"),
    (b"- just\n- a list\n", "schema"),
])
def test_hostile_files_get_a_finding_not_a_crash(tmp_path: Path, raw: bytes, code: str) -> None:
    directory = write_rules(tmp_path / "rules", "")
    (directory / "rules.yaml").write_bytes(raw)
    with pytest.raises(RulesetInvalid) as caught:
        load_dir(directory)
    assert code in [f.code for f in caught.value.findings], [f.render() for f in caught.value.findings]


def test_missing_header_and_catalogues(tmp_path: Path) -> None:
    findings = findings_for(tmp_path, "rules: []\n", header="combine: {refund: sum}\n")
    assert {f.code for f in findings} == {"missing-section"}
    assert len(findings) == 2


def test_values_outside_open_catalogues_are_warnings(tmp_path: Path) -> None:
    ruleset = load_dir(write_rules(tmp_path / "rules", """rules:
  - id: lost
    description: a type the catalogue does not list yet
    when: {failure.type: lost_luggage}
    then: {explanation: true}
"""))
    assert [w.code for w in ruleset.warnings] == ["condition-value"]
    assert ruleset.warnings[0].line == 4 and ruleset.warnings[0].rule_id == "lost"
