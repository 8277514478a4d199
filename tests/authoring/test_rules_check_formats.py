"""`recovery rules check --format json|sarif`: the same findings as the text output, machine-readable;
the SARIF log validates against the OASIS SARIF 2.1.0 schema (shipped in the npm package
@microsoft/jest-sarif, installed by `make clients`) and points at the file and line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.authoring.test_rules_check import mutated
from tests.support import ROOT, RULES

SARIF_SCHEMA = ROOT / ".tools" / "node" / "node_modules" / "@microsoft" / "jest-sarif" / "lib" / "schemas" / \
    "sarif-2.1.0-rtm.5.json"


def run_check(directory: Path, form: str, cwd: Path = ROOT) -> tuple[int, dict]:
    result = subprocess.run([sys.executable, "-m", "service.cli", "rules", "check", str(directory), "--format", form],
                            capture_output=True, text=True, cwd=cwd, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    return result.returncode, json.loads(result.stdout)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rules directory with a misspelt failure type (an error) and tier equality (a warning)."""
    base = tmp_path_factory.mktemp("formats")
    directory = mutated(base, "30-process.yaml", "failure.type: rude_agent", "failure.type: rude_agnet")
    text = (directory / "50-customers.yaml").read_text()
    (directory / "50-customers.yaml").write_text(text.replace("customer.tier: {at_least: gold}", "customer.tier: gold"))
    return directory


def test_json_lists_each_finding_with_its_place(broken: Path) -> None:
    status, document = run_check(broken, "json")
    assert status == 1
    assert (document["errors"], document["warnings"]) == (1, 1)
    misspelt = next(f for f in document["findings"] if f["code"] == "misspelt-value")
    assert misspelt["severity"] == "error" and misspelt["file"] == "30-process.yaml"
    assert misspelt["rule_id"] == "rude-treatment-employee-recovery" and misspelt["hint"] == "did you mean `rude_agent`?"
    line = (broken / "30-process.yaml").read_text().splitlines()[misspelt["line"] - 1]
    assert "rude_agnet" in line


def test_json_of_the_shipped_rules_is_clean() -> None:
    status, document = run_check(RULES, "json")
    assert status == 0 and document["findings"] == [] and document["rules"] > 0


def test_sarif_validates_against_the_schema_and_annotates_the_line(broken: Path) -> None:
    if not SARIF_SCHEMA.is_file():
        raise AssertionError(f"{SARIF_SCHEMA.relative_to(ROOT)} is missing: run `make clients`")
    # Run from the directory's parent, as CI runs from the repository root: the uri is relative to it.
    status, log = run_check(broken, "sarif", cwd=broken.parent)
    assert status == 1
    schema = json.loads(SARIF_SCHEMA.read_text())
    errors = [error.message for error in jsonschema.Draft4Validator(schema).iter_errors(log)]
    assert errors == []
    results = log["runs"][0]["results"]
    assert {(r["ruleId"], r["level"]) for r in results} == {("misspelt-value", "error"), ("tier-equals", "warning")}
    misspelt = next(r for r in results if r["ruleId"] == "misspelt-value")
    location = misspelt["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"{broken.name}/30-process.yaml"
    line = (broken / "30-process.yaml").read_text().splitlines()[location["region"]["startLine"] - 1]
    assert "rude_agnet" in line
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[misspelt["ruleIndex"]]["id"] == "misspelt-value"


def test_sarif_schema_check_is_not_vacuous() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert list(jsonschema.Draft4Validator(schema).iter_errors({"version": "2.1.0", "runs": [{"results": []}]}))
