"""Case files: an expectation of the wrong shape is a finding when the file loads, not a crash of
`recovery rules test` when the case runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.authoring.cases import load_cases

CASE = """cases:
  - note: a case
    event: {failure: {type: late_delivery, severity: 2, root_cause: provider}}
    expect:
      %s
"""


@pytest.mark.parametrize("expect, key", [
    ('reason_contains: "the customer did not ask"', "reason_contains"),
    ("justice: true", "justice"),
    ("fired: some-rule", "fired"),
    ("owed: \"250.00\"", "owed"),
])
def test_an_expectation_of_the_wrong_shape_is_a_finding(tmp_path: Path, expect: str, key: str) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "shape.yaml").write_text(CASE % expect)
    cases, findings = load_cases(tmp_path / "cases")
    assert cases == [] and len(findings) == 1
    assert f"`{key}` takes" in findings[0].message and findings[0].line == 5


def test_well_shaped_expectations_load(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "shape.yaml").write_text(CASE % 'reason_contains: {distributive: "did not ask"}')
    cases, findings = load_cases(tmp_path / "cases")
    assert findings == [] and len(cases) == 1
