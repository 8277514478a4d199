"""`recovery rules check --format`: the findings as JSON, or as SARIF 2.1.0 for code-scanning annotations.

SARIF is what GitHub code scanning, GitLab and Azure DevOps read to annotate a pull request's
lines: one `result` per finding, its `ruleId` the finding's code, the file relative to
the working directory (where CI runs, the repository root) and the line. No library writes
SARIF from our findings; the log is a small, fixed shape, validated against the OASIS schema
in tests/authoring/test_rules_check_formats.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import __version__
from .check import CheckReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning"}


def as_json(report: CheckReport, directory: Path) -> dict[str, Any]:
    return {"directory": str(directory), "rules": len(report.ruleset.rules) if report.ruleset else 0,
            "errors": len(report.errors), "warnings": len(report.warnings),
            "findings": [finding.as_dict() for finding in report.findings]}


def _uri(directory: Path, file: str) -> str:
    path = (directory / file).resolve()
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_uri()


def as_sarif(report: CheckReport, directory: Path) -> dict[str, Any]:
    codes = sorted({finding.code for finding in report.findings})
    results = []
    for finding in report.findings:
        text = finding.message + (f" Fix: {finding.hint}" if finding.hint else "")
        result: dict[str, Any] = {"ruleId": finding.code, "ruleIndex": codes.index(finding.code),
                                  "level": LEVEL[finding.severity], "message": {"text": text}}
        if finding.file is not None:
            location: dict[str, Any] = {"artifactLocation": {"uri": _uri(directory, finding.file)}}
            if finding.line is not None:
                location["region"] = {"startLine": finding.line}
            result["locations"] = [{"physicalLocation": location}]
        if finding.rule_id is not None:
            result["properties"] = {"rule": finding.rule_id}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "recovery rules check", "version": __version__,
                                "rules": [{"id": code, "name": code} for code in codes]}},
            "results": results,
        }],
    }
