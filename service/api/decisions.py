"""POST /v1/decisions and POST /v1/decisions:batch.

The evaluation runs inline in `async def` routes: durable_rules holds the GIL and
an evaluation costs tens of microseconds, so the thread pool would only add
hand-off cost. Throughput comes from worker processes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from ..agents.profiles import Caller
from ..engine.registry import Registry, Snapshot
from ..engine.runtime import EngineError
from .. import strictjson
from ..models import BatchRequest, BatchResponse, Decision, FailureEvent, event_from_json
from ..problems import ProblemError, from_errors, from_refused, from_validation, responses, validation_errors
from ..recovery.decide import EventRejected, decide
from . import ledgered, record
from .body import read_json

router = APIRouter(tags=["decisions"])

IDEMPOTENCY_STATUS = {
    "description": "With the ledger on and a key (Idempotency-Key, else event_id): `first` (this request's own "
                   "decision, now the answer under the key), `replayed` (an earlier decision, served byte for byte) "
                   "or `unavailable` (the ledger's database did not answer in time: decided without the check)",
    "schema": {"enum": ["first", "replayed", "unavailable"]}}


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def flag(request: Request, name: str) -> bool:
    """A boolean query parameter, read without FastAPI's dependency machinery (hot path)."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ProblemError(422, "invalid-request", f"query.{name}: Input should be a valid boolean",
                       title="Invalid request", errors=[{"loc": ["query", name], "msg": "Input should be a valid "
                                                         "boolean"}])


def live(request: Request) -> Snapshot:
    snapshot = request.app.state.registry.current
    if snapshot is None:
        raise ProblemError(503, "not-ready", "no valid ruleset is live yet; see /readyz",
                           headers={"Retry-After": "5"})
    return snapshot


def decide_event(registry: Registry, snapshot: Snapshot, event: FailureEvent, explain: bool,
                 profile: str | None = None) -> dict[str, Any]:
    """Decide with `snapshot`; if a reload retired it meanwhile, once more with the live one."""
    try:
        return decide(snapshot, event, explain=explain, profile=profile)
    except EngineError:
        current = registry.current
        if current is None or current is snapshot:
            raise
        return decide(current, event, explain=explain, profile=profile)


def caller_profile(request: Request) -> str | None:
    """The profile the caller's key picks (service.agents.profiles), None for the default limits."""
    return Caller.of(request.scope.get("state", {}).get("principal")).decide_options().get("profile")


def engine_down(exc: EngineError) -> ProblemError:
    return ProblemError(503, "engine-unavailable", "the rules engine could not evaluate this event; retry",
                        headers={"Retry-After": "1"})


