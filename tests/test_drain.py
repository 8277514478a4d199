"""SIGTERM to one worker of several loses no request (issue 14, point 9).

While a worker drains, every response says `Connection: close`, so keep-alive clients
take their next request to a new connection; connections the kernel had already
queued on the stopping worker's socket wait there for its replacement (the supervisor
holds the socket), and one accepted just before shutdown still gets its answer.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

import httpx

from tests.support import RULES, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE
from tests.test_workers import workers

BODY = json.dumps(CONTRACT_EXAMPLE).encode()
REQUEST = (b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


def test_connections_queued_on_a_stopping_worker_are_all_answered() -> None:
    env = {"RECOVERY_WORKERS": "2", "RECOVERY_SHUTDOWN_DRAIN_SECONDS": "0"}
    with running_server("drain-queue", RULES, env=env, ready_path="/readyz") as server:
        host, port = server.url.removeprefix("http://").split(":")
        target = workers(server.process.pid)[0]
        os.kill(target, signal.SIGSTOP)  # its socket's queue fills while it cannot accept
        try:
            pending = [socket.create_connection((host, int(port)), timeout=60) for _ in range(40)]
            os.kill(target, signal.SIGTERM)
        finally:
            os.kill(target, signal.SIGCONT)
        time.sleep(0.3)  # it wakes up to stop, with connections accepted or queued that sent nothing yet
        for sock in pending:
            sock.sendall(REQUEST)
        answers = []
        for sock in pending:
            data = b""
            try:
                while b"decision_id" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as exc:
                data += repr(exc).encode()
            finally:
                sock.close()
            answers.append(data[:12])
        assert answers == [b"HTTP/1.1 200"] * 40, answers
        deadline = time.monotonic() + 20  # the stopped worker did exit, and was replaced
        while target in workers(server.process.pid) or len(workers(server.process.pid)) < 2:
            assert time.monotonic() < deadline, workers(server.process.pid)
            time.sleep(0.2)


def test_keep_alive_clients_lose_nothing_when_one_worker_stops() -> None:
    env = {"RECOVERY_WORKERS": "2", "RECOVERY_SHUTDOWN_DRAIN_SECONDS": "1"}
    with running_server("drain-keepalive", RULES, env=env, ready_path="/readyz") as server:
        stop = threading.Event()
        failures: list[str] = []
        closes: list[int] = []
        counts: list[int] = []

        def client() -> None:
            done = 0
            with httpx.Client(base_url=server.url, timeout=30) as http:  # a keep-alive pool
                while not stop.is_set():
                    try:
                        response = http.post("/v1/decisions", json=CONTRACT_EXAMPLE)
                        if response.status_code != 200:
                            failures.append(f"{response.status_code} {response.text[:100]}")
                        if response.headers.get("connection") == "close":
                            closes.append(1)
                        done += 1
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))
            counts.append(done)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        for pid in workers(server.process.pid)[:1]:
            os.kill(pid, signal.SIGTERM)
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == [], failures[:5]
    assert closes, "no response said Connection: close while the worker drained"
    assert sum(counts) > 500
