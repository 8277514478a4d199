"""Connection abuse (make test-deep): idle floods, slowloris and header floods against a real 2-worker server.

While the abuse runs, a probe asks /livez and for a decision every 100 ms over new
connections; the run passes only if every probe is answered, the abusive connections
are closed (idle ones evicted or timed out, slow headers 408, floods 431), and each
worker's resident memory stays under the chart's 512 MiB limit. The figures go to
test-output/connection-abuse.json (docs/reliability.md quotes them).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time

import httpx
import pytest

from tests.deep.test_load_with_faults import rss_kib, workers
from tests.support import OUTPUT, RULES, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE

pytestmark = pytest.mark.deep

IDLE = 10_000
SLOWLORIS = 200
FLOODS = 20
CHART_LIMIT_KIB = 512 * 1024


def held_by_workers(port: int) -> int:
    """Connections a worker has accepted (those still in the kernel's queue belong to no process)."""
    table = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                           capture_output=True, text=True, check=True).stdout
    return sum(1 for line in table.splitlines() if "pid=" in line)


def test_idle_slow_and_flooding_connections_never_take_the_pod_down() -> None:
    env = {"RECOVERY_WORKERS": "2", "RECOVERY_LOG_LEVEL": "warning"}  # default limits: 1,000 connections
    report: dict[str, object] = {}
    with running_server("connection-abuse", RULES, env=env, ready_path="/readyz") as server:
        host, port = server.url.removeprefix("http://").split(":")
        target = (host, int(port))
        stop = threading.Event()
        probes: list[tuple[str, float]] = []
        memory: list[int] = []

        def probe() -> None:
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    live = httpx.get(server.url + "/livez", timeout=10).status_code
                    decided = httpx.post(server.url + "/v1/decisions", json=CONTRACT_EXAMPLE, timeout=10).status_code
                    probes.append(("ok" if (live, decided) == (200, 200) else f"{live}/{decided}",
                                   time.perf_counter() - began))
                except httpx.HTTPError as exc:
                    probes.append((repr(exc), time.perf_counter() - began))
                memory.extend(rss_kib(pid) for pid in workers(server.process.pid))
                stop.wait(0.1)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            # 1. Idle: 10,000 connections that never send a byte.
            idle = []
            for _ in range(IDLE):
                try:
                    idle.append(socket.create_connection(target, timeout=10))
                except OSError:
                    break
            time.sleep(2)
            report["idle_opened"] = len(idle)
            report["idle_held_by_the_workers_after_2s"] = held_by_workers(int(port))
            closed = 0
            for sock in idle:
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        closed += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
                sock.close()
            report["idle_closed_by_the_server"] = closed

            # 2. Slowloris: a header line every second, forever.
            slow = [socket.create_connection(target, timeout=10) for _ in range(SLOWLORIS)]
            for sock in slow:
                sock.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            answers: dict[int, bytes] = {}
            while len(answers) < SLOWLORIS and time.monotonic() - started < 30:
                for index, sock in enumerate(slow):
                    if index in answers:
                        continue
                    try:
                        sock.sendall(b"X-Slow: 1\r\n")
                        sock.settimeout(0.005)
                        answers[index] = sock.recv(4096)  # an answer, or b"" once closed
                    except socket.timeout:
                        pass
                    except OSError as exc:
                        answers[index] = repr(exc).encode()
                time.sleep(1)
            report["slowloris_closed"] = len(answers)
            report["slowloris_408"] = sum(answer.startswith(b"HTTP/1.1 408") for answer in answers.values())
            report["slowloris_seconds_to_close_all"] = round(time.monotonic() - started, 1)
            for sock in slow:
                sock.close()

            # 3. Header floods: connections streaming header lines as fast as they can.
            accepted: list[int] = []

            def flood() -> None:
                sent = 0
                with socket.create_connection(target, timeout=10) as sock:
                    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
                    block = (b"X-Flood: " + b"f" * 1000 + b"\r\n") * 64
                    try:
                        while sent < 256 * 1024 * 1024:
                            sock.sendall(block)
                            sent += len(block)
                    except OSError:
                        pass
                accepted.append(sent)

            floods = [threading.Thread(target=flood) for _ in range(FLOODS)]
            for thread in floods:
                thread.start()
            for thread in floods:
                thread.join(120)
            report["floods"] = FLOODS
            report["flood_bytes_sent_before_the_server_closed_max"] = max(accepted)
        finally:
            stop.set()
            prober.join()
        assert server.process.poll() is None, "the server died"
        logs = server.logs()
    failures = [outcome for outcome, _ in probes if outcome != "ok"]
    report.update({
        "probes": len(probes), "probe_failures": len(failures), "probe_failure_examples": failures[:5],
        "probe_seconds_max": round(max(seconds for _, seconds in probes), 3),
        "worker_rss_mib_max": round(max(memory) / 1024, 1),
        "too_many_open_files_logged": "Too many open files" in logs,
    })
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "connection-abuse.json").write_text(json.dumps(report, indent=2))
    assert failures == [], failures[:5]
    assert report["idle_opened"] == IDLE
    assert report["idle_held_by_the_workers_after_2s"] <= 2 * 1000 + 50
    assert report["slowloris_closed"] == SLOWLORIS and report["slowloris_408"] == SLOWLORIS
    assert max(accepted) < 8 * 1024 * 1024
    assert max(memory) < CHART_LIMIT_KIB
    assert not report["too_many_open_files_logged"]

