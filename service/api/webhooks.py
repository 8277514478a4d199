"""POST /v1/webhooks/{zendesk,freshdesk,servicenow,jira,salesforce}: a ticket in, a recommendation out.

Each delivery goes: body (413/408 as elsewhere) -> the system's own authenticity
check (401, before anything in the body is read) -> ruleset and mapping live (503)
-> parse (415/400) -> map the ticket to a failure event (422 naming what is
missing) -> decide, exactly as POST /v1/decisions -> reply with the decision and
an agent note (Salesforce: the SOAP acknowledgement). No URL found in a payload
is ever fetched. Every delivery is counted in WEBHOOK_DELIVERIES by system and
one of RESULTS.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Coroutine

import orjson
from fastapi import APIRouter, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPBasic
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from ..engine.runtime import EngineError
from ..metrics import WEBHOOK_DELIVERIES
from ..models import Decision
from ..problems import ProblemError, responses
from ..recovery.decide import EventRejected
from ..webhooks import auth, mapping, payloads, salesforce
from ..webhooks.note import agent_note
from ..webhooks.store import MappingStore
from ..webhooks.systems import SYSTEMS, System
from . import ledgered, record
from .body import check_json_media_type, read_body
from .decisions import decide_event, engine_down, live

router = APIRouter(tags=["webhooks"])
log = logging.getLogger("service.webhooks")

RESULTS = ("decided", "unauthorized", "unmappable", "invalid", "unavailable")



class _HeaderScheme(APIKeyHeader):
    """Declares a scheme in OpenAPI; `auth.authenticate` does the checking, over the raw request."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


class _QueryScheme(APIKeyQuery):
    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


class _BasicScheme(HTTPBasic):
    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


ZENDESK_SIGNATURE = _HeaderScheme(name=auth.ZENDESK_SIGNATURE, scheme_name="ZendeskSignature",
                                  description="base64(HMAC-SHA256(RECOVERY_WEBHOOK_ZENDESK_SECRET, timestamp + "
                                              "raw body)), with X-Zendesk-Webhook-Signature-Timestamp")
HUB_SIGNATURE = _HeaderScheme(name=auth.HUB_SIGNATURE, scheme_name="HubSignature",
                              description="sha256=<hex HMAC-SHA256(RECOVERY_WEBHOOK_JIRA_SECRET, raw body)>")
TOKEN = _HeaderScheme(name=auth.TOKEN_HEADER, scheme_name="WebhookToken",
                      description="The system's shared token (RECOVERY_WEBHOOK_<SYSTEM>_TOKEN)")
BASIC = _BasicScheme(scheme_name="WebhookBasic", description="RECOVERY_WEBHOOK_<SYSTEM>_USERNAME and _PASSWORD")
QUERY_TOKEN = _QueryScheme(name=auth.TOKEN_QUERY, scheme_name="SalesforceToken",
                           description="RECOVERY_WEBHOOK_SALESFORCE_TOKEN, in the outbound message's endpoint URL")

SCHEMES = {"zendesk-signature": ZENDESK_SIGNATURE, "hub-signature": HUB_SIGNATURE, "token": TOKEN,
           "basic": BASIC, "query-token": QUERY_TOKEN}


class WebhookReply(BaseModel):
    """What a JSON ticketing system gets back: the decision, and a note an agent can paste."""

    model_config = ConfigDict(extra="allow")
    system: str
    ticket_id: str
    event_id: str
    decision_id: str
    note: str
    """Plain text: the offer with amounts, the apology, the response deadline, whether approval is needed."""
    decision: Decision
    event: dict[str, Any]
    """The failure event the ticket mapped to (useful when tuning the mapping file)."""


class _Unmappable(ProblemError):
    def __init__(self, system: str, errors: list[dict[str, Any]]):
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        first = errors[0]["msg"] if errors else "the mapping produced no event"
        super().__init__(422, "unmappable-ticket", f"the {system} ticket cannot become a failure event: "
                         f"{first}{more}", title="Unmappable ticket", errors=errors, extra={"system": system})


def _result(problem: ProblemError) -> str:
    if problem.status == 401:
        return "unauthorized"
    if problem.code == "unmappable-ticket":
        return "unmappable"
    if problem.status >= 500:
        return "unavailable"
    return "invalid"


def _store(request: Request) -> MappingStore:
    store = getattr(request.app.state, "webhook_mappings", None)
    if store is None:
        settings = request.app.state.settings
        store = MappingStore(settings.webhook_mappings_dir or settings.rules_dir / "webhooks")
        request.app.state.webhook_mappings = store
    return store


async def _decide(request: Request, system: str, ticket: mapping.Mapping, payload: dict[str, Any],
                  snapshot: Any) -> tuple[mapping.Mapped, dict[str, Any]]:
    try:
        mapped = mapping.apply(ticket, payload)
    except mapping.Unmappable as exc:
        raise _Unmappable(system, exc.errors) from None
    ledger = request.app.state.ledger
    ledgered.refuse_if_full(ledger)
    started = time.perf_counter()
    event, history = await ledgered.with_history(request, ledger, mapped.event)
    try:
        decision = decide_event(request.app.state.registry, snapshot, event, False)
    except EventRejected as exc:
        record.refused("invalid", mapped.event.failure.root_cause)
        raise _Unmappable(system, mapping.explain(ticket, mapped.found_at, exc.errors)) from None
    except EngineError as exc:
        record.refused("error", mapped.event.failure.root_cause)
        raise engine_down(exc) from exc
    if history is not None:
        decision["history"] = history
    source = f"webhook:{system}"
    if ledger is not None:
        settled = await ledgered.settle(request, ledger, sent=mapped.event, decided=event, decision=decision,
                                        source=source, key=ledgered.key_for(ledger, None, mapped.event),
                                        scope=source, per_content=True)
        served = orjson.loads(settled.payload) if settled.replayed else decision
        ledgered.ticket_status(ledger, request, system, event, served["decision_id"], mapped.ticket_status)
        if settled.replayed:
            return mapped, served
    record.decided(event, decision, time.perf_counter() - started, request.app.state.mask, source)
    return mapped, decision


