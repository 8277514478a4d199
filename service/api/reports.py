"""The ledger's reports over HTTP: a summary, breakdowns and the root-cause Pareto, as JSON or CSV.

    GET /v1/reports/summary                 everything recorded in the period, in one row
    GET /v1/reports/breakdown?by=DIMENSION  one row per ruleset, failure_type, root_cause, tier or channel
    GET /v1/reports/pareto                  (root cause, failure type) pairs by decisions, running share

`since` and `until` (an RFC 3339 instant or a date, UTC) bound the period; CSV with
`?format=csv` or `Accept: text/csv`. What each figure means: service/ledger/reports.py
and docs/ledger.md.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from ..ledger import LedgerUnavailable, reports
from ..problems import ProblemError, responses
from .outcomes import ledger_of, unavailable

router = APIRouter(tags=["ledger"])


class Report(BaseModel):
    model_config = ConfigDict(extra="allow")
    period: dict[str, str | None]
    rows: list[dict[str, Any]] | None = None


def _instant(request: Request, name: str) -> tuple[int | None, str | None]:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None, None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ProblemError(422, "invalid-request", f"query.{name}: an RFC 3339 instant or a date (2026-11-01)",
                           title="Invalid request", errors=[{"loc": ["query", name],
                                                             "msg": "an RFC 3339 instant or a date"}]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000), parsed.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _period(request: Request) -> tuple[reports.Period, dict[str, str | None]]:
    since, since_text = _instant(request, "since")
    until, until_text = _instant(request, "until")
    return reports.Period(since, until), {"since": since_text, "until": until_text}


def _csv(request: Request) -> bool:
    wanted = request.query_params.get("format")
    if wanted not in (None, "json", "csv"):
        raise ProblemError(422, "invalid-request", "query.format: json or csv", title="Invalid request",
                           errors=[{"loc": ["query", "format"], "msg": "json or csv"}])
    return wanted == "csv" or (wanted is None and "text/csv" in request.headers.get("accept", ""))


def _send(body: dict[str, Any] | None, text: str | None, name: str) -> Response:
    if text is not None:
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(orjson.dumps(body), media_type="application/json")


_PARAMS = [{"name": "since", "in": "query", "required": False, "schema": {"type": "string"},
            "description": "start of the period (RFC 3339 instant or date, UTC), inclusive"},
           {"name": "until", "in": "query", "required": False, "schema": {"type": "string"},
            "description": "end of the period, exclusive"},
           {"name": "format", "in": "query", "required": False, "schema": {"enum": ["json", "csv"]},
            "description": "json (default) or csv; `Accept: text/csv` also gives CSV"}]
_CSV = {"text/csv": {"schema": {"type": "string"}}}


async def _report(request: Request, compute: Any, *args: Any) -> Any:
    ledger = ledger_of(request)
    try:
        return await ledger.query(compute, ledger.engine, *args)
    except LedgerUnavailable as exc:
        raise unavailable(exc) from None


@router.get("/v1/reports/summary", operation_id="reportSummary", response_model=None,
            summary="Decisions, acceptance, cost, owed vs goodwill, approvals, CSAT and repeats over a period",
            responses={200: {"model": Report, "description": "The summary", "content": _CSV},
                       **responses(401, 403, 404, 422, 429, 503)},
            openapi_extra={"parameters": _PARAMS})
async def get_summary(request: Request) -> Response:
    period, shown = _period(request)
    as_csv = _csv(request)
    row = await _report(request, reports.summary, period)
    if as_csv:
        return _send(None, reports.to_csv([row], ()), "summary")
    return _send({"period": shown, **row}, None, "summary")


@router.get("/v1/reports/breakdown", operation_id="reportBreakdown", response_model=None,
            summary="The summary's figures per ruleset version, failure type, root cause, tier or channel",
            responses={200: {"model": Report, "description": "One row per group, largest first", "content": _CSV},
                       **responses(401, 403, 404, 422, 429, 503)},
            openapi_extra={"parameters": [{"name": "by", "in": "query", "required": True,
                                           "schema": {"enum": list(reports.DIMENSIONS)}}, *_PARAMS]})
async def get_breakdown(request: Request) -> Response:
    ledger_of(request)
    by = request.query_params.get("by")
    if by not in reports.DIMENSIONS:
        raise ProblemError(422, "invalid-request", f"query.by: one of {', '.join(reports.DIMENSIONS)}",
                           title="Invalid request", errors=[{"loc": ["query", "by"],
                                                             "msg": f"one of {', '.join(reports.DIMENSIONS)}"}])
    period, shown = _period(request)
    as_csv = _csv(request)
    rows = await _report(request, reports.breakdown, by, period)
    if as_csv:
        return _send(None, reports.to_csv(rows, reports.DIMENSIONS[by]), f"breakdown-{by}")
    return _send({"period": shown, "by": by, "rows": rows}, None, f"breakdown-{by}")


@router.get("/v1/reports/pareto", operation_id="reportPareto", response_model=None,
            summary="Root-cause Pareto: (root cause, failure type) pairs by decisions, with the running share",
            responses={200: {"model": Report, "description": "Pairs, largest first", "content": _CSV},
                       **responses(401, 403, 404, 422, 429, 503)},
            openapi_extra={"parameters": _PARAMS})
async def get_pareto(request: Request) -> Response:
    period, shown = _period(request)
    as_csv = _csv(request)
    rows = await _report(request, reports.pareto, period)
    if as_csv:
        return _send(None, reports.pareto_csv(rows), "pareto")
    return _send({"period": shown, "rows": rows}, None, "pareto")
