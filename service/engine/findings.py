"""Findings: what the loader and the checker report about rules files.

A finding is data (OPA and gorules/zen style): a stable code, a message that says
what was expected, and where: file, line and rule id. Loading fails with
`RulesetInvalid`, which carries every error found, not just the first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    rule_id: str | None = None
    hint: str | None = None

    def render(self) -> str:
        where = self.file or "<rules>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        hint = f"\n    fix: {self.hint}" if self.hint else ""
        return f"{where}:{rule} {self.severity} {self.code}: {self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


class RulesetInvalid(Exception):
    """The rules files cannot be loaded; `findings` says every reason."""

    def __init__(self, findings: list[Finding]):
        self.findings = [f for f in findings if f.severity == "error"] or findings
        first = self.findings[0].render() if self.findings else "no findings"
        more = f" (and {len(self.findings) - 1} more)" if len(self.findings) > 1 else ""
        super().__init__(f"{first}{more}")


def sort_key(finding: Finding) -> tuple[int, str, int, str]:
    return (0 if finding.severity == "error" else 1, finding.file or "", finding.line or 0, finding.code)
