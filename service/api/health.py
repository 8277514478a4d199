"""Probes: /livez (the process answers), /readyz and /healthz (a valid ruleset is live)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from ..problems import ProblemError, responses
from .ruleset import describe

router = APIRouter(tags=["health"])


class Status(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str


def _ready(request: Request) -> Response:
    registry = request.app.state.registry
    snapshot = registry.current
    failure = registry.last_failure.as_dict() if registry.last_failure else None
    if snapshot is None:
        raise ProblemError(503, "not-ready", "no valid ruleset is live", headers={"Retry-After": "5"},
                           extra={"last_reload_failure": failure})
    body: dict[str, Any] = {"status": "ready", "ruleset": describe(snapshot), "last_reload_failure": failure}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/livez", operation_id="livez", summary="Liveness: the process answers", response_model=Status)
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz", summary="Readiness: a valid ruleset is live", response_model=None,
            responses={200: {"model": Status, "description": "Ready"}, **responses(503)})
async def readyz(request: Request) -> Response:
    return _ready(request)


@router.get("/healthz", operation_id="healthz", summary="Alias of /readyz", response_model=None,
            responses={200: {"model": Status, "description": "Ready"}, **responses(503)})
async def healthz(request: Request) -> Response:
    return _ready(request)
