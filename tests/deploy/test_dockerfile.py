"""What the Dockerfile promises a platform engineer, read from the file itself.

`make image-test` builds the image and starts it (tests/deploy/image_smoke.py);
these checks run on every `make test`.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib

from service.cli import MALLOC_ENV
from tests.deploy.tools import DOCKERFILE, ROOT


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments) with continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            result.append([])
        if result:
            result[-1].append((instruction.upper(), arguments.strip()))
    return result


def runtime_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments in stages()[-1]:
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(arguments))  # type: ignore[arg-type]
    return env


def test_the_build_has_a_builder_stage_and_a_runtime_stage_without_a_compiler() -> None:
    builder, runtime = stages()
    assert builder[0] == ("FROM", "${BASE_IMAGE} AS builder")
    builder_runs = " ".join(arguments for instruction, arguments in builder if instruction == "RUN")
    runtime_runs = " ".join(arguments for instruction, arguments in runtime if instruction == "RUN")
    assert "gcc" in builder_runs and "python3-dev" in builder_runs
    assert "gcc" not in runtime_runs and "-dev" not in runtime_runs
    assert ("COPY", "--from=builder /opt/recovery /opt/recovery") in runtime


def test_exactly_the_pinned_versions_are_installed() -> None:
    builder = stages()[0]
    installs = [arguments for instruction, arguments in builder if instruction == "RUN" and "pip install" in arguments]
    assert len(installs) == 1
    # the image talks to PostgreSQL and can trace; no test or authoring extras
    assert "--constraint constraints.txt '.[postgres,tracing]'" in installs[0]
    assert "pip check" in installs[0]


TEST_ONLY = ("pytest", "schemathesis", "hypothesis", "playwright", "jsonschema", "openapi-python-client", "py-spy",
             "zen-engine")


def test_the_image_installs_no_test_packages() -> None:
    # The image installs the base dependencies plus the postgres and tracing extras (above).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    shipped = [*project["dependencies"], *project["optional-dependencies"]["postgres"],
               *project["optional-dependencies"]["tracing"]]
    names = {re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower() for requirement in shipped}
    assert names.isdisjoint(TEST_ONLY), names & set(TEST_ONLY)


def test_the_service_runs_as_an_unprivileged_user() -> None:
    users = [arguments for instruction, arguments in stages()[-1] if instruction == "USER"]
    assert users == ["10001:10001"], "numeric, so runAsNonRoot can verify it"


def test_the_command_is_exec_form_recovery_serve() -> None:
    runtime = dict(stages()[-1])
    assert json.loads(runtime["ENTRYPOINT"]) == ["recovery"]
    assert json.loads(runtime["CMD"]) == ["serve"]


def test_runtime_environment() -> None:
    env = runtime_env()
    assert {key: env[key] for key in MALLOC_ENV} == MALLOC_ENV, "else `recovery serve` re-executes itself"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["RECOVERY_HOST"] == "0.0.0.0"
    assert env["RECOVERY_RULES_DIR"] == "/app/rules"
    # PORT is honoured only while RECOVERY_PORT is unset
    assert "RECOVERY_PORT" not in env and "PORT" not in env
    assert ("COPY", "rules/ /app/rules/") in stages()[-1]


def test_no_secret_can_enter_the_build_context() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", "an allow-list: only what is named below is sent"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "constraints.txt", "README.md", "service", "rules", "samples/events.jsonl"}
    secrets = re.compile(r"(?i)\b(ARG|ENV)\s+\S*(KEY|SECRET|TOKEN|PASSWORD)\S*=")
    assert not secrets.search(DOCKERFILE.read_text())
