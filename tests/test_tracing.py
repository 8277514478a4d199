"""OpenTelemetry tracing (RECOVERY_TRACING=otlp, the `tracing` extra): a real server exports FastAPI's
request spans over OTLP/HTTP to a local receiver, continuing the caller's trace; off, it sends nothing."""

from __future__ import annotations

import http.server
import threading
import time
from typing import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                      ExportTraceServiceResponse)

from tests.support import ROOT, RULES, free_port, running_server

EVENT = (ROOT / "samples" / "event.json").read_bytes()
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


class Receiver(http.server.ThreadingHTTPServer):
    """The OTLP/HTTP traces endpoint of a collector: POST /v1/traces, protobuf in and out."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.spans: list[tuple[dict[str, str], object]] = []  # (resource attributes, span)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {item.key: item.value.string_value for item in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.server.spans.extend((resource, span) for span in scope_spans.spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def traced_env(receiver: Receiver, mode: str) -> dict[str, str]:
    return {"RECOVERY_TRACING": mode, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_address[1]}",
            "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "recovery-test"}


def decide_with_parent(url: str) -> None:
    import httpx

    response = httpx.post(url + "/v1/decisions", content=EVENT, timeout=30,
                          headers={"content-type": "application/json", "traceparent": f"00-{TRACE_ID}-{PARENT}-01"})
    assert response.status_code == 200
    assert httpx.get(url + "/readyz", timeout=30).status_code == 200


def test_request_spans_reach_the_collector_in_the_callers_trace(receiver: Receiver) -> None:
    with running_server("tracing-on", RULES, env=traced_env(receiver, "otlp"), ready_path="/readyz") as server:
        decide_with_parent(server.url)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(span.trace_id.hex() == TRACE_ID  # type: ignore[attr-defined]
                                                      for _, span in receiver.spans):
            time.sleep(0.1)
    ours = [(resource, span) for resource, span in receiver.spans if span.trace_id.hex() == TRACE_ID]  # type: ignore
    assert ours, f"no span of trace {TRACE_ID}; got {[span.name for _, span in receiver.spans]}"  # type: ignore
    resource, root = next((r, s) for r, s in ours if s.parent_span_id.hex() == PARENT)  # type: ignore[attr-defined]
    attributes = {item.key: item.value for item in root.attributes}  # type: ignore[attr-defined]
    assert root.name == "POST /v1/decisions"  # type: ignore[attr-defined]
    assert attributes["http.route"].string_value == "/v1/decisions"
    assert attributes["http.response.status_code"].int_value == 200
    assert resource["service.name"] == "recovery-test"
    assert not [span for _, span in receiver.spans if "/readyz" in span.name]  # type: ignore[attr-defined]


def test_off_by_default_nothing_is_sent(receiver: Receiver) -> None:
    env = traced_env(receiver, "otlp")
    del env["RECOVERY_TRACING"]
    with running_server("tracing-off", RULES, env=env, ready_path="/readyz") as server:
        decide_with_parent(server.url)
        time.sleep(1.0)  # five export intervals, had an exporter been running
    assert receiver.spans == []
