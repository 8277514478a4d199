"""Simulations: their own scope, a budget, and a process of their own (issue 14, point 8)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bench.rulesets import rules as generated_rules
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


def test_a_simulation_spanning_two_reloads_compares_against_the_ruleset_it_started_with(tmp_path: Path) -> None:
    """The live rules change twice while a simulation runs: it still answers, against the baseline it
    started with (its engines are its own), and the decision route serves the newest revision."""
    from tests.test_reload import FAST, copy_rules, eventually

    rules = copy_rules(tmp_path / "rules")
    admin = "ops-admin-key-0123456789"
    env = {**FAST, "RECOVERY_SIMULATION_CPU_SECONDS": "120", "RECOVERY_ADMIN_KEYS": f"ops:{admin}"}
    with running_server("simulation-reloads", rules, env=env, ready_path="/readyz") as live, \
            live.client(headers={"X-API-Key": admin}) as http:
        started = http.get("/v1/ruleset").json()
        result: list[httpx.Response] = []
        # thousands of generated rules in the candidate: compiling them alone outlasts two reloads
        many = yaml.safe_dump({"rules": generated_rules(3000)}, sort_keys=False)
        big = {"candidate": {"files": {**CANDIDATE["candidate"]["files"], "90-generated.yaml": many}},
               "events": [CONTRACT_EXAMPLE] * 2000}
        thread = threading.Thread(target=lambda: result.append(
            httpx.post(live.url + "/v1/simulations", json=big, headers={"X-API-Key": admin}, timeout=300)))
        thread.start()
        worker = live.process.pid  # one worker: the server process decides, and the simulation is its child
        eventually(lambda: bool(Path(f"/proc/{worker}/task/{worker}/children").read_text().split()), timeout=60)
        outcome = rules / "20-outcome.yaml"
        seen = [started["digest"]]
        for percent in (25, 35):
            text = outcome.read_text()
            outcome.write_text(text.replace("            - {from: 3, percent_of_order: 15}\n",
                                            f"            - {{from: 3, percent_of_order: {percent}}}\n")
                               .replace("            - {from: 3, percent_of_order: 25}\n",
                                        f"            - {{from: 3, percent_of_order: {percent}}}\n"))
            assert http.post("/v1/ruleset:reload").status_code == 200  # forced: every worker, at once
            eventually(lambda: http.get("/v1/ruleset").json()["digest"] not in seen)
            seen.append(http.get("/v1/ruleset").json()["digest"])
        alive_during = thread.is_alive()
        thread.join(300)
        assert result and result[0].status_code == 200, result and result[0].text[:300]
        report = result[0].json()
        assert report["events"] == 2000
        assert report["baseline"]["digest"] == started["digest"], report["baseline"]
        assert len(set(seen)) == 3 and http.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()[
            "ruleset"]["digest"] == seen[-1]
        assert alive_during, "the simulation ended before the second reload: make it bigger"


def test_a_simulation_that_runs_out_of_cpu_is_a_422_and_the_worker_decides_on() -> None:
    with running_server("simulation-cpu", RULES, env={"RECOVERY_SIMULATION_CPU_SECONDS": "0.5"},
                        ready_path="/readyz") as live, live.client() as http:
        big = {**CANDIDATE, "events": [CONTRACT_EXAMPLE] * 20000}
        response = http.post("/v1/simulations", json=big, timeout=120)
        assert response.status_code == 422, response.text[:300]
        assert response.json()["code"] == "simulation-too-costly" and "CPU" in response.json()["detail"]
        assert http.post("/v1/decisions", json=CONTRACT_EXAMPLE).status_code == 200
        assert http.get("/livez").status_code == 200
