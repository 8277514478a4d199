"""The deploy-test tools (installed by `make tools` into .tools/) and chart rendering.

A missing tool fails the test with the command that installs it: these tests are
never skipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Sequence

import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
HELM = TOOLS / "bin" / "helm"
TOOLS_BIN = TOOLS / "venv" / "bin"
KUBERNETES_VALIDATE = TOOLS_BIN / "kubernetes-validate"
CHECKOV = TOOLS_BIN / "checkov"
HADOLINT = TOOLS_BIN / "hadolint"
CHART = ROOT / "helm" / "service-recovery"
PRODUCTION_VALUES = CHART / "values-production.yaml"
DOCKERFILE = ROOT / "Dockerfile"
NAMESPACE = "recovery"
RELEASE = "recovery"
KUBERNETES_VERSION = "1.33.0"


def tool(path: Path) -> str:
    if not path.exists():
        raise AssertionError(f"{path.relative_to(ROOT)} is missing: run `make tools`")
    return str(path)


def run(argv: Sequence[str], stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return run([tool(HELM), *args])


def render_text(*args: str, chart: Path = CHART) -> str:
    """`helm template` output; fails the test with helm's message when it does not render."""
    result = helm("template", RELEASE, str(chart), "--namespace", NAMESPACE, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(*args: str, chart: Path = CHART) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(render_text(*args, chart=chart)) if doc]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, rendered {len(found)}"
    return found[0]


def kinds(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(doc["kind"] for doc in docs)


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(docs: list[dict[str, Any]]) -> dict[str, str]:
    return {item["name"]: item.get("value") for item in container(docs)["env"]}
