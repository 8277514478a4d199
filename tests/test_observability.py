"""Logs, request ids and metrics, read from a real server's stdout and /metrics."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from tests.conftest import API_KEY, SECURED_ENV
from tests.support import RULES, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE


def log_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for raw in server.logs().splitlines():
        lines.append(json.loads(raw))  # every line on stdout is one JSON object
    return lines


def wait_for_line(server: Server, predicate: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_lines(server):
            if predicate(line):
                return line
        time.sleep(0.05)
    raise AssertionError(f"no matching log line in:\n{server.logs()[-3000:]}")


@pytest.fixture(scope="module")
def logged() -> Any:
    env = {**SECURED_ENV, "RECOVERY_LOG_HASH_SALT": "pepper-for-tests"}
    with running_server("observability", RULES, env=env, ready_path="/readyz") as server:
        yield server


def test_every_stdout_line_is_json_with_the_basics(logged: Server) -> None:
    with logged.client() as http:
        http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY})
    lines = log_lines(logged)
    assert lines
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line["ts"]) for line in lines)


def test_request_line_carries_the_request_id_route_status_latency_and_digest(logged: Server) -> None:
    with logged.client() as http:
        response = http.post("/v1/decisions", json=CONTRACT_EXAMPLE,
                             headers={"X-API-Key": API_KEY, "X-Request-ID": "crm-req-0042"})
    assert response.headers["x-request-id"] == "crm-req-0042"
    line = wait_for_line(logged, lambda l: l["msg"] == "request" and l.get("request_id") == "crm-req-0042")
    assert line["route"] == "/v1/decisions" and line["method"] == "POST" and line["status"] == 200
    assert line["latency_ms"] > 0
    assert line["ruleset_digest"] == response.json()["ruleset"]["digest"]
    assert line["client"] == "crm"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon", "new\tline"])
def test_an_unsafe_request_id_is_replaced(logged: Server, bad: str) -> None:
    with logged.client() as http:
        response = http.get("/livez", headers={"X-Request-ID": bad})
    assert re.match(r"^[0-9a-f]{24,}$", response.headers["x-request-id"])


def test_header_injection_through_the_request_id_is_impossible(logged: Server) -> None:
    with logged.client() as http:
        try:
            response = http.get("/livez", headers={"X-Request-ID": "abc\r\nSet-Cookie: x=1"})
        except httpx.LocalProtocolError:
            return  # the client refuses to send it at all
    assert "set-cookie" not in response.headers
    assert response.headers["x-request-id"] != "abc"


def test_decision_line_masks_customer_fields_and_keeps_free_text_and_keys_out(logged: Server) -> None:
    with logged.client() as http:
        decision = http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY}).json()
    line = wait_for_line(logged, lambda l: l["msg"] == "decision" and l["decision_id"] == decision["decision_id"])
    assert line["event_id"] == "crm-48213"
    assert line["refund"] == {"amount": "17.00", "currency": "EUR"} and line["approval"] == "agent"
    assert "outcome-value-full" in line["rules_fired"]
    assert line["customer_id"].startswith("h:") and "c-1009" not in json.dumps(line)
    everything = logged.logs()
    assert "parcel 4 days late" not in everything  # free text is never logged
    assert API_KEY not in everything and "pepper-for-tests" not in everything


@pytest.mark.parametrize("mode, expected", [("omit", None), ("plain", "c-1009")])
def test_customer_field_masking_is_configurable(mode: str, expected: str | None) -> None:
    with running_server(f"mask-{mode}", RULES, env={"RECOVERY_LOG_CUSTOMER_FIELDS": mode},
                        ready_path="/readyz") as server, server.client() as http:
        decision_id = http.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()["decision_id"]
        line = wait_for_line(server, lambda l: l.get("decision_id") == decision_id)
        assert line.get("customer_id") == expected


def metric(text: str, metric_name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(metric_name + "{") or line.startswith(metric_name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(key) == value for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_decisions_components_rules_and_latency(logged: Server) -> None:
    with logged.client() as http:
        before = http.get("/metrics").text
        for _ in range(3):
            http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY})
        bad = {**CONTRACT_EXAMPLE, "failure": {**CONTRACT_EXAMPLE["failure"], "type": "alien"}}
        bad["failure"].pop("category")
        http.post("/v1/decisions", json=bad, headers={"X-API-Key": API_KEY})
        response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    delta = lambda metric_name, **labels: metric(after, metric_name, **labels) - metric(before, metric_name, **labels)  # noqa: E731
    assert delta("recovery_decisions_total", outcome="decided", root_cause="provider") == 3
    assert delta("recovery_decisions_total", outcome="invalid", root_cause="provider") == 1
    assert delta("recovery_decision_components_total", component="refund") == 3
    assert delta("recovery_rule_fires_total", rule="outcome-value-full") == 3
    assert delta("recovery_decision_duration_seconds_count") == 3
    assert delta("recovery_http_requests_total", route="/v1/decisions", method="POST", status="200") == 3
    assert metric(after, "recovery_ruleset_reloads_total", result="loaded") >= 1
    digest = http_digest(logged)
    assert metric(after, "recovery_ruleset_info", name="default", digest=digest) == 1
    assert "c-1009" not in after and "crm-48213" not in after


def http_digest(server: Server) -> str:
    with server.client() as http:
        return http.get("/readyz").json()["ruleset"]["digest"]


def test_metrics_add_up_over_workers() -> None:
    with running_server("metrics-workers", RULES, env={"RECOVERY_WORKERS": "2"}, ready_path="/readyz") as server:
        for _ in range(40):  # new connections spread over both workers
            with server.client() as http:
                assert http.post("/v1/decisions", json=CONTRACT_EXAMPLE).status_code == 200
        time.sleep(1.5)  # each worker moves its counts into the shared samples once a second
        scrapes = []
        for _ in range(6):
            with server.client() as http:
                scrapes.append(metric(http.get("/metrics").text, "recovery_decisions_total", outcome="decided",
                                      root_cause="provider"))
        assert scrapes == [40.0] * 6
