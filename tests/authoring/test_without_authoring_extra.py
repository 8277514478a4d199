"""The runtime image has no `authoring` extra (no hypothesis): `rules check` still works there, and
`rules test` says what to install instead of failing with an import error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT, RULES

WITHOUT = "import sys; sys.modules['hypothesis'] = None; from service.cli import main; sys.exit(main(sys.argv[1:]))"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_rules_check_needs_no_hypothesis() -> None:
    result = run("rules", "check", str(RULES))
    assert result.returncode == 0, result.stderr
    assert "0 errors, 0 warnings" in result.stdout


@pytest.mark.parametrize(("extra", "status"), [([], 2), (["--no-invariants"], 0)])
def test_rules_test_names_the_extra_it_needs(extra: list[str], status: int) -> None:
    result = run("rules", "test", str(RULES), *extra)
    assert result.returncode == status, result.stdout + result.stderr
    if status == 2:
        assert "pip install 'service-recovery[authoring]'" in result.stderr
