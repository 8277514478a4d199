"""create_app(): lifespan, routers, error handlers and middleware. Wiring only."""

from __future__ import annotations

import functools
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from . import __version__, openapi, problems
from .api import decisions, health, ruleset
from .api.body import BodyLimit
from .engine.registry import Registry
from .settings import Settings, get_settings

log = logging.getLogger("service")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    registry = Registry(settings.rules_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        result = registry.reload()
        if result.status == "failed":
            log.error("no valid ruleset at %s; /readyz answers 503 until one loads", settings.rules_dir)
        yield
        registry.close()

    app = FastAPI(title="Service recovery decision engine", version=__version__, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.settings = settings
    app.state.registry = registry
    problems.install(app)
    app.include_router(decisions.router)
    app.include_router(ruleset.router)
    app.include_router(health.router)

    def limit_for(path: str) -> int:
        return settings.batch_max_body_bytes if path.endswith(":batch") else settings.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.openapi = functools.partial(openapi.build, app)  # type: ignore[method-assign]
    return app
