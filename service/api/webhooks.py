"""POST /v1/webhooks/{zendesk,freshdesk,servicenow,jira,salesforce,intercom}: a ticket in, a recommendation out.

Each delivery goes: body (413/408 as elsewhere) -> the system's own authenticity
check (401, before anything in the body is read) -> ruleset and mapping live (503)
-> parse (415/400) -> map the ticket to a failure event (422 naming what is
missing) -> decide, exactly as POST /v1/decisions -> write the note back onto the
ticket when the system's API is configured (503 with Retry-After when the vendor
did not take it, so the sender redelivers) -> reply with the decision, the agent
note, how each field was read and what was written (Salesforce: the SOAP
acknowledgement). `?explain=true` adds the decision's explanation, with the
mapping's account of each field under `explain.mapping`. No URL found in a
payload is ever fetched. Every delivery is counted in WEBHOOK_DELIVERIES by
system and one of RESULTS.
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
from ..webhooks import auth, intercom, mapping, payloads, salesforce, writeback
from ..webhooks.note import agent_note
from ..webhooks.store import MappingStore
from ..webhooks.systems import SYSTEMS, System
from . import ledgered, record
from .body import check_json_media_type, read_body
from .decisions import decide_event, engine_down, flag, live

router = APIRouter(tags=["webhooks"])
log = logging.getLogger("service.webhooks")

RESULTS = ("decided", "ignored", "unauthorized", "unmappable", "invalid", "unavailable", "writeback_failed")


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
INTERCOM_SIGNATURE = _HeaderScheme(name=auth.HUB_SIGNATURE, scheme_name="IntercomSignature",
                                   description="sha1=<hex HMAC-SHA1(RECOVERY_WEBHOOK_INTERCOM_SECRET, raw body)>")

SCHEMES = {"zendesk-signature": ZENDESK_SIGNATURE, "hub-signature": HUB_SIGNATURE, "token": TOKEN,
           "basic": BASIC, "query-token": QUERY_TOKEN, "hub-sha1": INTERCOM_SIGNATURE}


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
    mapped: dict[str, dict[str, Any]]
    """Per event field, how it was set: `by` field (with `path`, `saw`; `band` when the value is a band's
    lower bound), text (with `path`, `phrase` and the phrase list), default, or order (a currency taken from
    the order); `sent: false` with a `reason` when the service's event model does not take the field yet."""
    writeback: dict[str, Any]
    """`status` off (the system's API is not configured), posted, or present (the note was already on the
    ticket); `tags` and `fields` set."""


class IgnoredReply(BaseModel):
    """A delivery that asks for no decision (Intercom's ping, a topic that is not a conversation, a
    notification this worker already handled)."""

    model_config = ConfigDict(extra="allow")
    system: str
    ignored: bool
    reason: str


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
    if problem.code == "writeback-failed":
        return "writeback_failed"
    if problem.status >= 500:
        return "unavailable"
    return "invalid"


class _Ignored(Exception):
    def __init__(self, response: Response):
        self.response = response


def _store(request: Request) -> MappingStore:
    store = getattr(request.app.state, "webhook_mappings", None)
    if store is None:
        settings = request.app.state.settings
        store = MappingStore(settings.webhook_mappings_dir or settings.rules_dir / "webhooks")
        request.app.state.webhook_mappings = store
    return store


def _writer(request: Request) -> writeback.Writer:
    writer = getattr(request.app.state, "webhook_writer", None)
    if writer is None:
        writer = request.app.state.webhook_writer = writeback.Writer(request.app.state.settings)
    return writer


def _seen(request: Request) -> intercom.Seen:
    seen = getattr(request.app.state, "intercom_seen", None)
    if seen is None:
        seen = request.app.state.intercom_seen = intercom.Seen()
    return seen


async def shutdown(state: Any) -> None:
    """Closes the write-back's HTTP connections (the app's lifespan calls this on the way out)."""
    writer = getattr(state, "webhook_writer", None)
    if writer is not None:
        await writer.close()


