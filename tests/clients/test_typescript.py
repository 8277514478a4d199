"""A TypeScript client generated from the served document (openapi-typescript) compiles the README's
example under `tsc --strict`, and the compiled example gets a real decision from a real server.

The npm tools come from `make clients` (.tools/node, pinned by scripts/clients/package-lock.json).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import direct_decision
from tests.clients import readme
from tests.clients.readme import example
from tests.conftest import API_KEY
from tests.support import ROOT, Server

BIN = ROOT / ".tools" / "node" / "node_modules" / ".bin"
TSC_FLAGS = ["--strict", "--target", "es2022", "--module", "es2022", "--moduleResolution", "bundler",
             "--noUnusedLocals", "--pretty", "false"]
RUNNER = """
declare const process: { argv: string[] };
const decision = await decide(process.argv[2], process.argv[3]);
console.log(JSON.stringify({ refund: decision.mix.refund, level: decision.approval.level }));
"""


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise AssertionError(f"{path.relative_to(ROOT)} is missing: run `make clients`")
    return str(path)


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def generated(served: tuple[Server, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("typescript")
    (work / "openapi.json").write_bytes(served[1])
    result = run([tool("openapi-typescript"), "openapi.json", "-o", "api.d.ts"], work)
    assert result.returncode == 0, result.stdout + result.stderr
    return work


def compile_ts(work: Path, source: str, name: str) -> subprocess.CompletedProcess[str]:
    (work / f"{name}.ts").write_text(source)
    return run([tool("tsc"), *TSC_FLAGS, "--outDir", f"out-{name}", f"{name}.ts"], work)


def test_readme_example_compiles_strictly_and_decides(generated: Path, served: tuple[Server, bytes]) -> None:
    server = served[0]
    result = compile_ts(generated, example("ts") + RUNNER, "readme")
    assert result.returncode == 0, result.stdout + result.stderr
    (generated / "out-readme" / "package.json").write_text('{"type": "module"}')
    ran = run(["node", "out-readme/readme.js", server.url, API_KEY], generated)
    assert ran.returncode == 0, ran.stderr
    answered = json.loads(ran.stdout)
    expected = direct_decision(server, readme.event())
    assert answered == {"refund": expected["mix"]["refund"], "level": expected["approval"]["level"]}
    assert answered["refund"]["currency"] == "EUR"


WRONG = [
    ('tier: "gold"', "tier: 5", "TS2322"),                        # a tier is a string
    ("severity: 3, ", "", "TS2741"),                              # severity is required
    ('channel: "chat"', 'chanel: "chat"', "TS2561"),              # no such field (did you mean)
    ("refund: decision.mix.refund,", "refund: decision.mix.refund.amount,", "TS18047"),  # refund may be null
]


@pytest.fixture(scope="module")
def wrong_compiled(generated: Path) -> str:
    """tsc's output for every wrong variant of the example, compiled in one run (one file each)."""
    source = example("ts") + RUNNER
    names = []
    for index, (old, new, _) in enumerate(WRONG):
        assert old in source
        names.append(f"wrong{index}.ts")
        (generated / names[-1]).write_text(source.replace(old, new, 1))
    result = run([tool("tsc"), *TSC_FLAGS, "--noEmit", *names], generated)
    assert result.returncode != 0
    return result.stdout


@pytest.mark.parametrize(("index", "error"), [(index, error) for index, (_, _, error) in enumerate(WRONG)])
def test_the_types_refuse_what_the_service_refuses(wrong_compiled: str, index: int, error: str) -> None:
    errors = [line for line in wrong_compiled.splitlines() if line.startswith(f"wrong{index}.ts(")]
    assert errors and all(error in line for line in errors), wrong_compiled


def test_optional_request_fields_are_optional_and_response_fields_present(generated: Path) -> None:
    # The smallest event the contract takes compiles; a decision without its always-sent fields does not.
    minimal = ('import type { components } from "./api";\n'
               'export const event: components["schemas"]["FailureEvent"] = '
               '{ failure: { type: "late_delivery", severity: 3, root_cause: "provider" } };\n')
    assert compile_ts(generated, minimal, "minimal").returncode == 0
    partial = ('import type { components } from "./api";\n'
               'export const owed: components["schemas"]["Decision"]["owed"] = undefined;\n')
    result = compile_ts(generated, partial, "partial")
    assert result.returncode != 0 and "TS2322" in result.stdout, result.stdout
