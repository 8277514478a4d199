"""Simulations: their own scope, a budget, and a process of their own (issue 14, point 8)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.support import RULES, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE
from tests.test_simulations_http import RAISED
from tests.test_workers import workers

DECIDE_KEY = "crm-decide-key-0123456789"
SIMULATE_KEY = "cx-simulate-key-0123456789"
ENV = {"RECOVERY_API_KEYS": f"crm:{DECIDE_KEY}", "RECOVERY_SIMULATE_KEYS": f"cx:{SIMULATE_KEY}",
       "RECOVERY_SIMULATION_MAX_EVALUATIONS": "100000"}
CANDIDATE = {"candidate": {"files": {"20-outcome.yaml": RAISED}}}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("simulation-limits", RULES, env=ENV, ready_path="/readyz") as live:
        yield live


def test_a_decide_key_cannot_simulate_and_a_simulate_key_can(server: Server) -> None:
    with server.client() as http:
        refused = http.post("/v1/simulations", json=CANDIDATE, headers={"X-API-Key": DECIDE_KEY})
        assert refused.status_code == 403 and "simulate" in refused.json()["detail"]
        directories = http.get("/v1/simulations/directories", headers={"X-API-Key": DECIDE_KEY})
        assert directories.status_code == 403
        events = {**CANDIDATE, "events": [CONTRACT_EXAMPLE] * 10}
        allowed = http.post("/v1/simulations", json=events, headers={"X-API-Key": SIMULATE_KEY})
        assert allowed.status_code == 200, allowed.text
        assert http.post("/v1/decisions", json=CONTRACT_EXAMPLE,
                         headers={"X-API-Key": SIMULATE_KEY}).status_code == 200


def test_a_simulation_over_its_budget_is_refused(server: Server) -> None:
    with server.client(headers={"X-API-Key": SIMULATE_KEY}) as http:
        response = http.post("/v1/simulations", json=CANDIDATE)  # 3,000 sample events x 68 rules
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "simulation-too-large" and "fewer events" in body["detail"]


def test_a_simulation_runs_in_a_process_of_its_own(tmp_path: Path) -> None:
    env = {"RECOVERY_SIMULATION_CPU_SECONDS": "120"}
    with running_server("simulation-process", RULES, env=env, ready_path="/readyz") as live:
        worker = live.process.pid
        seen: list[list[int]] = []
        result: list[httpx.Response] = []
        big = {**CANDIDATE, "events": [CONTRACT_EXAMPLE] * 20000}
        thread = threading.Thread(target=lambda: result.append(
            httpx.post(live.url + "/v1/simulations", json=big, timeout=300)))
        thread.start()
        while thread.is_alive():
            children = [int(pid) for pid in Path(f"/proc/{worker}/task/{worker}/children").read_text().split()]
            seen.append(children)
            assert httpx.get(live.url + "/livez", timeout=10).status_code == 200
            thread.join(0.2)
        assert result and result[0].status_code == 200, result and result[0].text[:300]
        assert result[0].json()["events"] == 20000
        assert any(seen), "the simulation ran inside the decision worker"
        assert not [pid for pid in Path(f"/proc/{worker}/task/{worker}/children").read_text().split()
                    if int(pid) not in workers(worker)]  # and its process is gone
