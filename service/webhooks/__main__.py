"""Check mapping files before deploying them: `python -m service.webhooks check [DIR]`.

DIR defaults to rules/webhooks of RECOVERY_RULES_DIR (or the shipped rules). Prints
every finding with file and line: each system's mapping file, then each phrase
file they name (a phrase listed for two values, an empty list, a phrase an earlier
one always beats). Exit status 0 when every file loads (warnings alone are fine),
1 otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..engine.findings import RulesetInvalid
from ..settings import SHIPPED_RULES
from . import mapfile
from .systems import SYSTEMS


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "check" or len(argv) > 2:
        print("usage: python -m service.webhooks check [DIR]", file=sys.stderr)
        return 2
    directory = Path(argv[1]) if len(argv) == 2 else \
        Path(os.environ.get("RECOVERY_RULES_DIR") or SHIPPED_RULES) / "webhooks"
    failed = False
    shared: set[str] = set()

    def read_shared(name: str) -> bytes:
        shared.add(name)
        return (directory / name).read_bytes()

    for system in SYSTEMS:
        path = directory / f"{system}.yaml"
        try:
            mapping = mapfile.load(path.name, path.read_bytes(), system, read_shared)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}")
            failed = True
        except RulesetInvalid as exc:
            failed = True
            for finding in exc.findings:
                print(finding.render())
        else:
            print(f"{path}: ok ({len(mapping.fields)} fields)")
            for warning in mapping.warnings:
                print(warning.render())
    for name in sorted(shared):
        path = directory / name
        try:
            findings = mapfile.check_phrases(name, path.read_bytes())
        except OSError:
            continue  # the mapping that names it already said it cannot be read
        errors = [finding for finding in findings if finding.severity == "error"]
        failed = failed or bool(errors)
        if not errors:
            sets = mapfile.load_phrases(name, path.read_bytes())
            print(f"{path}: ok ({sum(len(row.phrases) for item in sets for row in item.rows)} phrases)")
        for finding in findings:
            print(finding.render())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
