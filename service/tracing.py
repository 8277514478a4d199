"""OpenTelemetry tracing (optional: the `tracing` extra), off unless RECOVERY_TRACING=otlp.

The spans are FastAPI's own: FastAPI (0.165 and later) traces requests natively once it is
given a tracer provider, with `http.route` as the route's template and the caller's
`traceparent` continued, so no instrumentation package is needed. This module only builds
the provider: an OTLP/HTTP exporter configured by the standard OTEL_* variables
(OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER) behind a batch processor, so exporting stays
off the request path. Off, FastAPI gets no provider and tracing costs nothing. Probes and
/metrics are not traced.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, MutableMapping

from . import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

UNTRACED = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})


class TracingUnavailable(Exception):
    """RECOVERY_TRACING asks for tracing but the `tracing` extra is not installed."""


def provider(mode: str) -> "TracerProvider | None":
    if mode == "off":
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise TracingUnavailable(f"RECOVERY_TRACING={mode} needs the tracing extra "
                                 "(pip install 'service-recovery[tracing]')") from exc
    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; the attributes given
    # here win over those, so the default name is given only when the environment names none.
    attributes = {"service.version": __version__}
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not named:
        attributes["service.name"] = "service-recovery"
    built = TracerProvider(resource=Resource.create(attributes))
    built.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return built


def telemetry(tracer_provider: "TracerProvider | None") -> dict[str, Any]:
    """FastAPI's `telemetry` configuration: spans only (metrics are Prometheus', logs are ours)."""
    return {"tracer_provider": tracer_provider, "tracing": tracer_provider is not None, "metrics": False,
            "logs": False, "auto_configure": False, "exclude": _untraced}


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED
