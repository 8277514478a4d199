"""The rules change as a whole, and the workers of one pod switch to it together (issue 14, points 6, 7, 10).

- A file rewritten in two steps seconds apart is never served half-written: a plain
  directory loads only once it has been quiet (a ConfigMap's atomic swap at once).
- With several workers the same event, sent again and again over new connections
  around a reload, gets the old decision up to one instant and the new one after it,
  never alternating; /readyz and /metrics say which revision the pod serves.
- A killed worker leaves no stale ruleset in /metrics.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY
from tests.support import running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE
from tests.test_reload import configmap_dir, copy_rules, eventually
from tests.test_workers import workers

BAND = "            - {{from: 3, percent_of_order: {}}}\n"
SEVERE = {**CONTRACT_EXAMPLE, "failure": {**CONTRACT_EXAMPLE["failure"], "severity": 4}}


def refund(response: httpx.Response) -> str | None:
    refund = response.json()["mix"]["refund"]
    return None if refund is None else refund["amount"]


def test_a_file_written_in_two_steps_is_never_served_half_written(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    outcome = rules / "20-outcome.yaml"
    text = outcome.read_text()
    assert "            - {from: 4, percent_of_order: 25}\n" in text
    full = text.replace("            - {from: 4, percent_of_order: 25}\n", "            - {from: 4, percent_of_order: 20}\n", 1)
    cut = full.index("  - id: outcome-value-full\n")  # the first write stops before the rule that refunds it
    env = {"RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2"}  # the quiet period keeps its default
    with running_server("settle", rules, env=env, ready_path="/readyz") as server, server.client() as http:
        before = refund(http.post("/v1/decisions", json=SEVERE))
        assert before is not None
        outcome.write_text(full[:cut])
        seen = set()
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            seen.add(refund(http.post("/v1/decisions", json=SEVERE)))
            assert http.get("/readyz").status_code == 200
            time.sleep(0.05)
        outcome.write_text(full)
        eventually(lambda: refund(http.post("/v1/decisions", json=SEVERE)) != before, timeout=30)
        after = refund(http.post("/v1/decisions", json=SEVERE))
    assert seen == {before}, f"the half-written file was served: {seen}"
    assert (before, after) == ("25.00", "21.00")  # 25% then 20% of 80, plus the 5 euro credit paid as money


def test_workers_of_a_pod_switch_together_and_say_which_revision_they_serve(tmp_path: Path) -> None:
    v1, v2 = copy_rules(tmp_path / "v1"), copy_rules(tmp_path / "v2")
    outcome = v2 / "20-outcome.yaml"
    outcome.write_text(outcome.read_text().replace(BAND.format(15), BAND.format(20)))
    mount = tmp_path / "mount"
    mount.mkdir()
    configmap_dir(mount, "v1", v1)
    env = {"RECOVERY_WORKERS": "2", "RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2"}
    with running_server("pod-switch", mount, env=env, ready_path="/readyz") as server:
        seen: list[str] = []
        stop = threading.Event()

        def ask() -> None:
            while not stop.is_set():  # a new connection each time, so both workers answer
                response = httpx.post(server.url + "/v1/decisions", json=CONTRACT_EXAMPLE, timeout=10,
                                      headers={"Connection": "close"})
                seen.append(response.json()["ruleset"]["digest"])

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(1.0)
        configmap_dir(mount, "v2", v2)
        time.sleep(4.0)
        stop.set()
        asker.join()
        switches = sum(1 for before, after in zip(seen, seen[1:]) if before != after)
        assert len(set(seen)) == 2 and switches == 1, f"{switches} switches over {len(seen)} answers"
        ready = httpx.get(server.url + "/readyz", timeout=5).json()
        assert ready["pod"]["digest"] == seen[-1] == ready["ruleset"]["digest"]
        exposition = httpx.get(server.url + "/metrics", timeout=5).text
        assert f'recovery_ruleset_workers{{digest="{seen[-1]}"}} 2.0' in exposition


def test_a_forced_reload_switches_every_worker_before_it_answers(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    env = {"RECOVERY_WORKERS": "2", "RECOVERY_RELOAD_INTERVAL_SECONDS": "0",
           "RECOVERY_ADMIN_KEYS": f"ops:{ADMIN_KEY}"}
    with running_server("pod-forced", rules, env=env, ready_path="/readyz") as server:
        outcome = rules / "20-outcome.yaml"
        outcome.write_text(outcome.read_text().replace(BAND.format(15), BAND.format(20)))
        reloaded = httpx.post(server.url + "/v1/ruleset:reload", headers={"X-API-Key": ADMIN_KEY}, timeout=60)
        assert reloaded.status_code == 200 and reloaded.json()["status"] == "loaded", reloaded.text
        refunds = {refund(httpx.post(server.url + "/v1/decisions", json=CONTRACT_EXAMPLE, timeout=10,
                                     headers={"Connection": "close", "X-API-Key": ADMIN_KEY}))
                   for _ in range(30)}
        assert refunds == {"21.00"}


def test_a_killed_worker_leaves_no_stale_ruleset_in_the_metrics(tmp_path: Path) -> None:
    v1, v2 = copy_rules(tmp_path / "v1"), copy_rules(tmp_path / "v2")
    (v2 / "ruleset.yaml").write_text((v2 / "ruleset.yaml").read_text().replace(
        'version: "2026.12.1"', 'version: "2099.1.2"'))
    mount = tmp_path / "mount"
    mount.mkdir()
    configmap_dir(mount, "v1", v1)
    env = {"RECOVERY_WORKERS": "2", "RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2"}
    with running_server("pod-metrics", mount, env=env, ready_path="/readyz") as server:
        first = workers(server.process.pid)
        os.kill(first[0], signal.SIGKILL)
        eventually(lambda: len(workers(server.process.pid)) == 2 and first[0] not in workers(server.process.pid))
        configmap_dir(mount, "v2", v2)

        def live_versions() -> set[str]:
            text = httpx.get(server.url + "/metrics", timeout=5).text
            return set(re.findall(r'recovery_ruleset_info\{digest="[^"]+",name="[^"]+",version="([^"]+)"\} 1\.0',
                                  text))

        eventually(lambda: "2099.1.2" in live_versions(), timeout=30)
        time.sleep(1.5)  # other workers' samples reach the shared directory within a second
        assert live_versions() == {"2099.1.2"}
        counted = re.findall(r'^recovery_ruleset_workers\{digest="([^"]+)"\} (\S+)$',
                             httpx.get(server.url + "/metrics", timeout=5).text, re.M)
        assert [value for _, value in counted if float(value) > 0] == ["2.0"], counted  # the dead one is gone
