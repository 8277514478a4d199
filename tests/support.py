"""Helpers for tests that talk to a real server: start `recovery serve` on a free port."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from bench.server import stop

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
OUTPUT = ROOT / "test-output"


def edited_rules(tmp_path: Path, name: str, file: str, old: str, new: str) -> Path:
    """A copy of the shipped rules with one text replaced in one file (a candidate ruleset)."""
    import shutil

    target = tmp_path / name
    shutil.copytree(RULES, target)
    path = target / file
    text = path.read_text()
    if old not in text:
        raise ValueError(f"{old!r} is not in {file}")
    path.write_text(text.replace(old, new))
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, path: str = "/livez",
               timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + path, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not come up in {timeout}s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def running_server(name: str, rules_dir: Path = RULES, env: dict[str, str] | None = None,
                   ready_path: str = "/livez", nofile: int | None = None) -> Iterator[Server]:
    """Start `recovery serve` (the real uvicorn server) and stop it with SIGTERM afterwards;
    `nofile` caps the descriptors the server may open (soft and hard limit).

    The ledger is off unless `env` turns it on (tests/ledger do, each with its own database
    and spool): tests about other things reuse event ids freely, which idempotency would answer
    with the first decision.
    """
    OUTPUT.mkdir(exist_ok=True)
    port = free_port()
    log = OUTPUT / f"server-{name}.log"
    environment = {**os.environ, "RECOVERY_PORT": str(port), "RECOVERY_RULES_DIR": str(rules_dir),
                   "RECOVERY_HOST": "127.0.0.1", "RECOVERY_LEDGER_URL": "off",
                   # no load balancer to wait for: a test that is about the drain sets its own
                   "RECOVERY_SHUTDOWN_DRAIN_SECONDS": "0", **(env or {})}
    environment.pop("PORT", None)
    with log.open("wb") as sink:
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
        process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=environment,
                                   stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=limit)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log, ready_path)
        yield Server(url, process, log)
    finally:
        stop(process)
