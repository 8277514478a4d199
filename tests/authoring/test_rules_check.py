"""`recovery rules check` on a good rules directory and on one with each kind of mistake."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main
from tests.support import ROOT, RULES

FINDING = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): (\[(?P<rule>[^\]]+)\] )?(?P<severity>error|warning) "
                     r"(?P<code>[a-z0-9-]+): (?P<message>.*)$")


def check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, str]], str]:
    """The CLI's own code path, in process (one subprocess test below covers the real command)."""
    status = main(["rules", "check", str(directory)])
    stdout = capsys.readouterr().out
    lines = stdout.splitlines()
    findings = []
    for index, line in enumerate(lines):
        match = FINDING.match(line)
        if match:
            finding = match.groupdict()
            following = lines[index + 1] if index + 1 < len(lines) else ""
            finding["hint"] = following.strip().removeprefix("fix: ") if following.startswith("    fix:") else ""
            findings.append(finding)
    return status, findings, stdout


def mutated(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    path = target / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))
    return target


def test_shipped_rules_pass_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "service.cli", "rules", "check", str(RULES)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout
    assert "34 rules, 0 errors, 0 warnings" in result.stdout


def test_an_error_exits_1_from_the_command(tmp_path: Path) -> None:
    directory = mutated(tmp_path, "20-outcome.yaml", "failure.severity: 2\n", "failure.sevrity: 2\n")
    result = subprocess.run([sys.executable, "-m", "service.cli", "rules", "check", str(directory)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert "20-outcome.yaml:" in result.stdout and "[outcome-firm-sev2] error condition" in result.stdout


MISTAKES = [
    ("duplicate-id", "error", "30-process.yaml", "id: process-firm-goodwill", "id: process-firm-apology",
     "process-firm-apology"),
    ("condition", "error", "20-outcome.yaml", "failure.severity: 2\n", "failure.sevrity: 2\n", "outcome-firm-sev2"),
    ("condition", "error", "50-customers.yaml", "customer.tier: platinum", "customer.tier: diamond",
     "tier-platinum-personal"),
    ("condition-value", "warning", "30-process.yaml", "failure.type: rude_agent", "failure.type: rude_agnet",
     "rude-treatment-employee-recovery"),
    ("never-fires", "error", "20-outcome.yaml", "failure.severity: 5\n    then:\n      refund: {percent_of_order: 100}\n"
     "      credit", "failure.severity: {gt: 4, lt: 5}\n    then:\n      refund: {percent_of_order: 100}\n      credit",
     "outcome-firm-sev5"),
    ("currency-missing", "error", "ruleset.yaml", ', JPY: "24000"}', "}", None),
    ("currency-missing", "error", "50-customers.yaml", ', JPY: "800"}', "}", "fair-floor-credit"),
    ("overlap", "warning", "20-outcome.yaml", "      refund: {percent_of_order: 30}",
     "      refund: {percent_of_order: 30}\n      replacement: repair", "product-failure-exchange"),
    ("overlap", "warning", "30-process.yaml", "discount: {percent: 15, valid_days: 60}",
     "discount: {percent: 5, valid_days: 60}", "process-firm-sev3"),
    ("schema", "error", "30-process.yaml", "apology: {level: personal, from: supervisor}",
     "apology: {level: grovelling, from: supervisor}", "process-firm-sev4"),
    ("amount-without-currency", "warning", "50-customers.yaml",
     "failure.root_cause: [provider, unknown]\n      failure.severity: {gte: 2}\n    then:\n      credit:\n"
     "        amount: {EUR: \"5.00\"",
     "failure.root_cause: [provider, unknown]\n      failure.severity: {gte: 2}\n"
     "      order.amount.amount: {lt: \"1000\"}\n    then:\n      credit:\n        amount: {EUR: \"5.00\"",
     "fair-floor-credit"),
]


@pytest.mark.parametrize("code, severity, file, old, new, rule_id", MISTAKES,
                         ids=[f"{m[0]}-{m[2]}" for m in MISTAKES])
def test_each_kind_of_mistake_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str,
                                       severity: str, file: str, old: str, new: str, rule_id: str | None) -> None:
    status, findings, out = check(mutated(tmp_path, file, old, new), capsys)
    matches = [f for f in findings if f["code"] == code and f["severity"] == severity]
    assert matches, out
    finding = matches[0]
    assert finding["file"] == file, out
    assert int(finding["line"]) > 0
    assert finding["rule"] == rule_id, out
    assert finding["hint"], f"no fix hint:\n{out}"
    assert status == (1 if severity == "error" else 0), out


def test_the_line_points_at_the_mistake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = mutated(tmp_path, "20-outcome.yaml", "failure.severity: 2\n", "failure.sevrity: 2\n")
    _, findings, _ = check(directory, capsys)
    line = int(findings[0]["line"])
    assert "failure.sevrity" in (directory / "20-outcome.yaml").read_text().splitlines()[line - 1]


def test_broken_case_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    (target / "cases" / "broken.yaml").write_text("cases:\n  - note: x\n    event: {}\n    expect: {refnd: '1'}\n")
    status, findings, out = check(target, capsys)
    assert status == 1
    assert any(f["file"] == "cases/broken.yaml" and "refnd" in f["message"] for f in findings), out