async def _deliver(request: Request, system: System) -> Response:
    settings = request.app.state.settings
    body = await read_body(request, settings.body_timeout_seconds)
    credentials = auth.Credentials(request.headers, request.query_params)
    auth.authenticate(system.name, settings, credentials, body)
    snapshot = live(request)
    ticket_mapping = _store(request).get(system.name)
    if system.body == "soap":
        return await _salesforce(request, system, ticket_mapping, body, snapshot)
    check_json_media_type(request)
    payload = payloads.parse_json(body)
    mapped, decision = await _decide(request, system.name, ticket_mapping, payload, snapshot)
    reply = {
        "system": system.name, "ticket_id": mapped.ticket_id, "event_id": mapped.event.event_id,
        "decision_id": decision["decision_id"],
        "note": agent_note(system.name, mapped.ticket_id, mapped.event, decision),
        "decision": decision,
        "event": mapped.event.model_dump(mode="json", exclude_none=True, by_alias=True),
    }
    return Response(orjson.dumps(reply), media_type="application/json")


async def _salesforce(request: Request, system: System, ticket_mapping: mapping.Mapping, body: bytes,
                snapshot: Any) -> Response:
    salesforce.check_media_type(request.headers.get("content-type"))
    message = salesforce.parse(body)
    auth.check_salesforce_org(request.app.state.settings, message.organization_id)
    decision_ids = []
    errors: list[dict[str, Any]] = []
    for index, notification in enumerate(message.notifications):
        try:
            _, decision = await _decide(request, system.name, ticket_mapping, notification, snapshot)
        except _Unmappable as exc:
            errors.extend({**error, "loc": ["Notification", index, *error["loc"]]} for error in exc.errors or [])
            continue
        decision_ids.append(decision["decision_id"])
        # The acknowledgement cannot carry the decision: the log line is where ops find it.
        log.info("salesforce notification %s (case %s) decided: %s", notification["NotificationId"],
                 notification["sObject"].get("CaseNumber") or notification["sObject"].get("Id"),
                 decision["decision_id"])
    if errors:
        raise _Unmappable(system.name, errors)
    return Response(salesforce.ACK, media_type="text/xml; charset=utf-8",
                    headers={"X-Recovery-Decision-Ids": ",".join(decision_ids)})


def _endpoint(system: System) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            response = await _deliver(request, system)
        except ProblemError as problem:
            WEBHOOK_DELIVERIES.labels(system.name, _result(problem)).inc()
            raise
        WEBHOOK_DELIVERIES.labels(system.name, "decided").inc()
        return response

    endpoint.__name__ = f"webhook_{system.name}"
    return endpoint


def _success(system: System) -> dict[int | str, dict[str, Any]]:
    if system.body == "soap":
        return {200: {"description": "Every notification was decided: the acknowledgement Salesforce expects",
                      "headers": {"X-Recovery-Decision-Ids": {
                          "description": "The decision ids, one per notification, in order",
                          "schema": {"type": "string"}}},
                      "content": {"text/xml": {"schema": {"type": "string"},
                                               "example": salesforce.ACK.decode()}}}}
    return {200: {"model": WebhookReply, "description": "The decision for the ticket and a note for the agent"}}


def _described() -> dict[int | str, dict[str, Any]]:
    described = responses(401, 422, 503)
    described[401]["description"] = ("Unsigned, wrongly signed, tampered or stale delivery, wrong credentials, or no "
                                      "credentials configured for the system (the detail names the variable)")
    described[422]["description"] = ("The ticket cannot become a failure event: `errors` name each event field, the "
                                      "ticket paths looked at and the mapping entry to change")
    described[503]["description"] = "No ruleset is live yet, or the system's mapping file does not load"
    return described


def _request_body(system: System) -> dict[str, Any]:
    if system.body == "soap":
        content = {media: {"schema": system.schema, "example": system.example}
                   for media in ("text/xml", "application/soap+xml")}
    else:
        content = {"application/json": {"schema": system.schema, "example": system.example}}
    return {"required": True, "content": content}


for _system in SYSTEMS.values():
    router.add_api_route(
        f"/v1/webhooks/{_system.name}",
        _endpoint(_system),
        methods=["POST"],
        operation_id=f"webhook{_system.name.capitalize()}",
        summary=f"{_system.title} webhook: decide the ticket's recovery",
        description=_system.description,
        response_model=None,
        dependencies=[Security(SCHEMES[option.scheme]) for option in auth.options(_system.name)],
        responses={**_success(_system), **responses(400, 401, 408, 413, 415, 422, 503), **_described()},
        openapi_extra={"requestBody": _request_body(_system),
                       **({"parameters": list(_system.headers)} if _system.headers else {})},
    )


@router.post("/v1/webhooks/{system}", include_in_schema=False)
async def unknown_system(system: str) -> Response:
    raise ProblemError(404, "unknown-system", f"no webhook for {system[:64]!r}; the service takes "
                       f"{', '.join(SYSTEMS)} at /v1/webhooks/<system>")
