"""POST /bench/noop, the benchmark's baseline: off by default, and when on, the decision route's input checks."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from tests.support import Server, running_server

EVENT: dict[str, Any] = {"failure": {"type": "late_delivery", "severity": 3, "root_cause": "provider"},
                         "order": {"amount": {"amount": "80.00", "currency": "EUR"}}}


@pytest.fixture(scope="module")
def bench_server() -> Iterator[Server]:
    with running_server("bench-routes", env={"RECOVERY_BENCH_ROUTES": "true"}, ready_path="/readyz") as live:
        yield live


def test_the_noop_route_is_not_mounted_by_default(client: httpx.Client) -> None:
    assert client.post("/bench/noop", json=EVENT).status_code == 404
    assert client.post("/v1/decisions", json=EVENT).status_code == 200


def test_the_noop_route_answers_a_valid_event_with_a_fixed_small_body(bench_server: Server) -> None:
    with bench_server.client() as http:
        first = http.post("/bench/noop", json=EVENT)
        other = http.post("/bench/noop", json={**EVENT, "event_id": "crm-2"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"status": "ok"}
    assert other.content == first.content


def test_the_noop_route_checks_the_event_like_the_decision_route(bench_server: Server) -> None:
    bad = {**EVENT, "failure": {**EVENT["failure"], "severity": 9}}
    with bench_server.client() as http:
        for route in ("/bench/noop", "/v1/decisions"):
            invalid = http.post(route, json=bad)
            assert invalid.status_code == 422, route
            assert invalid.headers["content-type"] == "application/problem+json"
            assert invalid.json()["errors"][0]["loc"] == ["failure", "severity"]
            malformed = http.post(route, content=b'{"failure": ', headers={"content-type": "application/json"})
            assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed-json"), route
            text = http.post(route, content=b"hello", headers={"content-type": "text/plain"})
            assert text.status_code == 415, route


def test_the_noop_route_stays_out_of_the_openapi_document(bench_server: Server) -> None:
    with bench_server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    assert "/v1/decisions" in paths
    assert not any(path.startswith("/bench") for path in paths)
