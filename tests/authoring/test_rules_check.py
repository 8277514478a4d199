"""`recovery rules check` on a good rules directory and on one with each kind of mistake."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main
from service.engine.loader import load_dir
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
    assert f"{len(load_dir(RULES).rules)} rules, 0 errors, 0 warnings" in result.stdout


def test_an_error_exits_1_from_the_command(tmp_path: Path) -> None:
    directory = mutated(tmp_path, "30-process.yaml", "failure.severity: 3\n", "failure.sevrity: 3\n")
    result = subprocess.run([sys.executable, "-m", "service.cli", "rules", "check", str(directory)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert "30-process.yaml:" in result.stdout and "[process-firm-sev3] error condition" in result.stdout


MISTAKES = [
    ("duplicate-id", "error", "30-process.yaml", "id: process-token", "id: process-firm-apology",
     "process-firm-apology"),
    ("condition", "error", "30-process.yaml", "failure.severity: 3\n", "failure.sevrity: 3\n", "process-firm-sev3"),
    ("condition", "error", "50-customers.yaml", "customer.tier: platinum", "customer.tier: diamond",
     "tier-platinum-personal"),
    ("condition", "error", "15-owed.yaml", "facts.sla_credit_percent: {gt: 0}", "facts.sla_credit_pct: {gt: 0}",
     "sla-service-credit"),
    ("condition", "error", "15-owed.yaml", "facts.sla_credit_percent: {gt: 0}", "facts.sla_credit_percent: {gt: 200}",
     "sla-service-credit"),
    ("misspelt-value", "error", "30-process.yaml", "failure.type: rude_agent", "failure.type: rude_agnet",
     "rude-treatment-employee-recovery"),
    ("condition-value", "warning", "30-process.yaml", "failure.type: rude_agent", "failure.type: parking_fine",
     "rude-treatment-employee-recovery"),
    ("amount-off-rate", "error", "50-customers.yaml", 'credit: {amount: {EUR: "5.00"}',
     'credit: {amount: {EUR: "16.50", USD: "1650"}', "fair-floor-credit"),
    ("amount-off-rate", "error", "ruleset.yaml", 'max: {EUR: "150.00"}', 'max: {EUR: "150.00", JPY: "240"}', None),
    ("percent-over-limit", "error", "20-outcome.yaml", "- {from: 4, percent_of_order: 25}",
     "- {from: 4, percent_of_order: 500}", "outcome-value-full"),
    ("percent-over-limit", "error", "50-customers.yaml", "discount: {percent: 15, valid_days: 60}",
     "discount: {percent: 40, valid_days: 60}", "tier-gold-care"),
    ("impossible-type-kind", "error", "20-outcome.yaml", "    when:\n      failure.kind: product\n",
     "    when:\n      failure.kind: product\n      failure.type: late_delivery\n", "product-exchange"),
    ("tier-equals", "warning", "50-customers.yaml", "customer.tier: {at_least: gold}", "customer.tier: gold",
     "tier-gold-care"),
    ("never-fires", "error", "30-process.yaml", "failure.severity: 3\n", "failure.severity: {gt: 3, lt: 4}\n",
     "process-firm-sev3"),
    ("currency-missing", "error", "ruleset.yaml", 'max: {EUR: "150.00"}', 'max: {USD: "165.00"}', None),
    ("currency-missing", "error", "50-customers.yaml", 'credit: {amount: {EUR: "5.00"}', 'credit: {amount: {USD: "5.50"}',
     "fair-floor-credit"),
    ("amount", "error", "20-outcome.yaml", "part: facts.downtime_hours", "part: facts.downtime_hourz",
     "outage-pro-rata"),
    ("alternative", "error", "20-outcome.yaml", "alternative: redo", "alternative: rebook", "service-re-performance"),
    ("approval-level", "error", "10-every-failure.yaml", "approval: manager", "approval: boss",
     "severity5-manager-ownership"),
    ("overlap", "warning", "20-outcome.yaml", "            - {from: 5, percent_of_order: 25}\n",
     "            - {from: 5, percent_of_order: 25}\n      replacement: repair\n", "product-exchange"),
    ("overlap", "warning", "30-process.yaml", "apology: {level: sincere, from: agent}\n      explanation: true",
     "apology: {level: standard, from: agent}\n      explanation: true", "process-firm-apology"),
    ("schema", "error", "30-process.yaml", "apology: {level: personal, from: supervisor}",
     "apology: {level: grovelling, from: supervisor}", "process-firm-sev4"),
    ("amount-without-currency", "warning", "50-customers.yaml",
     "      failure.severity: {gte: 2}\n    then:\n      credit: {amount: {EUR: \"5.00\"}",
     "      failure.severity: {gte: 2}\n      order.amount.amount: {lt: \"1000\"}\n    then:\n"
     "      credit: {amount: {EUR: \"5.00\"}",
     "fair-floor-credit"),
    ("template", "error", "messages.yaml", "Refund {amount} to the original payment.",
     "Refund {amount} to {customer_name}.", None),
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
    directory = mutated(tmp_path, "30-process.yaml", "failure.severity: 3\n", "failure.sevrity: 3\n")
    _, findings, _ = check(directory, capsys)
    line = int(findings[0]["line"])
    assert "failure.sevrity" in (directory / "30-process.yaml").read_text().splitlines()[line - 1]


def test_broken_case_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    (target / "cases" / "broken.yaml").write_text("cases:\n  - note: x\n    event: {}\n    expect: {refnd: '1'}\n")
    status, findings, out = check(target, capsys)
    assert status == 1
    assert any(f["file"] == "cases/broken.yaml" and "refnd" in f["message"] for f in findings), out
