"""create_app(): lifespan, routers, error handlers and middleware. Wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI
from starlette.routing import Route

from . import __version__, apidocs, console, cors, metrics, openapi, pod, problems, tracing
from .api import bench, decisions, erasures, health, outcomes, reports, ruleset, simulations, webhooks
from .api.body import BodyLimit
from .api.observe import Observe
from .agents.endpoint import HttpEndpoint
from .api.security import MCP_PATH, ApiKeys
from .auth import FailureLimiter, RateLimiter
from .engine.registry import Registry, ReloadResult, Snapshot
from .ledger import Ledger, LedgerConfig
from .logs import CustomerMask
from .server import install_drain
from .settings import Settings, get_settings
from .watcher import watch

log = logging.getLogger("service")


def record_reload(result: ReloadResult, live: Snapshot | None) -> None:
    metrics.RELOADS.labels(result.status).inc()
    if live is not None and result.status == "loaded" and live.digest == result.digest:
        meta = live.ruleset.meta
        metrics.ruleset_loaded(meta.name, meta.version, live.digest, len(live.ruleset.rules))


async def open_ledger(config: LedgerConfig) -> Ledger:
    try:
        ledger = Ledger(config)
    except OSError as exc:
        raise SystemExit(f"RECOVERY_LEDGER_SPOOL_DIR / RECOVERY_LEDGER_URL: cannot use {exc.filename}: "
                         f"{exc.strerror}") from None
    await ledger.start()
    log.info("ledger on %s (%s); spool %s", ledger.dialect, "idempotent" if ledger.idempotent else
             "no idempotency", config.spool_dir)
    return ledger


class NamedRoute:
    """An ASGI app mounted as a plain route, which names its route in the scope as FastAPI's routes do (the
    access log and the metrics read it)."""

    def __init__(self, app: Any):
        self.app = app
        self.route: Route | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["route"] = self.route
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    registry = Registry(settings.rules_dir, on_reload=record_reload)
    keys = settings.key_store()
    ledger_config = settings.ledger_config()
    mcp_endpoint = HttpEndpoint(lambda: registry.current, settings.max_body_bytes)
    try:
        tracer_provider = tracing.provider(settings.tracing)
    except tracing.TracingUnavailable as exc:
        raise SystemExit(str(exc)) from None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        shared = pod.pod_dir()
        if shared is not None:
            pod.start_worker(registry, shared)  # the pod's revision, which every worker serves
        else:
            registry.reload()
        if registry.current is None:
            log.error("no valid ruleset at %s; /readyz answers 503 until one loads", settings.rules_dir)
        if not keys.enabled:
            log.warning("no API keys configured: /v1/* is open to anyone who can reach it")
        install_drain(settings.shutdown_drain_seconds)
        if ledger_config is not None:
            app.state.ledger = await open_ledger(ledger_config)
        tasks = [asyncio.create_task(metrics.flush_every(1.0))]
        if shared is not None:
            tasks.append(asyncio.create_task(pod.follow(registry, shared)))
        elif settings.reload_interval_seconds > 0:
            tasks.append(asyncio.create_task(watch(registry, settings.reload_interval_seconds,
                                                   settings.reload_quiet_seconds)))
        gc.freeze()  # what startup built lives as long as the worker: keep it out of collections
        async with mcp_endpoint.lifespan():
            yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await webhooks.shutdown(app.state)
        if app.state.ledger is not None:
            await app.state.ledger.close()
        metrics.flush()
        registry.close()
        if tracer_provider is not None:
            tracer_provider.shutdown()  # exports the spans still batched

    app = FastAPI(title="Service recovery decision engine", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  telemetry=tracing.telemetry(tracer_provider))  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.registry = registry
    app.state.mask = CustomerMask(settings.log_customer_fields, settings.log_hash_salt)
    app.state.ledger = None
    # The ledger always hashes customer ids, with the logs' salt, whatever the log setting.
    app.state.ledger_mask = CustomerMask("hash", settings.log_hash_salt)
    problems.install(app)
    app.include_router(decisions.router)
    app.include_router(outcomes.router)
    app.include_router(reports.router)
    app.include_router(erasures.router)
    app.include_router(ruleset.router)
    app.include_router(simulations.router)
    app.include_router(health.router)
    app.include_router(webhooks.router)
    if settings.bench_routes:
        app.include_router(bench.router)
    console.mount(app)
    # The MCP endpoint (service.agents): a plain route, so /mcp is not redirected to /mcp/.
    mcp_route = Route(MCP_PATH, endpoint=NamedRoute(mcp_endpoint.app), methods=["GET", "POST", "DELETE"],
                      include_in_schema=False)
    mcp_route.app.route = mcp_route  # type: ignore[attr-defined]
    app.router.routes.append(mcp_route)
    apidocs.mount(app)

    def limit_for(path: str) -> int:
        if path.endswith(":batch") or path == "/v1/simulations":
            return settings.batch_max_body_bytes
        return settings.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(ApiKeys, keys=keys, limiter=RateLimiter(settings.rate_limit_per_minute),
                       failures=FailureLimiter(settings.auth_failures_per_minute))
    cors.install(app, settings.cors_origin_list())
    app.add_middleware(Observe, digest=lambda: registry.current.digest if registry.current else None)
    app.openapi = functools.partial(openapi.build, app)  # type: ignore[method-assign]
    return app
