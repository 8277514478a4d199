"""POST /v1/ledger/erasures: delete one customer's records (admin scope).

The customer id is hashed as the logs and the ledger hash it
(RECOVERY_LOG_HASH_SALT), and every decision record, outcome, idempotency key and
ticket status of that hash is deleted. The erasure itself is remembered (the hash
and when), so records of that customer still waiting in a spool somewhere are
dropped when they reach the database instead of coming back; that memory expires
with the retention period.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from ..ledger import LedgerUnavailable
from ..problems import from_validation, responses
from .body import read_json
from .outcomes import ledger_of, unavailable

router = APIRouter(tags=["ledger"])
PATH = "/v1/ledger/erasures"


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{"customer_id": "c-1009"}]})
    customer_id: Annotated[str, Field(min_length=1, max_length=128)]
    """The id as the CRM sends it in `customer.id`."""


class ErasureOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    customer: str
    """The hash the ledger keeps the customer under."""
    deleted: dict[str, int]


@router.post(PATH, operation_id="eraseCustomer", response_model=None,
             summary="Delete every ledger record of one customer (admin)",
             responses={200: {"model": ErasureOut, "description": "What was deleted"},
                        **responses(400, 401, 403, 404, 408, 413, 415, 422, 429, 503)},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/ErasureIn"}}}}})
async def post_erasure(request: Request) -> Response:
    ledger = ledger_of(request)
    body = await read_json(request, request.app.state.settings.body_timeout_seconds)
    try:
        erasure = ErasureIn.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation(exc, "erasure") from None
    customer = request.app.state.ledger_mask(erasure.customer_id)
    try:
        deleted = await ledger.query(ledger.store.erase, customer)
    except LedgerUnavailable as exc:
        raise unavailable(exc) from None
    return Response(orjson.dumps({"customer": customer, "deleted": deleted}), media_type="application/json")
