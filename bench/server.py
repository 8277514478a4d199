"""The real server under test: `recovery serve` with the bench routes on, and its workers' memory.

The server runs exactly as in production (`python -m service.cli serve`: uvicorn,
httptools, uvloop, the glibc malloc settings it re-executes itself with, the
default settings including info-level JSON logs on stdout, which go to a file),
with `RECOVERY_BENCH_ROUTES=true` so POST /bench/noop answers beside POST /v1/decisions.
With one worker uvicorn serves from the main process; with more, the workers are
its `multiprocessing.spawn` children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    host: str
    port: int
    workers: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the main one when there is a single worker)."""
        if self.workers == 1:
            return [self.process.pid]
        found = []
        for child in _children(self.process.pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(child)
        return sorted(found)

    def cpu_seconds(self) -> float:
        """User + system CPU the serving processes (every thread) have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def rss_kib(self) -> list[int]:
        """VmRSS of each worker, in KiB, from /proc/<pid>/status."""
        return [vm_rss_kib(pid) for pid in self.worker_pids()]


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n"
                               f"{server.log.read_text(errors='replace')}")
        # Every worker must be up, else the first seconds measure a half-started server.
        if len(server.worker_pids()) == server.workers:
            try:
                if all(_get(server.url + "/readyz") == 200 for _ in range(server.workers * 4)):
                    return
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready in {timeout}s:\n{server.log.read_text(errors='replace')}")


def _start(workers: int, log: Path, rules_dir: Path | None, env: dict[str, str] | None) -> Server:
    port = free_port()
    env = {**os.environ, "RECOVERY_HOST": "127.0.0.1", "RECOVERY_PORT": str(port),
           "RECOVERY_WORKERS": str(workers), "RECOVERY_BENCH_ROUTES": "true", "RECOVERY_LEDGER_URL": "off",
           "RECOVERY_SHUTDOWN_DRAIN_SECONDS": "0",  # no load balancer to wait for
           **(env or {})}
    env.pop("PORT", None)
    if rules_dir is not None:
        env["RECOVERY_RULES_DIR"] = str(rules_dir)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=env, cwd=ROOT,
                                   stdout=sink, stderr=subprocess.STDOUT)
    return Server("127.0.0.1", port, workers, process, log)


def stop(*processes: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to each (once: a second one makes uvicorn skip its graceful shutdown), then SIGKILL to
    any that has not exited `timeout` seconds later."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(workers: int, log: Path, rules_dir: Path | None = None, timeout: float = 90,
            env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `recovery serve` with `workers` workers and the bench routes; stop it afterwards.

    The ledger is off unless `env` sets RECOVERY_LEDGER_URL (bench/ledger.py measures it on
    against off); the other parts measure the decision path as they always have.
    """
    with running_all({"server": (workers, log, env)}, rules_dir, timeout) as servers:
        yield servers["server"]


@contextlib.contextmanager
def running_all(specs: dict[str, tuple[int, Path, dict[str, str] | None]], rules_dir: Path | None = None,
                timeout: float = 90) -> Iterator[dict[str, Server]]:
    """Several servers (name -> workers, log, env), started together (their start-up overlaps) and
    stopped together afterwards."""
    servers: dict[str, Server] = {}
    try:
        for name, (workers, log, env) in specs.items():
            servers[name] = _start(workers, log, rules_dir, env)
        for server in servers.values():
            _wait_ready(server, timeout)
        yield servers
    finally:
        stop(*(server.process for server in servers.values()))
        for server in servers.values():
            _trim(server.log)


def _trim(log: Path, keep: int = 4 * 1024 * 1024) -> None:
    """Keep the last `keep` bytes of a server log: at info level the service logs two lines per
    decision, over a gigabyte for the memory run, and only the end tells why a run failed."""
    size = log.stat().st_size
    if size <= 2 * keep:
        return
    with log.open("rb") as source:
        source.seek(size - keep)
        tail = source.read()
    log.write_bytes(f"[... {size - keep:,} earlier bytes dropped by bench/server.py ...]\n".encode() +
                    tail[tail.find(b"\n") + 1:])
