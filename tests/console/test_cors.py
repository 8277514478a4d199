"""A CRM widget in a browser calls the API from another origin (issue 18): allowed, preflight and all,
when RECOVERY_CORS_ORIGINS names the widget's origin; refused by the browser when it does not."""

from __future__ import annotations

import http.server
import threading
from typing import Iterator

import pytest
from playwright.sync_api import Page

from tests.conftest import API_KEY, SECURED_ENV
from tests.support import RULES, Server, free_port, running_server

WIDGET = b"<!doctype html><title>CRM widget</title><p>ticket 48213</p>"
EVENT = {"event_id": "cors-1", "failure": {"type": "late_delivery", "severity": 3, "root_cause": "provider"},
         "order": {"amount": {"amount": "80.00", "currency": "EUR"}}}
CALL = """async ([url, key, event]) => {
  try {
    const response = await fetch(url + "/v1/decisions", {method: "POST",
      headers: {"content-type": "application/json", "x-api-key": key}, body: JSON.stringify(event)});
    const body = await response.json();
    return {status: response.status, requestId: response.headers.get("x-request-id"), refund: body.mix?.refund ?? null};
  } catch (error) {
    return {refused: String(error)};
  }
}"""


class _Widget(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(WIDGET)))
        self.end_headers()
        self.wfile.write(WIDGET)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def widget_origins() -> Iterator[tuple[str, str]]:
    """Two pages on origins of their own (another port than the service's): one to allow, one not."""
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Widget) for _ in range(2)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield tuple(f"http://localhost:{server.server_address[1]}" for server in servers)  # type: ignore[misc]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def cors_server(widget_origins: tuple[str, str]) -> Iterator[Server]:
    env = {**SECURED_ENV, "RECOVERY_CORS_ORIGINS": f"{widget_origins[0]},https://crm.example.com"}
    with running_server("cors", RULES, env=env, ready_path="/readyz") as live:
        yield live


def call_from(page: Page, origin: str, server: Server) -> dict:
    page.goto(origin + "/")
    return page.evaluate(CALL, [server.url, API_KEY, EVENT])


def test_an_allowed_origin_gets_the_decision_and_its_request_id(page: Page, widget_origins: tuple[str, str],
                                                                 cors_server: Server) -> None:
    answered = call_from(page, widget_origins[0], cors_server)
    assert answered["status"] == 200
    assert answered["refund"]["currency"] == "EUR"
    assert answered["requestId"]  # exposed to the script, so the widget can quote it to support


def test_an_origin_not_listed_is_refused_by_the_browser(page: Page, widget_origins: tuple[str, str],
                                                        cors_server: Server) -> None:
    assert "Failed to fetch" in call_from(page, widget_origins[1], cors_server).get("refused", "")


def test_without_the_setting_every_origin_is_refused(page: Page, widget_origins: tuple[str, str],
                                                     secured_server: Server) -> None:
    assert "Failed to fetch" in call_from(page, widget_origins[0], secured_server).get("refused", "")
