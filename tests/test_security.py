"""Abuse cases over real HTTP: slow-drip and oversized bodies, deep nesting, and what errors echo."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import pytest

from tests.support import RULES, Server, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE


@pytest.fixture(scope="module")
def impatient() -> Any:
    with running_server("impatient", RULES, env={"RECOVERY_BODY_TIMEOUT_SECONDS": "1"},
                        ready_path="/readyz") as server:
        yield server


def _complete(answer: bytes) -> bool:
    """The whole answer is in: its head, and as many body bytes as Content-Length says (a loaded machine
    may deliver the head and the body in separate reads)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return len(body) >= length


def test_a_slow_drip_body_gets_408_and_does_not_hold_the_worker(impatient: Server) -> None:
    host, port = impatient.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as drip:
        drip.sendall(b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{")
        started = time.monotonic()
        with impatient.client() as http:  # others are served meanwhile
            assert http.post("/v1/decisions", json=CONTRACT_EXAMPLE).status_code == 200
        answer = b""
        while not _complete(answer):
            try:
                if b"\r\n\r\n" not in answer:   # once the answer has begun, only read the rest
                    drip.sendall(b" ")
            except OSError:
                break
            drip.settimeout(0.3)
            try:
                answer += drip.recv(4096)
            except socket.timeout:
                pass
            assert time.monotonic() - started < 10
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"application/problem+json" in answer and b"body-timeout" in answer


def test_a_batch_body_over_its_limit_is_413(client: httpx.Client) -> None:
    response = client.post("/v1/decisions:batch", content=b"{" + b" " * (17 * 1024 * 1024) + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "body-too-large"


@pytest.mark.parametrize("path, wrap", [
    ("/v1/decisions", lambda deep: b'{"failure": ' + deep + b"}"),
    ("/v1/decisions:batch", lambda deep: b'{"events": [' + deep + b"]}"),
    ("/v1/simulations", lambda deep: b'{"candidate": ' + deep + b"}"),
])
def test_deeply_nested_json_is_refused_cleanly(client: httpx.Client, path: str, wrap: Any) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    response = client.post(path, content=wrap(deep), headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/livez").status_code == 200


@pytest.mark.parametrize("edit", [
    lambda e: e["customer"].update(id="c-" + "9" * 200),
    lambda e: e["failure"].update(description="secret medical detail " * 200),
    lambda e: e["order"].update(id="order-with-pii-" + "x" * 200),
    lambda e: e["customer"].update(tier="VIP", id="c-1009-private"),
])
def test_errors_do_not_echo_customer_data(client: httpx.Client, edit: Any) -> None:
    event = json.loads(json.dumps(CONTRACT_EXAMPLE))
    edit(event)
    response = client.post("/v1/decisions", json=event)
    assert response.status_code == 422
    text = response.text
    for secret in ("9" * 50, "secret medical detail", "order-with-pii", "c-1009-private"):
        assert secret not in text


def test_numbers_beyond_any_money_are_refused(client: httpx.Client) -> None:
    for amount in ("1e400", "-0.01", "1000000000000.00", "NaN", "Infinity"):
        event = json.loads(json.dumps(CONTRACT_EXAMPLE))
        event["order"]["amount"]["amount"] = amount
        assert client.post("/v1/decisions", json=event).status_code == 422, amount
    raw = json.dumps(CONTRACT_EXAMPLE).replace('"80.00"', "1e400").encode()
    assert client.post("/v1/decisions", content=raw, headers={"content-type": "application/json"}).status_code \
        in (400, 422)
