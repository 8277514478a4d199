"""Salesforce outbound messages are parsed safely: no DTDs, no entities, nothing fetched."""

from __future__ import annotations

import http.server
import threading
from typing import Iterator

import httpx
import pytest

from tests.webhooks import deliveries as d


def post(hooks: httpx.Client, body: bytes, content_type: str = "text/xml; charset=utf-8") -> httpx.Response:
    return hooks.post("/v1/webhooks/salesforce", params={"token": d.SALESFORCE_TOKEN}, content=body,
                      headers={"content-type": content_type, "SOAPAction": '""'})


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&lol3;</OrganizationId>
</notifications></soapenv:Body></soapenv:Envelope>"""


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"rude_agent")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def listener() -> Iterator[tuple[str, list[str]]]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()
    server.server_close()


def test_entity_expansion_is_refused(hooks: httpx.Client) -> None:
    response = post(hooks, BILLION_LAUGHS)
    assert response.status_code == 400 and response.json()["code"] == "xml-forbidden"
    assert "<Ack>" not in response.text


def test_external_entities_are_neither_fetched_nor_expanded(hooks: httpx.Client,
                                                             listener: tuple[str, list[str]]) -> None:
    url, hits = listener
    message = d.salesforce_message(d.RUDE_AGENT_CASE).replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY ext SYSTEM "{url}/entity">]>\n'.encode())
    message = message.replace(b"rude_agent", b"&ext;")
    response = post(hooks, message)
    assert response.status_code == 400 and response.json()["code"] == "xml-forbidden"
    assert hits == []


def test_urls_in_the_envelope_are_never_fetched(hooks: httpx.Client, listener: tuple[str, list[str]]) -> None:
    url, hits = listener
    message = d.salesforce_message(d.RUDE_AGENT_CASE).replace(
        b"https://example.my.salesforce.com", url.encode())
    assert post(hooks, message).status_code == 200
    assert hits == []


@pytest.mark.parametrize("body, code", [
    (b"<soapenv:Envelope", "malformed-xml"),
    (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
     b"<soapenv:Body/></soapenv:Envelope>", "invalid-payload"),
    (d.salesforce_message(), "invalid-payload"),
])
def test_what_is_not_an_outbound_message_is_refused_without_ack(hooks: httpx.Client, body: bytes, code: str) -> None:
    response = post(hooks, body)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_more_than_100_notifications_are_refused(hooks: httpx.Client) -> None:
    response = post(hooks, d.salesforce_message(*[d.RUDE_AGENT_CASE] * 101))
    assert response.status_code == 422 and "at most 100" in response.json()["detail"]


def test_json_is_not_an_outbound_message(hooks: httpx.Client) -> None:
    response = post(hooks, b"{}", "application/json")
    assert response.status_code == 415


def test_soap_12_media_type_is_accepted(hooks: httpx.Client) -> None:
    assert post(hooks, d.salesforce_message(d.RUDE_AGENT_CASE), "application/soap+xml").status_code == 200
