"""Prometheus metrics, served at /metrics. No customer, ticket or event ids as labels.

With several worker processes, `recovery serve` points PROMETHEUS_MULTIPROC_DIR at
a fresh directory before the workers start, so every worker writes its samples
there and a scrape of any worker reports the sum over all of them. Labels are
low-cardinality values only (routes, statuses, rule ids, enums).

Names follow Prometheus conventions (checked with `promtool check metrics` in
tests/test_metrics_names.py): `_total` counters, `_duration_seconds` histograms, base
units, no `_created` series. A single-process server also reports prometheus_client's
process_*, python_gc_* and python_info collectors; with several workers only python_info
(process metrics are per process, and prometheus_client cannot add them up across workers).
`recovery_ruleset_info` carries only the digests being served, never earlier ones.
"""

from __future__ import annotations

import asyncio
import os
import platform
from importlib import metadata
from typing import Any, Iterable

from prometheus_client import (CONTENT_TYPE_LATEST, GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR,
                               CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics,
                               generate_latest, multiprocess)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from . import __version__

disable_created_metrics()  # a `_created` twin per counter doubles the series and no dashboard reads it
REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

DECISIONS = Counter(
    "recovery_decisions_total", "Decisions made, by outcome and root cause",
    ["outcome", "root_cause"], registry=REGISTRY)
COMPONENTS = Counter(
    "recovery_decision_components_total", "Components recommended in decisions",
    ["component"], registry=REGISTRY)
DECISION_SECONDS = Histogram(
    "recovery_decision_duration_seconds", "Time to decide one event (validation to response body), in seconds",
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1), registry=REGISTRY)
RULE_FIRES = Counter(
    "recovery_rule_fires_total", "Times each rule fired", ["rule"], registry=REGISTRY)
REQUESTS = Counter(
    "recovery_http_requests_total", "HTTP requests by route and status", ["route", "method", "status"],
    registry=REGISTRY)
REQUEST_SECONDS = Histogram(
    "recovery_http_request_duration_seconds", "HTTP request latency by route, in seconds", ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0), registry=REGISTRY)
RELOADS = Counter(
    "recovery_ruleset_reloads_total", "Ruleset reloads by result (loaded, unchanged, failed)", ["result"],
    registry=REGISTRY)
RULESET = Gauge(
    "recovery_ruleset_info", "The live ruleset: 1 for each digest a worker serves (earlier ones are dropped)",
    ["name", "version", "digest"], registry=REGISTRY, multiprocess_mode="livemax")
RULESET_RULES = Gauge(
    "recovery_ruleset_rules", "Rules in the live ruleset", registry=REGISTRY, multiprocess_mode="livemax")
RULESET_WORKERS = Gauge(
    "recovery_ruleset_workers", "Worker processes serving each ruleset digest: the pod serves the digest all its "
    "workers serve", ["digest"], registry=REGISTRY, multiprocess_mode="livesum")
CONNECTIONS_CLOSED = Counter(
    "recovery_connections_closed_total", "Connections the server closed to protect itself, by reason "
    "(headers-too-large, header-timeout, evicted-idle, overloaded)", ["reason"], registry=REGISTRY)
WEBHOOK_DELIVERIES = Counter(
    "recovery_webhook_deliveries_total", "Webhook deliveries by system and result", ["system", "result"],
    registry=REGISTRY)
WEBHOOK_WRITEBACKS = Counter(
    "recovery_webhook_writebacks_total", "Recommendations written back onto tickets by system and result "
    "(posted, present: the note was already there, failed)", ["system", "result"], registry=REGISTRY)
LEDGER_RECORDS = Counter(
    "recovery_ledger_records_total", "Ledger records by result: stored in the database, shed (spool full), "
    "erased (dropped on replay: the customer was erased meanwhile)", ["result"], registry=REGISTRY)
LEDGER_BACKLOG = Gauge(
    "recovery_ledger_backlog_records", "Records waiting in the spool for the database (about; per host)",
    registry=REGISTRY, multiprocess_mode="livemax")
LEDGER_SPOOL_BYTES = Gauge(
    "recovery_ledger_spool_bytes", "Bytes in the ledger's spool directory", registry=REGISTRY,
    multiprocess_mode="livemax")
LEDGER_DB_UP = Gauge(
    "recovery_ledger_database_up", "1 when the ledger database answered the last write, else 0",
    registry=REGISTRY, multiprocess_mode="livemin")
BUILD = Gauge(
    "recovery_build_info", "The running build: 1, with the service's, Python's and durable-rules' versions",
    ["version", "python", "durable_rules"], registry=REGISTRY, multiprocess_mode="max")
LEDGER_IDEMPOTENCY = Counter(
    "recovery_ledger_idempotency_total", "Keyed decision requests by result: first, replayed, conflict, "
    "unavailable (the database did not answer in time: decided without the check)", ["result"], registry=REGISTRY)


# prometheus_client's labels() costs microseconds per call; the hot path looks children up here.
_children: dict[tuple[Any, ...], Any] = {}


def child(metric: Any, *labels: str) -> Any:
    key = (id(metric), *labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


# Counter increments on the hot path go to a plain dict first (a dict update costs a
# fraction of a prometheus_client increment); `flush()` moves them into the counters
# before every scrape and once a second (app lifespan), so a scrape is never staler
# than that for other workers and never stale for the worker scraped.
_pending: dict[tuple[Any, tuple[str, ...]], float] = {}


def count(metric: Any, *labels: str) -> None:
    key = (metric, labels)
    _pending[key] = _pending.get(key, 0.0) + 1.0


def flush() -> None:
    if not _pending:
        return
    items = list(_pending.items())
    _pending.clear()
    for (metric, labels), amount in items:
        child(metric, *labels).inc(amount)


async def flush_every(seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        flush()


def request(route: str, method: str, status: int, seconds: float) -> None:
    count(REQUESTS, route, method, str(status))
    child(REQUEST_SECONDS, route).observe(seconds)


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


BUILD.labels(__version__, platform.python_version(), _package_version("durable-rules")).set(1)

_live: tuple[str, str, str] | None = None
_DROPPED_AT_ZERO = ("recovery_ruleset_info", "recovery_ruleset_workers")


def ruleset_loaded(name: str, version: str, digest: str, rules: int) -> None:
    global _live
    if _live is not None and _live != (name, version, digest):
        # Dropped in this process; in multiprocess mode its file keeps the 0, which exposition() drops.
        RULESET.labels(*_live).set(0)
        RULESET_WORKERS.labels(_live[2]).set(0)
        RULESET.remove(*_live)
        RULESET_WORKERS.remove(_live[2])
        _children.pop((id(RULESET), *_live), None)
    _live = (name, version, digest)
    RULESET.labels(*_live).set(1)
    RULESET_WORKERS.labels(digest).set(1)
    RULESET_RULES.set(rules)


def exposition() -> tuple[bytes, str]:
    """The text exposition for a scrape: this process, or all workers in multiprocess mode."""
    flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        registry.register(_WithoutRetired(multiprocess.MultiProcessCollector(None)))
        registry.register(PLATFORM_COLLECTOR)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class _WithoutRetired(Collector):
    """The workers' samples without the ruleset digests no worker serves any more (value 0)."""

    def __init__(self, inner: multiprocess.MultiProcessCollector):
        self.inner = inner

    def collect(self) -> Iterable[Metric]:
        for family in self.inner.collect():
            if family.name in _DROPPED_AT_ZERO:
                family.samples = [sample for sample in family.samples if sample.value != 0]
            yield family
