"""Live reload: the service watches its rules directory and swaps rulesets atomically.

A bad change keeps the last good ruleset serving and is reported; no request
fails or sees a half-loaded ruleset while rulesets change under load.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

import httpx

from tests.conftest import ADMIN_KEY, API_KEY, SECURED_ENV
from tests.support import RULES, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE

# A short quiet period for a plain directory (its default wait is tested in tests/test_watcher.py and
# tests/test_pod_revision.py); a ConfigMap's atomic swap is taken at once either way.
FAST = {"RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2", "RECOVERY_RELOAD_QUIET_SECONDS": "0.5"}


def copy_rules(target: Path) -> Path:
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("cases", "invariants", "webhooks", "packs", "examples",
                                                             "*.md"))
    return target


def eventually(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


BAND = "            - {{from: 3, percent_of_order: {}}}\n"


def refund(http: httpx.Client) -> str:
    return http.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()["mix"]["refund"]["amount"]


def test_a_changed_file_is_picked_up_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    with running_server("reload-edit", rules, env=FAST, ready_path="/readyz") as server, server.client() as http:
        assert refund(http) == "17.00"
        first = http.get("/v1/ruleset").json()["digest"]
        outcome = rules / "20-outcome.yaml"
        outcome.write_text(outcome.read_text().replace("            - {from: 3, percent_of_order: 15}\n",
                                                       "            - {from: 3, percent_of_order: 25}\n"))
        eventually(lambda: refund(http) == "25.00")
        second = http.get("/v1/ruleset").json()
        assert second["digest"] != first and second["last_reload_failure"] is None

        outcome.write_text(outcome.read_text().replace("failure.severity: 1", "failure.sevrity: 1", 1))
        eventually(lambda: http.get("/v1/ruleset").json()["last_reload_failure"] is not None)
        view = http.get("/v1/ruleset").json()
        assert view["digest"] == second["digest"]
        finding = view["last_reload_failure"]["findings"][0]
        assert finding["file"] == "20-outcome.yaml" and finding["rule_id"] == "outcome-value-full-token"
        assert "failure.severity" in finding["hint"]
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["last_reload_failure"]["findings"]
        assert refund(http) == "25.00"
        assert "rules reload failed" in server.logs()


def configmap_dir(root: Path, version: str, source: Path) -> None:
    """Lay out a directory the way a Kubernetes ConfigMap volume does."""
    data = root / f"..{version}"
    shutil.copytree(source, data)
    link = root / "..data_tmp"
    link.symlink_to(data.name)
    os.replace(link, root / "..data")  # the atomic swap the kubelet performs
    for name in os.listdir(data):
        visible = root / name
        if not visible.is_symlink():
            visible.symlink_to(Path("..data") / name)


def test_configmap_symlink_swap_is_picked_up(tmp_path: Path) -> None:
    v1 = copy_rules(tmp_path / "v1")
    v2 = copy_rules(tmp_path / "v2")
    (v2 / "20-outcome.yaml").write_text((v2 / "20-outcome.yaml").read_text().replace(
        "            - {from: 3, percent_of_order: 15}\n", "            - {from: 3, percent_of_order: 20}\n"))
    mount = tmp_path / "mount"
    mount.mkdir()
    configmap_dir(mount, "2026_11_23_01", v1)
    with running_server("reload-configmap", mount, env=FAST, ready_path="/readyz") as server, \
            server.client() as http:
        assert refund(http) == "17.00"
        configmap_dir(mount, "2026_11_23_02", v2)
        eventually(lambda: refund(http) == "21.00")


def test_forced_reload_needs_the_admin_scope_and_reports_findings(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    env = {**SECURED_ENV, "RECOVERY_RELOAD_INTERVAL_SECONDS": "0"}
    with running_server("reload-forced", rules, env=env, ready_path="/readyz") as server, server.client() as http:
        admin = {"X-API-Key": ADMIN_KEY}
        assert http.post("/v1/ruleset:reload", headers={"X-API-Key": API_KEY}).status_code == 403
        header = (rules / "ruleset.yaml").read_text()
        version = http.get("/v1/ruleset", headers=admin).json()["version"]
        assert f'version: "{version}"' in header
        (rules / "ruleset.yaml").write_text(header.replace(f'version: "{version}"', 'version: "2099.1.1"'))
        loaded = http.post("/v1/ruleset:reload", headers=admin)
        assert loaded.status_code == 200 and loaded.json()["status"] == "loaded"
        assert http.get("/v1/ruleset", headers=admin).json()["version"] == "2099.1.1"
        (rules / "broken.yaml").write_text("rules:\n  - id: broken\n    then: {refund: {}}\n")
        refused = http.post("/v1/ruleset:reload", headers=admin)
        assert refused.status_code == 422
        body = refused.json()
        assert body["findings"] and all(f["file"] == "broken.yaml" for f in body["findings"])
        assert body["live_digest"] == loaded.json()["digest"]


def test_no_request_fails_while_rulesets_change_under_load(tmp_path: Path) -> None:
    versions = {}
    for percent in (15, 20, 25):
        source = copy_rules(tmp_path / f"p{percent}")
        outcome = source / "20-outcome.yaml"
        outcome.write_text(outcome.read_text().replace(BAND.format(15), BAND.format(percent)))
        versions[percent] = source
    broken = copy_rules(tmp_path / "broken")
    (broken / "20-outcome.yaml").write_text("rules:\n  - id: [not, a, slug]\n")
    expected = {15: "17.00", 20: "21.00", 25: "25.00"}  # 80 EUR x percent + the 5 EUR credit

    mount = tmp_path / "mount"
    mount.mkdir()
    configmap_dir(mount, "v0", versions[15])
    env = {**FAST, "RECOVERY_WORKERS": "2"}
    with running_server("reload-stress", mount, env=env, ready_path="/readyz") as server:
        seen: list[tuple[int, str | None, str | None]] = []
        errors: list[str] = []
        stop = threading.Event()

        def load() -> None:
            with server.client() as http:
                while not stop.is_set():
                    try:
                        response = http.post("/v1/decisions", json=CONTRACT_EXAMPLE)
                        body = response.json()
                        seen.append((response.status_code, body.get("ruleset", {}).get("digest"),
                                     body.get("mix", {}).get("refund", {}).get("amount")))
                    except httpx.HTTPError as exc:
                        errors.append(repr(exc))

        threads = [threading.Thread(target=load) for _ in range(6)]
        for thread in threads:
            thread.start()
        swaps = 0
        order = [20, "broken", 25, 15, "broken", 20] * 5
        for step, choice in enumerate(order):
            source = broken if choice == "broken" else versions[choice]
            configmap_dir(mount, f"v{step + 1}", source)
            swaps += 1
            time.sleep(0.35)
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join()
        with server.client() as http:  # the last valid version is live in every worker
            assert {refund(http) for _ in range(20)} == {"21.00"}

    digests = {}
    from service.engine.loader import load_dir

    for percent, source in versions.items():
        digests[load_dir(source).digest] = expected[percent]
    assert errors == []
    assert len(seen) > 500
    assert {status for status, _, _ in seen} == {200}
    # every decision was made by a complete, valid ruleset, and its refund is that ruleset's
    assert {(digest, amount) for _, digest, amount in seen} <= set(digests.items())
    assert len({digest for _, digest, _ in seen}) == 3
    assert swaps == 30
