"""Small rules directories for engine tests."""

from __future__ import annotations

from pathlib import Path

HEADER = """\
ruleset: {name: test, version: "1"}
catalogues:
  tiers: [standard, gold]
  currencies: [EUR, JPY]
  failure_types:
    late_delivery: {category: outcome, kind: time}
    rude_agent: {category: process, kind: attention}
limits:
  total: {max_percent_of_order: 150}
"""


def write_rules(directory: Path, rules: str, header: str = HEADER) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ruleset.yaml").write_text(header)
    (directory / "rules.yaml").write_text(rules)
    return directory