async def _decide(request: Request, system: str, ticket: mapping.Mapping, payload: dict[str, Any],
                  snapshot: Any, explain: bool = False) -> tuple[mapping.Mapped, dict[str, Any]]:
    try:
        mapped = mapping.apply(ticket, payload, snapshot.ruleset.facts)
    except mapping.Unmappable as exc:
        raise _Unmappable(system, exc.errors) from None
    writer = _writer(request)
    if writer.enabled(system):
        try:
            writer.check(system, mapped.record)
        except writeback.RecordInvalid as exc:
            item = ticket.writeback.get("record") or ticket.ticket_id
            raise _Unmappable(system, [{
                "loc": ["writeback", "record"], "msg": f"writeback.record: {exc}; the note cannot be written back. "
                f"Point `{item.key}` at the field holding it in {ticket.file}",
                "mapping": f"{ticket.file}:{item.line} `{item.key}`" if item.line else f"{ticket.file} `{item.key}`",
                "looked_at": [{"path": mapped.found_at.get(item.target, "ticket_id")}]}]) from None
    ledger = request.app.state.ledger
    ledgered.refuse_if_full(ledger)
    started = time.perf_counter()
    event, history = await ledgered.with_history(request, ledger, mapped.event)
    try:
        decision = decide_event(request.app.state.registry, snapshot, event, explain)
    except EventRejected as exc:
        record.refused("invalid", mapped.event.failure.root_cause)
        raise _Unmappable(system, mapping.explain(ticket, mapped.found_at, exc.errors)) from None
    except EngineError as exc:
        record.refused("error", mapped.event.failure.root_cause)
        raise engine_down(exc) from exc
    if history is not None:
        decision["history"] = history
    if explain and isinstance(decision.get("explain"), dict):
        decision["explain"]["mapping"] = mapped.account
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


def _ticket(system: str, mapped: mapping.Mapped, decision: dict[str, Any], note: str) -> writeback.Ticket:
    return writeback.Ticket(system, mapped.record, decision["decision_id"], note, writeback.tags_for(decision),
                            writeback.cost_text(decision))


def _failed(exc: writeback.WritebackFailed, decision_ids: list[str]) -> ProblemError:
    return ProblemError(503, "writeback-failed", f"the {exc.system} API did not take the note: {exc.detail}; the "
                        "decision stands, and a redelivery posts the note once", title="Write-back failed",
                        headers={"Retry-After": str(exc.retry_after)},
                        extra={"system": exc.system, "decision_ids": decision_ids,
                               **({"vendor_status": exc.vendor_status} if exc.vendor_status else {})})


def _ignored(system: str, reason: str, **extra: Any) -> Response:
    return Response(orjson.dumps({"system": system, "ignored": True, "reason": reason, **extra}),
                    media_type="application/json")


async def _deliver(request: Request, system: System) -> Response:
    settings = request.app.state.settings
    explain = flag(request, "explain")
    body = await read_body(request, settings.body_timeout_seconds)
    credentials = auth.Credentials(request.headers, request.query_params)
    auth.authenticate(system.name, settings, credentials, body)
    snapshot = live(request)
    ticket_mapping = _store(request).get(system.name)
    if system.body == "soap":
        return await _salesforce(request, system, ticket_mapping, body, snapshot)
    check_json_media_type(request)
    payload = payloads.parse_json(body)
    notification = _intercom(request, system, payload)
    mapped, decision = await _decide(request, system.name, ticket_mapping, payload, snapshot, explain)
    note = agent_note(system.name, mapped.ticket_id, mapped.event, decision, mapped.caveats)
    written: dict[str, Any] = writeback.OFF
    writer = _writer(request)
    if writer.enabled(system.name):
        try:
            outcome = await writer.write(_ticket(system.name, mapped, decision, note), writer.budget())
        except writeback.WritebackFailed as exc:
            raise _failed(exc, [decision["decision_id"]]) from None
        written = outcome.body()
    if notification is not None:
        _seen(request).add(notification.id, decision["decision_id"])
    reply = {
        "system": system.name, "ticket_id": mapped.ticket_id, "event_id": mapped.event.event_id,
        "decision_id": decision["decision_id"], "note": note, "decision": decision,
        "event": mapped.event.model_dump(mode="json", exclude_none=True, by_alias=True),
        "mapped": mapped.account, "writeback": written,
    }
    return Response(orjson.dumps(reply), media_type="application/json")


