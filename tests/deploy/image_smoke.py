"""Smoke test of the built image: `make image-test` (builds it first with `make image`).

Not collected by `make test` (the build takes minutes). It starts the image's own
entrypoint and command with `buildah run` (chroot isolation, the host's network)
and talks HTTP to it: a decision from the shipped rules, the PORT variable, rules
from a mounted directory, a clean SIGTERM shutdown, and nothing written outside
/tmp (what readOnlyRootFilesystem needs).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from service.engine import loader
from tests.deploy.tools import ROOT
from tests.support import OUTPUT, free_port

IMAGE = os.environ.get("RECOVERY_IMAGE", "localhost/service-recovery:dev")
BUILDAH = ["bash", str(ROOT / "scripts" / "buildah.sh")]
RULES = ROOT / "rules"
EVENT = {
    "event_id": "crm-48213",
    "failure": {"type": "late_delivery", "severity": 3, "root_cause": "provider"},
    "customer": {"id": "c-1009", "tier": "gold"},
    "order": {"id": "o-77", "amount": {"amount": "80.00", "currency": "EUR"}},
    "context": {"channel": "chat", "minutes_since_report": 5},
}
# Written by `buildah run` itself, or not part of the image's filesystem.
NOT_THE_IMAGE = ("proc", "sys", "dev", "run", "tmp", "etc/hosts", "etc/resolv.conf", "etc/hostname")


def buildah(*args: str, check: bool = True) -> str:
    result = subprocess.run([*BUILDAH, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    inspected = json.loads(buildah("inspect", "--type", "image", IMAGE))
    return inspected["Docker"]["config"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    name = buildah("from", "--pull-never", "--name", f"smoke-{uuid.uuid4().hex[:8]}", IMAGE).strip()
    try:
        yield name
    finally:
        buildah("rm", name, check=False)


def run_in(container: str, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    flags = [f"--env={key}={value}" for key, value in (env or {}).items()]
    return subprocess.run([*BUILDAH, "run", "--isolation", "chroot", *flags, container, "--", *command],
                          capture_output=True, text=True, timeout=120)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def server_pid(root: int) -> int:
    """The pid of the process running the image's command, under buildah's chroot helpers."""
    for pid in descendants(root):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            # `recovery serve` itself: with the MALLOC_* variables set by the image it does
            # not re-execute as `python3 -m service.cli serve`
            if argv[0].endswith(b"/python3") and argv[1:3] == [b"/opt/recovery/bin/recovery", b"serve"]:
                assert "Uid:\t10001\t" in Path(f"/proc/{pid}/status").read_text()
                return pid
    raise AssertionError("no `recovery serve` process is running")


@contextlib.contextmanager
def serving(container: str, config: dict[str, Any], name: str, env: dict[str, str],
            volumes: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """Run the image's ENTRYPOINT + CMD; yield (url, process, log)."""
    OUTPUT.mkdir(exist_ok=True)
    log = OUTPUT / f"image-{name}.log"
    flags = [f"--env={key}={value}" for key, value in env.items()] + [f"--volume={volume}" for volume in volumes]
    command = [*config["Entrypoint"], *config["Cmd"]]
    with log.open("wb") as sink:
        process = subprocess.Popen([*BUILDAH, "run", "--isolation", "chroot", *flags, container, "--", *command],
                                   stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, process, log
    finally:
        stop(process)


def descendants(root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children(pid))
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server, then make sure nothing of the run is left: killing `buildah run`
    alone would orphan the server under buildah's chroot helpers."""
    if process.poll() is not None:
        return
    tree = descendants(process.pid)
    with contextlib.suppress(AssertionError, ProcessLookupError):
        os.kill(server_pid(process.pid), signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=40)
    for pid in reversed(tree):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_image_config(config: dict[str, Any]) -> None:
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["recovery"] and config["Cmd"] == ["serve"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["RECOVERY_HOST"] == "0.0.0.0" and env["RECOVERY_RULES_DIR"] == "/app/rules"
    assert env["MALLOC_TRIM_THRESHOLD_"] == env["MALLOC_MMAP_THRESHOLD_"] == "268435456"
    assert "RECOVERY_PORT" not in env
    assert "8080/tcp" in config["ExposedPorts"]


def test_the_build_secret_did_not_stay_in_the_image(container: str) -> None:
    root = Path(buildah("mount", container).strip())
    assert (root / "app" / "rules" / "ruleset.yaml").is_file()
    assert not (root / "run" / "secrets").exists(), "the ca-bundle build secret was mounted for one step only"
    assert not list((root / "app").glob("**/.env*")) and not (root / "src").exists()


def test_runs_as_the_unprivileged_user_without_a_compiler(container: str) -> None:
    assert run_in(container, "id", "-u").stdout.strip() == "10001"
    found = run_in(container, "sh", "-c", "command -v gcc cc c99 || echo none")
    assert found.stdout.strip() == "none"


def test_installs_exactly_the_pinned_versions(container: str) -> None:
    listing = run_in(container, "python3", "-c",
                     "import importlib.metadata as m, json; "
                     "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    installed = {normal(name): version for name, version in json.loads(listing.stdout).items()}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[normal(name)] = version.strip()
    # pip and setuptools come with the venv; service-recovery is the project itself
    unpinned = {"pip", "setuptools", "service-recovery"}
    wrong = {name: version for name, version in installed.items()
             if name not in unpinned and pins.get(name) != version}
    assert not wrong, f"not the versions in constraints.txt: {wrong}"
    assert installed["durable-rules"] == "2.0.28"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {normal(re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}
    test_only = {normal(re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0])
                 for spec in project["optional-dependencies"]["test"]} - runtime
    assert runtime <= installed.keys()
    assert test_only and not test_only & installed.keys(), "test-only packages are in the image"


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    files = {}
    for directory, dirnames, filenames in os.walk(root):
        relative = Path(directory).relative_to(root)
        dirnames[:] = [d for d in dirnames if str(relative / d) not in NOT_THE_IMAGE]
        for filename in filenames:
            path = relative / filename
            if str(path) in NOT_THE_IMAGE:
                continue
            with contextlib.suppress(OSError):
                stat = os.lstat(root / path)
                files[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return files


def test_serves_decisions_on_port_and_shuts_down_cleanly(container: str, config: dict[str, Any]) -> None:
    root = Path(buildah("mount", container).strip())
    before = snapshot(root)
    port = free_port()
    with serving(container, config, "default", {"PORT": str(port)}) as (url, process, log):
        assert url.endswith(f":{port}")
        decision = httpx.post(url + "/v1/decisions", json=EVENT, timeout=10)
        assert decision.status_code == 200, decision.text
        body = decision.json()
        assert body["mix"]["refund"] == {"amount": "40.00", "currency": "EUR"}
        assert body["ruleset"]["digest"] == loader.load_dir(RULES).digest
        assert httpx.post(url + "/v1/decisions", json={"failure": {}}, timeout=10).status_code == 422
        metrics = httpx.get(url + "/metrics", timeout=10)
        assert metrics.status_code == 200 and "recovery_decisions_total" in metrics.text
        simulation = httpx.post(url + "/v1/simulations", json={"candidate": {"files": {}}}, timeout=120)
        assert simulation.status_code == 200 and simulation.json()["events"] == 3000  # the shipped sample
        # what the kubelet does: SIGTERM to the server process, which drains and exits
        os.kill(server_pid(process.pid), signal.SIGTERM)
        process.wait(timeout=40)
        assert "Finished server process" in log.read_text(), log.read_text()
    changed = {path for path, stat in snapshot(root).items() if before.get(path) != stat}
    assert not changed, f"the service wrote to its root filesystem: {sorted(changed)[:20]}"


def test_a_mounted_rules_directory_replaces_the_shipped_rules(container: str, config: dict[str, Any],
                                                             tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    ruleset = rules / "ruleset.yaml"
    ruleset.write_text(ruleset.read_text() + "\n# mounted by the platform team\n")
    expected = loader.load_dir(rules).digest
    assert expected != loader.load_dir(RULES).digest
    port = free_port()
    with serving(container, config, "mounted", {"PORT": str(port)}, (f"{rules}:/app/rules:ro",)) as (url, _, _):
        live = httpx.get(url + "/readyz", timeout=10).json()
        assert live["ruleset"]["digest"] == expected
        assert httpx.post(url + "/v1/decisions", json=EVENT, timeout=10).json()["ruleset"]["digest"] == expected
