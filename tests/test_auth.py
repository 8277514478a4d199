"""API keys on /v1/*: 401 without or with a wrong key, 403 without the scope, 429 over the rate."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_KEY, API_KEY
from tests.support import RULES, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE

ROUTES = [("POST", "/v1/decisions", CONTRACT_EXAMPLE), ("POST", "/v1/decisions:batch", {"events": [CONTRACT_EXAMPLE]}),
          ("GET", "/v1/ruleset", None), ("POST", "/v1/ruleset:reload", None),
          ("POST", "/v1/simulations", {"candidate": {"files": {"x.yaml": "rules: []"}}, "events": [CONTRACT_EXAMPLE]}),
          ("GET", "/v1/simulations/directories", None)]


def call(server: Server, method: str, path: str, body: object, headers: dict[str, str]) -> httpx.Response:
    with server.client() as http:
        return http.request(method, path, json=body, headers=headers)


def assert_problem(response: httpx.Response, status: int) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_without_a_key_is_401(secured_server: Server, method: str, path: str, body: object) -> None:
    response = call(secured_server, method, path, body, {})
    assert assert_problem(response, 401)["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method, path, body", ROUTES)
@pytest.mark.parametrize("headers", [{"X-API-Key": "wrong-key-0123456789"},
                                     {"Authorization": "Bearer wrong-key-0123456789"},
                                     {"Authorization": "Basic Y3JtOnNlY3JldA=="}])
def test_with_a_wrong_key_is_401(secured_server: Server, method: str, path: str, body: object,
                                 headers: dict[str, str]) -> None:
    body_json = assert_problem(call(secured_server, method, path, body, headers), 401)
    assert "wrong-key" not in str(body_json)


def test_decide_key_cannot_reload(secured_server: Server) -> None:
    response = call(secured_server, "POST", "/v1/ruleset:reload", None, {"X-API-Key": API_KEY})
    problem = assert_problem(response, 403)
    assert "crm" in problem["detail"] and API_KEY not in response.text


@pytest.mark.parametrize("headers", [{"X-API-Key": API_KEY}, {"Authorization": f"Bearer {API_KEY}"},
                                     {"X-API-Key": ADMIN_KEY}])
def test_valid_keys_decide(secured_server: Server, headers: dict[str, str]) -> None:
    response = call(secured_server, "POST", "/v1/decisions", CONTRACT_EXAMPLE, headers)
    assert response.status_code == 200
    assert response.json()["mix"]["refund"]["amount"] == "17.00"


def test_admin_key_reloads(secured_server: Server) -> None:
    response = call(secured_server, "POST", "/v1/ruleset:reload", None, {"X-API-Key": ADMIN_KEY})
    assert response.status_code == 200
    assert response.json()["status"] == "unchanged"


def test_probes_and_metrics_stay_open(secured_server: Server) -> None:
    with secured_server.client() as http:
        assert http.get("/livez").status_code == 200
        assert http.get("/readyz").status_code == 200
        assert http.get("/healthz").status_code == 200
        assert http.get("/openapi.json").status_code == 200


def test_rate_limit_per_key_with_retry_after() -> None:
    env = {"RECOVERY_API_KEYS": f"crm:{API_KEY},other:other-key-0123456789", "RECOVERY_RATE_LIMIT_PER_MINUTE": "5"}
    with running_server("rate-limited", RULES, env=env, ready_path="/readyz") as server, server.client() as http:
        statuses = [http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY}).status_code
                    for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY})
        assert assert_problem(limited, 429)["code"] == "rate-limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        other = http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": "other-key-0123456789"})
        assert other.status_code == 200


@pytest.mark.parametrize("env, words", [
    ({"RECOVERY_API_KEYS": "crm:short"}, "shorter than 16"),
    ({"RECOVERY_API_KEYS": "no-separator-here-at-all"}, "not `name:key`"),
    ({"RECOVERY_WORKERS": "zero"}, "RECOVERY_WORKERS"),
    ({"RECOVERY_RULES_DIR": "/nonexistent/rules"}, "RECOVERY_RULES_DIR"),
])
def test_bad_configuration_stops_the_service_with_a_clear_message(env: dict[str, str], words: str) -> None:
    import os
    import subprocess
    import sys

    from tests.support import ROOT

    result = subprocess.run([sys.executable, "-m", "service.cli", "serve"], capture_output=True, text=True,
                            env={**os.environ, "RECOVERY_NO_REEXEC": "1", **env}, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert words in result.stderr
    assert "crm:short" not in result.stderr  # a key is never echoed
