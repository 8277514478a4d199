"""Check mapping files before deploying them: `python -m service.webhooks check [DIR]`.

DIR defaults to rules/webhooks of RECOVERY_RULES_DIR (or the shipped rules). Prints
every finding with file and line; exit status 0 when every system's file loads, 1
otherwise.
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
    for system in SYSTEMS:
        path = directory / f"{system}.yaml"
        try:
            mapping = mapfile.load(path.name, path.read_bytes(), system)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}")
            failed = True
        except RulesetInvalid as exc:
            failed = True
            for finding in exc.findings:
                print(finding.render())
        else:
            print(f"{path}: ok ({len(mapping.fields)} fields)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
