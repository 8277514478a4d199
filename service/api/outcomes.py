"""POST /v1/decisions/{decision_id}/outcome: what became of a recommendation.

From the CRM, the ticketing write-back or the console: whether the customer
accepted, declined or countered (and what was given instead), CSAT 1-5, a repeat
contact, churn. Several outcomes may be posted for one decision; reports count
the latest. The decision must be on record (404 otherwise: records reach the
database within about a second of the decision, so a 404 right after deciding is
worth one retry); 503 when the ledger's database does not answer.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator
from starlette.responses import Response

from ..ledger import Ledger, LedgerUnavailable
from ..ledger.records import minor
from ..ledger.store import now_ms
from ..models import Money
from ..problems import ProblemError, from_validation, responses
from .body import read_json
from .ledgered import caller

router = APIRouter(tags=["ledger"])
DECISION_ID = re.compile(r"^dec_[0-9a-f]{32}$")


class Given(BaseModel):
    """What the customer got instead of the recommendation (a counter-offer that was agreed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    refund: Money | None = None
    credit: Money | None = None
    discount_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    replacement: Literal["exchange", "re_performance", "repair"] | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> "Given":
        if self.refund is not None and self.credit is not None and self.refund.currency != self.credit.currency:
            raise ValueError("refund and credit must be in the same currency")
        return self


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [
        {"result": "countered", "given": {"credit": {"amount": "20.00", "currency": "EUR"}}, "csat": 4,
         "repeat_contact": False, "churned": False, "source": "crm"}]})

    result: Literal["accepted", "declined", "countered"]
    given: Given | None = None
    """Only with `countered`: what was given instead."""
    csat: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    repeat_contact: StrictBool | None = None
    """The customer contacted again about the same failure."""
    churned: StrictBool | None = None
    source: Literal["crm", "ticketing", "console", "api"] = "api"

    @model_validator(mode="after")
    def _given_with_counter(self) -> "OutcomeIn":
        if self.given is not None and self.result != "countered":
            raise ValueError("`given` is for a countered offer: what the customer got instead")
        return self


class OutcomeOut(OutcomeIn):
    model_config = ConfigDict(extra="allow")
    outcome_id: int
    decision_id: str
    recorded_at: str


def ledger_of(request: Request) -> Ledger:
    ledger = request.app.state.ledger
    if ledger is None:
        raise ProblemError(404, "ledger-off", "the ledger is switched off on this service (RECOVERY_LEDGER_URL=off)",
                           title="Ledger off")
    return ledger


def unavailable(exc: LedgerUnavailable) -> ProblemError:
    return ProblemError(503, "ledger-unavailable", f"the ledger's database did not answer: {exc}; retry",
                        title="Ledger unavailable", headers={"Retry-After": "5"})


@router.post(
    "/v1/decisions/{decision_id}/outcome",
    operation_id="recordOutcome",
    summary="Record what became of a decision: accepted, declined or countered, CSAT, repeat contact, churn",
    status_code=201,
    response_model=None,
    responses={201: {"model": OutcomeOut, "description": "The outcome as recorded"},
               **responses(400, 401, 403, 404, 408, 413, 415, 422, 429, 503)},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/OutcomeIn"}}}}},
)
async def post_outcome(decision_id: str, request: Request) -> Response:
    ledger = ledger_of(request)
    if not DECISION_ID.match(decision_id):
        raise ProblemError(422, "invalid-request", "decision_id: a decision id is `dec_` and 32 hex digits",
                           title="Invalid request", errors=[{"loc": ["path", "decision_id"],
                                                             "msg": "a decision id is `dec_` and 32 hex digits"}])
    body = await read_json(request, request.app.state.settings.body_timeout_seconds)
    try:
        outcome = OutcomeIn.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation(exc, "outcome") from None
    try:
        known, customer = await ledger.query(ledger.store.decision_customer, decision_id)
        if not known:
            raise ProblemError(404, "unknown-decision", f"no decision {decision_id} is on record (a decision "
                               "reaches the ledger within about a second; retry once if it was just made)",
                               title="Unknown decision")
        given = outcome.given
        currency = None
        amount = None
        if given is not None and (given.refund or given.credit):
            parts = [part for part in (given.refund, given.credit) if part is not None]
            currency = parts[0].currency
            amount = sum(minor(part.amount, currency) or 0 for part in parts)
        at = now_ms()
        row = {"decision_id": decision_id, "customer_hash": customer, "at_ms": at, "result": outcome.result,
               "given": given.model_dump(mode="json", exclude_none=True) if given else None,
               "given_currency": currency, "given_minor": amount, "csat": outcome.csat,
               "repeat_contact": outcome.repeat_contact, "churned": outcome.churned, "source": outcome.source,
               "caller": caller(request)}
        outcome_id = await ledger.query(ledger.store.add_outcome, row)
    except LedgerUnavailable as exc:
        raise unavailable(exc) from None
    recorded = datetime.fromtimestamp(at / 1000, timezone.utc).isoformat(timespec="milliseconds")
    out = {**outcome.model_dump(mode="json", exclude_none=True), "outcome_id": outcome_id,
           "decision_id": decision_id, "recorded_at": recorded.replace("+00:00", "Z")}
    return Response(orjson.dumps(out), status_code=201, media_type="application/json")