def _intercom(request: Request, system: System, payload: dict[str, Any]) -> intercom.Notification | None:
    """For Intercom: the notification, or _Ignored when it asks for no decision."""
    if system.name != "intercom":
        return None
    notification = intercom.notification(payload)
    if notification.is_ping:
        raise _Ignored(_ignored(system.name, "ping", topic="ping"))
    if not notification.is_conversation:
        raise _Ignored(_ignored(system.name, f"the {notification.topic} topic carries no conversation to decide",
                                topic=notification.topic))
    decided = _seen(request).get(notification.id)
    if decided is not None:
        raise _Ignored(_ignored(system.name, "this notification was already decided", topic=notification.topic,
                                notification_id=notification.id, decision_id=decided))
    return notification


async def _salesforce(request: Request, system: System, ticket_mapping: mapping.Mapping, body: bytes,
                      snapshot: Any) -> Response:
    salesforce.check_media_type(request.headers.get("content-type"))
    message = salesforce.parse(body)
    auth.check_salesforce_org(request.app.state.settings, message.organization_id)
    decided: list[tuple[dict[str, Any], mapping.Mapped, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    for index, notification in enumerate(message.notifications):
        try:
            mapped, decision = await _decide(request, system.name, ticket_mapping, notification, snapshot)
        except _Unmappable as exc:
            errors.extend({**error, "loc": ["Notification", index, *error["loc"]]} for error in exc.errors or [])
            continue
        decided.append((notification, mapped, decision))
        # The acknowledgement cannot carry the decision: the log line is where ops find it.
        log.info("salesforce notification %s (case %s) decided: %s", notification["NotificationId"],
                 notification["sObject"].get("CaseNumber") or notification["sObject"].get("Id"),
                 decision["decision_id"])
    decision_ids = [decision["decision_id"] for _, _, decision in decided]
    writer = _writer(request)
    if writer.enabled(system.name):
        budget = writer.budget()
        for _, mapped, decision in decided:
            note = agent_note(system.name, mapped.ticket_id, mapped.event, decision, mapped.caveats)
            try:
                await writer.write(_ticket(system.name, mapped, decision, note), budget)
            except writeback.WritebackFailed as exc:
                raise _failed(exc, decision_ids) from None
    if errors:
        raise _Unmappable(system.name, errors)
    return Response(salesforce.ACK, media_type="text/xml; charset=utf-8",
                    headers={"X-Recovery-Decision-Ids": ",".join(decision_ids)})


def _endpoint(system: System) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            response = await _deliver(request, system)
        except _Ignored as ignored:
            WEBHOOK_DELIVERIES.labels(system.name, "ignored").inc()
            return ignored.response
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
    reply: dict[str, Any] = {"model": WebhookReply, "description": "The decision for the ticket and a note for "
                             "the agent (written onto the ticket when the system's API is configured)"}
    if system.name == "intercom":
        reply = {"model": WebhookReply | IgnoredReply,  # type: ignore[dict-item]
                 "description": "The decision for the conversation; for a ping, a topic without a conversation "
                                "or a notification this worker already handled, an IgnoredReply"}
    return {200: reply}


def _described() -> dict[int | str, dict[str, Any]]:
    described = responses(401, 422, 503)
    described[401]["description"] = ("Unsigned, wrongly signed, tampered or stale delivery, wrong credentials, or no "
                                      "credentials configured for the system (the detail names the variable)")
    described[422]["description"] = ("The ticket cannot become a failure event: `errors` name each event field, the "
                                      "ticket paths looked at and the mapping entry to change")
    described[503]["description"] = ("No ruleset is live yet, the system's mapping file does not load, or the "
                                     "write-back to the ticket failed (`writeback-failed`, with Retry-After: the "
                                     "sender redelivers and the note lands once)")
    return described


def _request_body(system: System) -> dict[str, Any]:
    if system.body == "soap":
        content = {media: {"schema": system.schema, "example": system.example}
                   for media in ("text/xml", "application/soap+xml")}
    else:
        content = {"application/json": {"schema": system.schema, "example": system.example}}
    return {"required": True, "content": content}


EXPLAIN = {"name": "explain", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
           "description": "add the decision's explanation, with how each event field was read from the ticket "
                          "under `explain.mapping`"}

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
                       "parameters": [*_system.headers, EXPLAIN]},
    )


@router.post("/v1/webhooks/{system}", include_in_schema=False)
async def unknown_system(system: str) -> Response:
    raise ProblemError(404, "unknown-system", f"no webhook for {system[:64]!r}; the service takes "
                       f"{', '.join(SYSTEMS)} at /v1/webhooks/<system>")
