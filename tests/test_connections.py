"""What one client can hold on a real server: header size and count, slow and idle connections, the
connection cap, and a second instance on the same port (issue 14, points 2, 3 and 10)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Iterator

import httpx
import pytest

from tests.support import RULES, ROOT, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE

GUARDED = {"RECOVERY_HEADER_TIMEOUT_SECONDS": "2", "RECOVERY_MAX_HEADER_BYTES": "16384"}


@pytest.fixture(scope="module")
def guarded() -> Iterator[Server]:
    with running_server("guarded", RULES, env=GUARDED, ready_path="/readyz") as server:
        yield server


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def read_answer(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return answer


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_header_flood_is_cut_off_with_431(guarded: Server) -> None:
    with socket.create_connection(address(guarded), timeout=10) as flood:
        flood.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
        sent = 0
        line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        try:
            while sent < 64 * 1024 * 1024:  # what a worker would buffer if nothing stopped it
                flood.sendall(line * 64)
                sent += len(line) * 64
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(flood)
    assert sent < 4 * 1024 * 1024, f"the server read {sent} bytes of headers"
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"headers-too-large" in answer
    assert httpx.get(guarded.url + "/livez", timeout=5).status_code == 200


def test_too_many_header_lines_get_431(guarded: Server) -> None:
    headers = "".join(f"X-H{index}: 1\r\n" for index in range(150))
    with socket.create_connection(address(guarded), timeout=10) as sock:
        sock.sendall(f"GET /livez HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        answer = read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_large_but_allowed_headers_and_a_big_body_still_work(guarded: Server) -> None:
    body = json.dumps({"events": [CONTRACT_EXAMPLE] * 500}).encode()
    response = httpx.post(guarded.url + "/v1/decisions:batch", content=body,
                          headers={"content-type": "application/json", "X-Trace": "t" * 8000}, timeout=30)
    assert response.status_code == 200 and response.json()["decided"] == 500


def test_slow_headers_get_408_and_the_connection_closes(guarded: Server) -> None:
    with socket.create_connection(address(guarded), timeout=10) as slow:
        slow.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answer = b""
        slow.settimeout(0.5)
        while time.monotonic() - started < 15:  # a header line every half second, forever
            try:
                slow.sendall(b"X-A: b\r\n")
                chunk = slow.recv(4096)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"header-timeout" in answer


def test_a_connection_that_sends_nothing_is_closed(guarded: Server) -> None:
    with socket.create_connection(address(guarded), timeout=10) as idle:
        idle.settimeout(15)
        assert idle.recv(1) == b""  # closed by the server, not by our timeout


def test_a_keep_alive_connection_is_served_again_then_closed_when_idle() -> None:
    env = {"RECOVERY_IDLE_TIMEOUT_SECONDS": "1"}
    with running_server("idle-timeout", RULES, env=env) as server, \
            socket.create_connection(address(server), timeout=10) as sock:
        for _ in range(2):
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 200")
        sock.settimeout(10)
        assert sock.recv(1) == b""


def test_idle_connections_never_lock_out_the_probes_or_use_up_descriptors() -> None:
    # 300 descriptors for the process: without a cap, 400 idle connections leave none for /livez.
    env = {"RECOVERY_MAX_CONNECTIONS": "1000", "RECOVERY_HEADER_TIMEOUT_SECONDS": "60"}
    with running_server("connection-cap", RULES, env=env, ready_path="/readyz", nofile=300) as server:
        idle = []
        try:
            for _ in range(400):
                idle.append(socket.create_connection(address(server), timeout=10))
            time.sleep(0.5)
            for _ in range(5):
                assert httpx.get(server.url + "/livez", timeout=5).status_code == 200
                decided = httpx.post(server.url + "/v1/decisions", json=CONTRACT_EXAMPLE, timeout=5)
                assert decided.status_code == 200
        finally:
            for sock in idle:
                sock.close()
        assert "Too many open files" not in server.logs()
        assert "RECOVERY_MAX_CONNECTIONS lowered" in server.logs()


def test_a_second_instance_on_a_port_in_use_refuses_to_start() -> None:
    with running_server("first-instance", RULES, env={"RECOVERY_WORKERS": "2"}, ready_path="/readyz") as first:
        host, port = address(first)
        env = {"RECOVERY_PORT": str(port), "RECOVERY_HOST": host, "RECOVERY_WORKERS": "2",
               "RECOVERY_RULES_DIR": str(RULES), "PATH": "/usr/bin:/bin"}
        second = subprocess.run([sys.executable, "-m", "service.cli", "serve"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2, second.stdout[-2000:] + second.stderr[-2000:]
        assert "already in use" in second.stdout + second.stderr
        assert httpx.get(first.url + "/livez", timeout=5).status_code == 200
