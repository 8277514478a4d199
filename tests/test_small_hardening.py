"""The smaller findings of issue 14 (point 10), each against a real server."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import httpx

from tests.conftest import API_KEY
from tests.support import RULES, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE
from tests.test_reload import copy_rules, eventually


def test_a_client_hanging_up_mid_body_is_not_a_server_error(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    marker = "hangup-" + str(time.time_ns())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"X-Request-ID: {marker}\r\nContent-Length: 1000\r\n\r\n{{\"failure\":".encode())
        time.sleep(0.3)
    eventually(lambda: marker in server.logs())
    lines = [json.loads(line) for line in server.logs().splitlines() if marker in line]
    assert all(line["level"] != "error" for line in lines), lines
    assert [line["status"] for line in lines if line["msg"] == "request"] == [499]
    assert "Exception in ASGI application" not in server.logs()


def test_wrong_key_guesses_are_rate_limited_per_client_address() -> None:
    env = {"RECOVERY_API_KEYS": f"crm:{API_KEY}", "RECOVERY_AUTH_FAILURES_PER_MINUTE": "5"}
    with running_server("auth-failures", RULES, env=env, ready_path="/readyz") as live, live.client() as http:
        assert http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY}).status_code == 200
        statuses = [http.post("/v1/decisions", json=CONTRACT_EXAMPLE,
                              headers={"X-API-Key": f"guess-{index:012d}"}).status_code for index in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        blocked = http.post("/v1/decisions", json=CONTRACT_EXAMPLE, headers={"X-API-Key": API_KEY})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1  # no oracle for a right guess


def test_an_empty_api_key_header_beside_a_valid_bearer_token_is_let_in(secured_server: Server) -> None:
    with secured_server.client() as http:
        response = http.post("/v1/decisions", json=CONTRACT_EXAMPLE,
                             headers={"X-API-Key": "", "Authorization": f"Bearer {API_KEY}"})
        assert response.status_code == 200, response.text


def test_the_batch_route_says_it_does_not_explain(client: httpx.Client) -> None:
    response = client.post("/v1/decisions:batch?explain=true", json={"events": [CONTRACT_EXAMPLE]})
    assert response.status_code == 422
    assert response.json()["code"] == "explain-not-supported"
    assert client.post("/v1/decisions:batch?explain=false", json={"events": [CONTRACT_EXAMPLE]}).status_code == 200


def test_readiness_shows_no_paths_of_the_machine(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    env = {"RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2", "RECOVERY_RELOAD_QUIET_SECONDS": "0.2"}
    with running_server("readyz-paths", rules, env=env, ready_path="/readyz") as live, live.client() as http:
        shutil.move(rules, tmp_path / "elsewhere")  # the mount disappears
        eventually(lambda: http.get("/readyz").json().get("last_reload_failure") is not None)
        text = http.get("/readyz").text
        assert str(tmp_path) not in text and "/tmp" not in text, text
        assert "rules directory" in text


def test_swagger_ui_is_served_from_the_package(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "://" not in page.text  # no absolute URL, so nothing from elsewhere
    for asset in ("/docs/ui/swagger-ui-bundle.js", "/docs/ui/swagger-ui.css", "/docs/app/start.js"):
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 100, asset
