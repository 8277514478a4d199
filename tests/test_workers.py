"""Several workers: connections spread over them, and a worker that dies is replaced."""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.support import RULES, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE


def workers(pid: int) -> list[int]:
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            found.append(int(child))
    return found


def test_keep_alive_connections_spread_over_the_workers() -> None:
    body = json.dumps(CONTRACT_EXAMPLE).encode()
    request = (b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with running_server("workers-spread", RULES, env={"RECOVERY_WORKERS": "2"}, ready_path="/readyz") as server:
        host, port = server.url.removeprefix("http://").split(":")
        # A connection pool (a CRM's, an ingress controller's) opens its connections in a burst
        # and keeps them: the worker that accepts them serves everything they carry.
        for _ in range(3):
            pool = [socket.create_connection((host, int(port)), timeout=30) for _ in range(32)]
            try:
                for connection in pool:
                    connection.sendall(request)
                for connection in pool:
                    assert connection.recv(65536).startswith(b"HTTP/1.1 200")
                table = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                                       capture_output=True, text=True, check=True).stdout
            finally:
                for connection in pool:
                    connection.close()
            per_worker = collections.Counter(re.findall(r"pid=(\d+)", table))
            assert set(map(int, per_worker)) <= set(workers(server.process.pid))
            # spread by the kernel's hash: 16 each on average, below 7 once in thousands of runs
            assert len(per_worker) == 2 and min(per_worker.values()) >= 7, per_worker
            time.sleep(0.2)


def test_a_worker_that_dies_is_replaced() -> None:
    with running_server("workers-replace", RULES, env={"RECOVERY_WORKERS": "2"}, ready_path="/readyz") as server:
        first = workers(server.process.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = workers(server.process.pid)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no replacement worker: {workers(server.process.pid)}")
        for _ in range(20):  # new connections reach both the survivor and the newcomer
            with httpx.Client(base_url=server.url, timeout=30) as http:
                assert http.post("/v1/decisions", json=CONTRACT_EXAMPLE).status_code == 200
        assert "starting another" in server.logs()
