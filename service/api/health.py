"""Probes: /livez (the process answers), /readyz and /healthz (a valid ruleset is live); /metrics.

/readyz also reports the ledger (database up, spool backlog); a ledger whose
database is down keeps the service ready (decisions go on, records wait in the
spool), except when the spool is full and RECOVERY_LEDGER_ON_FULL is `refuse`.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from .. import metrics, pod
from ..server import shutting_down
from ..problems import ProblemError, responses
from .ruleset import describe

router = APIRouter(tags=["health"])


class Status(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str


def _ready(request: Request) -> Response:
    if shutting_down.is_set():
        raise ProblemError(503, "shutting-down", "this instance is shutting down", headers={"Retry-After": "1"})
    registry = request.app.state.registry
    snapshot = registry.current
    failure = registry.last_failure.as_dict() if registry.last_failure else None
    if snapshot is None:
        raise ProblemError(503, "not-ready", "no valid ruleset is live", headers={"Retry-After": "5"},
                           extra={"last_reload_failure": failure})
    ledger = request.app.state.ledger
    detail = ledger.status() if ledger is not None else {"status": "off"}
    if ledger is not None and detail["status"] == "full" and ledger.config.on_full == "refuse":
        raise ProblemError(503, "ledger-full", "the ledger's spool is full and decisions are refused until it drains",
                           title="Ledger full", headers={"Retry-After": "10"}, extra={"ledger": detail})
    body: dict[str, Any] = {"status": "ready", "ruleset": describe(snapshot), "last_reload_failure": failure,
                            "ledger": detail}
    shared = pod.pod_dir()
    if shared is not None:
        body["pod"] = pod.served(shared)  # the revision every worker of this pod serves
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics (text exposition format)",
            response_model=None, responses={200: {"description": "Prometheus text exposition",
                                                  "content": {"text/plain": {"schema": {"type": "string"}}}}})
async def get_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


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
