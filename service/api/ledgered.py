"""The ledger around a decision, in the route layer: room check, history, idempotency, record.

The decision routes and the webhooks call these in order:

    refuse_if_full(ledger)           503 `ledger-full` when the spool is full and the policy is `refuse`
    await with_history(...)          the event with the history the caller left out (opt-in)
    decide(...)                      pure, as without a ledger
    await settle(...)                the first decision under the key (this one, or an earlier one
                                     from any replica: its bytes are served), or a 422 conflict;
                                     the record goes to the database with a winning claim, or to
                                     the spool (no key, or the database did not answer)

`settle` never fails a decision for the database's sake: with the database down
the request is answered with its own decision (`Idempotency-Status: unavailable`)
and its record waits in the spool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from ..ledger import Ledger, history
from ..ledger.idempotency import count, verdict
from ..ledger.records import decision_row, differences, identity, new_record_id
from ..ledger.store import Claim, now_ms
from ..logs import CustomerMask
from ..models import FailureEvent
from ..problems import ProblemError

KEY_HEADER = "idempotency-key"
STATUS_HEADER = "Idempotency-Status"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Settled:
    payload: bytes
    headers: dict[str, str]
    replayed: bool


def caller(request: Request) -> str | None:
    principal = (request.scope.get("state") or {}).get("principal")
    return getattr(principal, "name", None)


def header_key(request: Request) -> str | None:
    """The Idempotency-Key header (1-255 visible ASCII characters), or None; a bad one is a 422."""
    raw = request.headers.get(KEY_HEADER)
    if raw is None:
        return None
    if not VALID_KEY.match(raw):
        raise ProblemError(422, "invalid-idempotency-key", "Idempotency-Key: 1 to 255 visible ASCII characters "
                           "(no spaces)", title="Invalid request",
                           errors=[{"loc": ["header", "Idempotency-Key"], "msg": "1 to 255 visible ASCII characters"}])
    return raw


def key_for(ledger: Ledger, header: str | None, event: FailureEvent) -> str | None:
    if not ledger.idempotent:
        return None
    if header is not None:
        return "key:" + header
    if event.event_id is not None:
        return "event:" + event.event_id
    return None


def refuse_if_full(ledger: Ledger | None) -> None:
    if ledger is not None and ledger.config.on_full == "refuse" and ledger.recorder.full():
        raise ProblemError(503, "ledger-full", "the ledger's spool is full (its database has been unavailable); "
                           "decisions are refused until it drains (RECOVERY_LEDGER_ON_FULL=refuse)",
                           title="Ledger full", headers={"Retry-After": "10"})


def customer_hash(request: Request, event: FailureEvent) -> str | None:
    mask: CustomerMask = request.app.state.ledger_mask
    return mask(event.customer.id)


async def with_history(request: Request, ledger: Ledger | None,
                       event: FailureEvent) -> tuple[FailureEvent, dict[str, Any] | None]:
    if ledger is None or not ledger.config.history:
        return event, None

    async def lookup(customer: str, failure_type: str) -> tuple[int, bool]:
        return await ledger.query(ledger.store.history, customer, failure_type)

    return await history.fill(event, customer_hash(request, event), lookup)


def _conflict(key: str, first_event: dict[str, Any], event: dict[str, Any], decision_id: str,
              window: int) -> ProblemError:
    paths = differences(first_event, event) or [["failure", "description"]]
    named = "Idempotency-Key" if key.startswith("key:") else "event_id"
    shown = ", ".join(".".join(path) for path in paths[:5])
    return ProblemError(
        422, "idempotency-conflict",
        f"this {named} was used within the last {window} s for a different event (different {shown}); send the "
        f"same event to get the first decision ({decision_id}) again, or use a new {named}",
        title="Idempotency conflict",
        errors=[{"loc": path, "msg": "differs from the first request under this key"} for path in paths],
        extra={"decision_id": decision_id})


async def settle(request: Request, ledger: Ledger, *, sent: FailureEvent, decided: FailureEvent,
                 decision: dict[str, Any], source: str, key: str | None, scope: str | None = None,
                 per_content: bool = False) -> Settled:
    """Claim the key (if any), record the decision (unless it replays an earlier one), and say what to serve.

    `per_content` makes the event's content part of the key (webhooks: a ticket that changed
    is a new question, and a redelivery of the same ticket is a retry).
    """
    refuse_if_full(ledger)
    config = ledger.config
    salt = config.hash_salt.encode()
    mask = request.app.state.ledger_mask
    who = caller(request)
    record_id = new_record_id()
    customer = mask(decided.customer.id)
    stored = decision if "explain" not in decision else {k: v for k, v in decision.items() if k != "explain"}
    body = orjson.dumps(stored)
    masked, digest = identity(sent, mask, config.record_descriptions, salt)
    if key is not None and per_content:
        key = f"{key}#{digest[:16]}"
    recorded = masked if decided is sent else identity(decided, mask, config.record_descriptions, salt)[0]
    at = now_ms()
    row = decision_row(decided, stored, record_id=record_id, at_ms=at, source=source, caller=who,
                       customer_hash=customer, masked=recorded,
                       history_filled="history" in decision and bool(decision["history"].get("filled")))
    headers: dict[str, str] = {}
    if key is not None:
        claim = Claim(scope if scope is not None else (who or ""), key, record_id, decision["decision_id"], digest,
                      masked, body, customer, row)
        winner = await ledger.claims.claim(claim)
        result = verdict(claim, winner)
        count(result)
        headers[STATUS_HEADER] = result
        if result == "replayed" and winner is not None:
            return Settled(winner.body, headers, True)
        if result == "conflict" and winner is not None:
            raise _conflict(key, winner.event, masked, winner.decision_id, config.idempotency_window_seconds)
        if result == "unavailable":  # the record, and the key with it, reach the database with the spool
            ledger.recorder.record("decision", row)
            ledger.recorder.record("claim", claim.row(at))
        # "first": the claim's transaction stored the record
    else:
        ledger.recorder.record("decision", row)
    payload = body if stored is decision else orjson.dumps(decision)
    return Settled(payload, headers, False)


def ticket_status(ledger: Ledger, request: Request, system: str, event: FailureEvent, decision_id: str,
                  status: str | None) -> None:
    """Record the ticket's status as the vendor sent it with this delivery (when its mapping names one)."""
    if status is None:
        return
    ledger.recorder.record("ticket", {"record_id": new_record_id(), "decision_id": decision_id, "system": system,
                                      "status": status, "customer_hash": customer_hash(request, event),
                                      "at_ms": now_ms()})

