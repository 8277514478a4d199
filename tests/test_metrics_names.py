"""/metrics as operators expect (issue 18): Prometheus naming checked by `promtool check metrics` (from
Debian's prometheus package, `make promtool`), the process and Python collectors, no `_created` series,
route labels for the console and /metrics, build info, and `recovery_ruleset_info` for the live digest
only, with one worker and with several."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, RULES, running_server
from tests.test_observability import metric
from tests.test_reload import copy_rules, eventually

PROMTOOL = ROOT / ".tools" / "bin" / "promtool"
FAST = {"RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2", "RECOVERY_RELOAD_QUIET_SECONDS": "0"}
EVENT = (ROOT / "samples" / "event.json").read_bytes()
ROUTES = ["/console/{path}", "/docs/ui/{path}", "/metrics", "/v1/decisions"]


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.exists():
        raise AssertionError(f"{PROMTOOL.relative_to(ROOT)} is missing: run `make promtool`")
    return subprocess.run([str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True,
                          timeout=60)


def families(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.M))


@pytest.fixture(scope="module")
def scraped(client: httpx.Client) -> str:
    """A scrape of the shared server after a decision, a console page, Swagger UI's files and a scrape."""
    assert client.post("/v1/decisions", content=EVENT, headers={"content-type": "application/json"}).status_code == 200
    for path in ("/console/", "/console/js/api.js", "/docs/ui/swagger-ui.css", "/metrics"):
        assert client.get(path).status_code == 200
    # A request is counted once its response has gone out, so the next request may overtake it: scrape
    # until every route above shows (bounded).
    deadline = time.monotonic() + 10
    while True:
        text = client.get("/metrics").text
        if all(metric(text, "recovery_http_requests_total", route=route) for route in ROUTES) or \
                time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def test_promtool_finds_no_problem(scraped: str) -> None:
    result = promtool_check(scraped)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_is_not_vacuous() -> None:
    result = promtool_check("# HELP bad_seconds x\n# TYPE bad_seconds counter\nbad_seconds 1\n")
    assert result.returncode != 0 and "_total" in result.stdout + result.stderr


def test_collectors_build_info_and_no_created_series(scraped: str) -> None:
    types = families(scraped)
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "python_gc_collections_total",
            "python_info", "recovery_build_info"} <= set(types)
    assert not [name for name in types if name.endswith("_created")]
    assert metric(scraped, "recovery_build_info", version="0.1.0") == 1


@pytest.mark.parametrize("name", ["recovery_http_request_duration_seconds", "recovery_decision_duration_seconds"])
def test_latencies_are_duration_seconds_histograms(scraped: str, name: str) -> None:
    assert families(scraped)[name] == "histogram"
    assert metric(scraped, name + "_count") >= 1


@pytest.mark.parametrize("route", ROUTES)
def test_routes_are_labelled_by_their_template(scraped: str, route: str) -> None:
    assert metric(scraped, "recovery_http_requests_total", route=route, status="200") >= 1


def ruleset_digests(text: str, name: str) -> set[str]:
    return {dict(re.findall(r'(\w+)="([^"]*)"', line))["digest"]
            for line in text.splitlines() if line.startswith(name + "{")}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ruleset_info_keeps_only_the_live_digest(tmp_path: Path, workers: str) -> None:
    rules = copy_rules(tmp_path / "rules")
    env = {**FAST, "RECOVERY_WORKERS": workers}
    with running_server(f"metrics-reload-{workers}", rules, env=env, ready_path="/readyz") as server, \
            server.client() as http:
        first = http.get("/v1/ruleset").json()["digest"]
        header = rules / "ruleset.yaml"
        header.write_text(header.read_text().replace('version: "2026.12.1"', 'version: "2026.12.2"'))

        def only_the_new_one() -> bool:
            text = http.get("/metrics").text
            digests = ruleset_digests(text, "recovery_ruleset_info")
            return len(digests) == 1 and first not in digests and \
                ruleset_digests(text, "recovery_ruleset_workers") == digests

        eventually(only_the_new_one, timeout=30)
        text = http.get("/metrics").text
        assert metric(text, "recovery_ruleset_info", version="2026.12.2") == 1
        assert promtool_check(text).returncode == 0