@router.post(
    "/v1/decisions",
    operation_id="decide",
    summary="Recommend a recovery for one failure event",
    response_model=None,
    responses={200: {"model": Decision, "description": "The recommended recovery (with the ledger on: the first "
                                                         "decision under the request's key)",
                     "headers": {"Idempotency-Status": IDEMPOTENCY_STATUS}},
               **responses(400, 401, 403, 408, 413, 415, 422, 429, 503)},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/FailureEvent"}}}},
        "parameters": [{"name": "explain", "in": "query", "required": False,
                        "description": "add, per rule, whether it matched and why not",
                        "schema": {"type": "boolean", "default": False}},
                       {"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "with the ledger on: a retry under the same key gets the first decision "
                                       "(from any replica) instead of the event_id; a different event under it is "
                                       "a 422 `idempotency-conflict`",
                        "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}}]},
)
async def post_decision(request: Request) -> Response:
    explain = flag(request, "explain")
    ledger = request.app.state.ledger
    key_header = ledgered.header_key(request) if ledger is not None else None
    body = await read_json(request, request.app.state.settings.body_timeout_seconds)
    snapshot = live(request)
    ledgered.refuse_if_full(ledger)
    started = time.perf_counter()
    try:
        sent = event_from_json(body)
    except strictjson.JSONRefused as exc:
        record.refused("invalid")
        raise from_refused(exc) from None
    except ValidationError as exc:
        record.refused("invalid")
        raise from_validation(exc) from None
    event, history = await ledgered.with_history(request, ledger, sent)
    try:
        decision = decide_event(request.app.state.registry, snapshot, event, explain, caller_profile(request))
    except EventRejected as exc:
        record.refused("invalid", event.failure.root_cause)
        raise from_errors(exc.errors) from None
    except EngineError as exc:
        record.refused("error", event.failure.root_cause)
        raise engine_down(exc) from exc
    if history is not None:
        decision["history"] = history
    if ledger is None:
        payload = orjson.dumps(decision)
        record.decided(event, decision, time.perf_counter() - started, request.app.state.mask, "api")
        return Response(payload, media_type="application/json")
    settled = await ledgered.settle(request, ledger, sent=sent, decided=event, decision=decision, source="api",
                                    key=ledgered.key_for(ledger, key_header, sent))
    if not settled.replayed:
        record.decided(event, decision, time.perf_counter() - started, request.app.state.mask, "api")
    return Response(settled.payload, media_type="application/json", headers=settled.headers)


def _parse_batch(body: bytes) -> list[Any]:
    # Each event is validated on its own, so the outer body is read here by the same
    # reader as the single-event route's (event_from_json).
    try:
        parsed = strictjson.loads(body)
    except strictjson.JSONRefused as exc:
        raise from_refused(exc) from None
    try:
        return BatchRequest.model_validate(parsed).events
    except ValidationError as exc:
        raise from_validation(exc, "batch") from None


@router.post(
    "/v1/decisions:batch",
    operation_id="decideBatch",
    summary="Recommend recoveries for up to 1,000 events; each is answered on its own",
    response_model=None,
    responses={200: {"model": BatchResponse, "description": "One result per event, in order"},
               **responses(400, 401, 403, 408, 413, 415, 422, 429, 503)},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}}}},
)
async def post_batch(request: Request) -> Response:
    if flag(request, "explain"):
        # An explanation per event of a 1,000-event batch would cost a worker seconds: say so.
        raise ProblemError(422, "explain-not-supported", "query.explain: the batch route does not explain; send "
                           "the event to POST /v1/decisions?explain=true", title="Invalid request",
                           errors=[{"loc": ["query", "explain"], "msg": "not supported on the batch route"}])
    ledger = request.app.state.ledger
    if ledger is not None and request.headers.get(ledgered.KEY_HEADER) is not None:
        raise ProblemError(422, "invalid-idempotency-key", "Idempotency-Key is not taken on the batch route: give "
                           "each event an event_id, which makes each one idempotent", title="Invalid request",
                           errors=[{"loc": ["header", "Idempotency-Key"], "msg": "not taken on the batch route"}])
    body = await read_json(request, request.app.state.settings.body_timeout_seconds)
    snapshot = live(request)
    ledgered.refuse_if_full(ledger)
    events = _parse_batch(body)
    registry = request.app.state.registry
    profile = caller_profile(request)
    held = registry.acquire()  # one revision decides the whole batch, and stays alive until it is done
    try:
        payload = await _decide_all(request, registry, held or snapshot, events, profile)
    finally:
        registry.release(held)
    return Response(orjson.dumps(payload), media_type="application/json")


async def _decide_all(request: Request, registry: Registry, snapshot: Snapshot, events: list[Any],
                      profile: str | None = None) -> dict[str, Any]:
    """Decide every event; with the ledger on, their claims (by event_id) and records are settled together."""
    ledger = request.app.state.ledger
    mask = request.app.state.mask
    results: list[dict[str, Any]] = []
    decided = 0
    settling: list[tuple[int, FailureEvent, float, Any]] = []
    for index, raw in enumerate(events):
        started = time.perf_counter()
        try:
            sent = FailureEvent.model_validate(raw)
            event, history = await ledgered.with_history(request, ledger, sent)
            decision = decide_event(registry, snapshot, event, False, profile)
        except ValidationError as exc:
            record.refused("invalid")
            problem = from_errors(validation_errors(exc.errors(include_url=False)))
            results.append({"index": index, "status": 422, "problem": problem.body()})
            continue
        except EventRejected as exc:
            record.refused("invalid", event.failure.root_cause)
            results.append({"index": index, "status": 422, "problem": from_errors(exc.errors).body()})
            continue
        except EngineError as exc:
            record.refused("error", event.failure.root_cause)
            results.append({"index": index, "status": 503, "problem": engine_down(exc).body()})
            continue
        if history is not None:
            decision["history"] = history
        item: dict[str, Any] = {"index": index, "status": 200, "decision": decision}
        results.append(item)
        if ledger is None:
            decided += 1
            record.decided(event, decision, time.perf_counter() - started, mask, "batch")
        else:
            settling.append((len(results) - 1, event, time.perf_counter() - started, ledgered.settle(
                request, ledger, sent=sent, decided=event, decision=decision, source="batch",
                key=ledgered.key_for(ledger, None, sent))))
    if settling:
        outcomes = await asyncio.gather(*(job for *_, job in settling), return_exceptions=True)
        for (position, event, elapsed, _), outcome in zip(settling, outcomes):
            item = results[position]
            if isinstance(outcome, ProblemError):
                results[position] = {"index": item["index"], "status": outcome.status, "problem": outcome.body()}
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            decided += 1
            if outcome.replayed:
                item["decision"] = orjson.Fragment(outcome.payload)
            else:
                record.decided(event, item["decision"], elapsed, mask, "batch")
    return {"results": results, "decided": decided, "rejected": len(results) - decided}
