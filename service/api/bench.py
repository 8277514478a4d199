"""POST /bench/noop: the benchmark's baseline, mounted only when RECOVERY_BENCH_ROUTES is true.

It does what POST /v1/decisions does before deciding (reads the body with the same
media-type, size and deadline checks, validates a `FailureEvent`) and answers a
fixed small JSON body, so `bench/` can report the decision route's throughput and
latency as a share of what the same app, server and settings do without a
decision. It is left out of the OpenAPI document and off by default.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from .. import strictjson
from ..models import event_from_json
from ..problems import from_refused, from_validation
from .body import read_json

router = APIRouter(include_in_schema=False)

NOOP_BODY = b'{"status":"ok"}'


@router.post("/bench/noop")
async def post_noop(request: Request) -> Response:
    body = await read_json(request, request.app.state.settings.body_timeout_seconds)
    try:
        event_from_json(body)
    except strictjson.JSONRefused as exc:
        raise from_refused(exc) from None
    except ValidationError as exc:
        raise from_validation(exc) from None
    return Response(NOOP_BODY, media_type="application/json")
