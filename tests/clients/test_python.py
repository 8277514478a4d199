"""A Python client generated from the served document (openapi-python-client, in the test extra) runs
the README's example against a real server with API keys, and gets the decision the server gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients import readme
from tests.clients.conftest import direct_decision
from tests.conftest import API_KEY
from tests.support import Server

CONFIG = "project_name_override: recovery-client\npackage_name_override: recovery_client\n"


@pytest.fixture(scope="module")
def generated(served: tuple[Server, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("python-client")
    (work / "openapi.json").write_bytes(served[1])
    (work / "config.yaml").write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run([str(generator), "generate", "--path", "openapi.json", "--config", "config.yaml",
                             "--meta", "none", "--output-path", "recovery_client"],
                            cwd=work, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "PATH": f"{generator.parent}:{os.environ.get('PATH', '')}"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (work / "recovery_client" / "api" / "decisions" / "decide.py").is_file(), result.stdout
    return work


def run_example(work: Path, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", source], cwd=work, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(work)})


def test_readme_example_decides_through_the_generated_client(generated: Path, served: tuple[Server, bytes]) -> None:
    server = served[0]
    source = readme.example("python")
    assert "http://127.0.0.1:8080" in source and "your-api-key" in source
    ran = run_example(generated, source.replace("http://127.0.0.1:8080", server.url).replace("your-api-key", API_KEY))
    assert ran.returncode == 0, ran.stderr
    expected = direct_decision(server, readme.event())
    refund = expected["mix"]["refund"]
    assert ran.stdout.split() == [refund["amount"], refund["currency"], expected["approval"]["level"]]


def test_a_wrong_key_comes_back_as_a_typed_problem(generated: Path, served: tuple[Server, bytes]) -> None:
    # The README's assert is what stops a program that got a problem instead of a decision.
    source = readme.example("python").replace("http://127.0.0.1:8080", served[0].url)
    ran = run_example(generated, source)
    assert ran.returncode != 0
    assert "AssertionError: Problem(" in ran.stderr and "bad-credentials" in ran.stderr, ran.stderr
