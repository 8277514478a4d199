"""Prometheus metrics, served at /metrics. No customer, ticket or event ids as labels.

Each worker process keeps its own registry (Prometheus scrapes pods, and the
Service balances requests over workers, so per-process series are summed by
the query). Labels are low-cardinality enums only.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

REGISTRY = CollectorRegistry(auto_describe=True)

DECISIONS = Counter(
    "recovery_decisions_total", "Decisions made, by outcome and root cause",
    ["outcome", "root_cause"], registry=REGISTRY)
COMPONENTS = Counter(
    "recovery_decision_components_total", "Components recommended in decisions",
    ["component"], registry=REGISTRY)
DECISION_SECONDS = Histogram(
    "recovery_decision_seconds", "Time to decide one event (validation to response body), in seconds",
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1), registry=REGISTRY)
RULE_FIRES = Counter(
    "recovery_rule_fires_total", "Times each rule fired", ["rule"], registry=REGISTRY)
REQUESTS = Counter(
    "recovery_http_requests_total", "HTTP requests by route and status", ["route", "method", "status"],
    registry=REGISTRY)
REQUEST_SECONDS = Histogram(
    "recovery_http_request_seconds", "HTTP request latency by route, in seconds", ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0), registry=REGISTRY)
RELOADS = Counter(
    "recovery_ruleset_reloads_total", "Ruleset reloads by result (loaded, unchanged, failed)", ["result"],
    registry=REGISTRY)
RULESET = Info(
    "recovery_ruleset", "The live ruleset", registry=REGISTRY)
RULESET_RULES = Gauge(
    "recovery_ruleset_rules", "Rules in the live ruleset", registry=REGISTRY)
WEBHOOK_DELIVERIES = Counter(
    "recovery_webhook_deliveries_total", "Webhook deliveries by system and result", ["system", "result"],
    registry=REGISTRY)
