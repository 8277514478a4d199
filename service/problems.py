"""RFC 9457 problem details: every 4xx and 5xx the service sends.

Errors raised anywhere behind the routes are `ProblemError`s (or are translated
into one at the boundary); the handlers registered by `install()` render them,
FastAPI's own validation errors and Starlette's HTTP errors as
`application/problem+json` with a stable `code`. A client never sees a 500 for
anything it sent; a 500 means a bug, and says so without internals.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499
log = logging.getLogger("service.errors")

TITLES = {
    400: "Malformed request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 406: "Not acceptable", 408: "Request timeout", 413: "Request body too large",
    415: "Unsupported media type", 422: "Invalid event", 429: "Too many requests",
    500: "Internal error", 503: "Not ready",
}


# Every `code` a problem can carry, with what it means: the enum of `Problem.code` in the OpenAPI
# document (tests/test_problem_codes.py finds each code the service raises in this table).
CODES: dict[str, str] = {
    "bad-credentials": "the API key is not one the service knows",
    "bad-request": "the HTTP request is malformed",
    "body-timeout": "the request body did not arrive in time",
    "body-too-large": "the request body is over the limit",
    "duplicate-key": "the JSON body names a key twice",
    "engine-unavailable": "the rules engine could not evaluate the event; retry",
    "explain-not-supported": "the batch route does not explain",
    "forbidden": "the API key lacks the scope this route needs",
    "header-timeout": "the request headers did not arrive in time",
    "headers-too-large": "the request headers are over the limit",
    "http-error": "another HTTP-level error",
    "idempotency-conflict": "a different request was already sent under this Idempotency-Key",
    "internal": "the service failed to answer; the error is logged",
    "invalid-batch": "the batch body is not a list of events",
    "invalid-erasure": "the erasure request is invalid",
    "invalid-event": "the failure event is invalid (see `errors`)",
    "invalid-idempotency-key": "the Idempotency-Key header is malformed or not taken here",
    "invalid-outcome": "the outcome is invalid (see `errors`)",
    "invalid-payload": "the webhook delivery is not what the ticketing system sends",
    "invalid-request": "a query parameter or header is invalid (see `errors`)",
    "invalid-rules": "the rules files do not load (see `errors`)",
    "invalid-simulation": "the simulation request is invalid (see `errors`)",
    "ledger-full": "the ledger's spool is full and the service refuses decisions",
    "ledger-off": "the ledger is off on this instance",
    "ledger-unavailable": "the ledger's database does not answer; retry",
    "malformed-json": "the body is not valid JSON",
    "malformed-xml": "the body is not valid XML",
    "method-not-allowed": "the route does not take this method",
    "no-events": "the simulation has no events to replay",
    "not-found": "no such route",
    "not-ready": "no valid ruleset is live yet; retry",
    "overloaded": "the worker holds its maximum of connections; retry",
    "range-not-satisfiable": "the requested byte range is outside the file",
    "rate-limited": "the key's request rate is over the limit; retry after Retry-After",
    "reload-pending": "a reload is already running; retry",
    "shutting-down": "this instance is shutting down; retry on another",
    "simulation-running": "a simulation is already running on this worker; retry",
    "simulation-too-costly": "the simulation would evaluate more than the limit allows",
    "simulation-too-large": "the simulation's input is over the limit",
    "too-many-bad-keys": "this address sent too many wrong keys; retry after Retry-After",
    "unauthenticated": "no API key was sent",
    "unknown-decision": "no decision with this id is on record",
    "unknown-directory": "no simulation directory of that name",
    "unknown-system": "no ticketing system of that name",
    "unsupported-media-type": "the body's Content-Type is not one the route takes",
    "webhook-bad-credentials": "the delivery's credentials are wrong",
    "webhook-bad-signature": "the delivery's signature does not match its body",
    "webhook-mapping-invalid": "the ticketing system's mapping file does not load",
    "webhook-not-configured": "no secret is configured for this ticketing system",
    "webhook-stale": "the delivery's timestamp is outside the tolerance",
    "webhook-unsigned": "the delivery carries no signature",
    "writeback-failed": "the decision was made but posting it to the ticket failed; retry",
    "xml-forbidden": "the XML uses a feature the service refuses (entities, DTDs)",
}
HTTP_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 416: "range-not-satisfiable"}


class ProblemError(Exception):
    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None,
                 errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None):
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers
        self.extra = extra
        super().__init__(detail)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": f"/problems/{self.code}", "title": self.title, "status": self.status,
                                "detail": self.detail, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        if self.extra:
            body.update(self.extra)
        return body

    def response(self) -> Response:
        return Response(orjson.dumps(self.body()), status_code=self.status, media_type=PROBLEM_JSON,
                        headers=self.headers)


def _loc(parts: Iterable[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in parts]


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "unknown field: the contract has no such field here (check the spelling)"
    if kind == "missing":
        return "required field is missing"
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def validation_errors(errors: Iterable[dict[str, Any]], prefix: tuple = ()) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if not (isinstance(part, str) and part.startswith("function-"))]
        out.append({"loc": _loc(prefix + tuple(loc)), "msg": _message(error)})
    return out


def from_validation(exc: ValidationError, what: str = "event") -> ProblemError:
    """A pydantic error on a JSON body: 400 when it is not JSON at all, else 422."""
    errors = exc.errors(include_url=False)
    if any(error["type"] == "json_invalid" for error in errors):
        reason = next(str(error.get("msg")) for error in errors if error["type"] == "json_invalid")
        return ProblemError(400, "malformed-json", f"the request body is not valid JSON: {reason}")
    return from_errors(validation_errors(errors), what)


def from_refused(exc: Exception) -> ProblemError:
    """A 400 for a body `strictjson` does not read (its `code`: malformed-json, duplicate-key)."""
    return ProblemError(400, getattr(exc, "code", "malformed-json"), getattr(exc, "detail", str(exc)))


def from_errors(errors: list[dict[str, Any]], what: str = "event") -> ProblemError:
    """A 422 for errors already in the contract's {loc, msg} form."""
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ProblemError(422, f"invalid-{what}", f"{where}: {first['msg']}{more}", errors=errors,
                        title=f"Invalid {what}")


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
        listed = validation_errors(exc.errors())
        first = listed[0] if listed else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"]) or "request"
        return ProblemError(422, "invalid-request", f"{where}: {first['msg']}", errors=listed,
                            title="Invalid request").response()

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client hung up before its body arrived: nothing failed here and nobody reads an
        # answer; 499 (nginx's "client closed request") is what the access log and metrics show.
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "error")
        if exc.status_code == 404:
            detail = f"no route {request.url.path}; see /openapi.json"
        return ProblemError(exc.status_code, code, detail, headers=getattr(exc, "headers", None)).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return ProblemError(500, "internal", "the service failed to answer; the error is logged").response()


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem statuses of a route."""
    return {status: {"description": TITLES.get(status, "Error"),
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for status in statuses}
