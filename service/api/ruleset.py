"""GET /v1/ruleset: what is live, and what the last failed reload said."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

import yaml

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from .. import pod
from ..engine import facts as facts_module
from ..engine.registry import Registry, Snapshot
from ..problems import ProblemError, responses
from .decisions import live

router = APIRouter(tags=["ruleset"])


class RulesetView(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    version: str
    digest: str
    loaded_at: str
    rules: list[dict[str, Any]]
    catalogues: dict[str, Any]
    facts: dict[str, Any] = {}
    """The facts events may carry under `facts`: name -> type, description, what values it takes."""
    currency: dict[str, Any] | None = None
    alternatives: list[dict[str, Any]] = []
    locales: dict[str, Any] = {}


class ReloadView(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str
    digest: str | None
    warnings: list[dict[str, Any]]


_WRITTEN: dict[str, dict[str, dict[str, Any]]] = {}


def written(digest: str, sources: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """Each rule's `when` and `then` as its file writes them (the console's Rules tab shows them), read
    once per ruleset revision (the digest names the sources)."""
    found = _WRITTEN.get(digest)
    if found is not None:
        return found
    found = {}
    for _, raw in sorted(sources.items()):
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError:
            continue
        for rule in data.get("rules") or [] if isinstance(data, dict) else []:
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                found[rule["id"]] = {"when": rule.get("when"), "then": rule.get("then")}
    if len(_WRITTEN) >= 4:
        _WRITTEN.clear()
    _WRITTEN[digest] = found
    return found


def describe(snapshot: Snapshot) -> dict[str, Any]:
    ruleset = snapshot.ruleset
    return {
        "name": ruleset.meta.name,
        "version": ruleset.meta.version,
        "digest": ruleset.digest,
        "loaded_at": snapshot.loaded_at.isoformat(timespec="seconds"),
    }


def view(registry: Registry, snapshot: Snapshot) -> dict[str, Any]:
    ruleset = snapshot.ruleset
    body = describe(snapshot)
    body.update({
        "description": ruleset.meta.description,
        "files": list(ruleset.files),
        "rules": [{"id": rule.id, "description": rule.description, "file": rule.file, "line": rule.line,
                   **written(ruleset.digest, ruleset.sources).get(rule.id, {})}
                  for rule in ruleset.rules],
        "catalogues": ruleset.catalogues.model_dump(mode="json"),
        "facts": {name: {"type": fact.type, "description": fact.description, "expects": facts_module.describe(fact),
                         **fact.model_dump(mode="json", exclude_none=True, exclude={"type", "description",
                                                                                    "max_length"}),
                         **({"max_length": fact.max_length} if fact.type == "text" else {})}
                  for name, fact in ruleset.facts.items()},
        "currency": ruleset.currency.model_dump(mode="json") if ruleset.currency else None,
        "alternatives": [alternative.model_dump(mode="json") for alternative in ruleset.alternatives],
        "locales": {"default": (ruleset.messages.default_locale if ruleset.messages else "en"),
                    "available": list(ruleset.messages.locales) if ruleset.messages else ["en"]},
        "combine": ruleset.combine.model_dump(mode="json"),
        "limits": ruleset.limits.model_dump(mode="json", exclude_none=True),
        "costing": ruleset.costing.model_dump(mode="json"),
        "engine": {"shards": snapshot.engine.shard_count, "engine_rules": snapshot.engine.rule_count},
        "warnings": [finding.as_dict() for finding in ruleset.warnings],
        "last_reload_failure": registry.last_failure.as_dict() if registry.last_failure else None,
    })
    return body


@router.get("/v1/ruleset", operation_id="getRuleset", summary="The live ruleset: rules, catalogues, limits",
            response_model=None,
            responses={200: {"model": RulesetView, "description": "The live ruleset"},
                       **responses(401, 403, 429, 503)})
async def get_ruleset(request: Request) -> Response:
    snapshot = live(request)
    return Response(orjson.dumps(view(request.app.state.registry, snapshot)), media_type="application/json")


@router.post("/v1/ruleset:reload", operation_id="reloadRuleset",
             summary="Reload the rules directory now (admin scope)", response_model=None,
             responses={200: {"model": ReloadView, "description": "Loaded, or unchanged"},
                        **responses(401, 403, 422, 429, 503)})
async def reload_ruleset(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    shared = pod.pod_dir()
    if shared is not None:  # every worker of the pod reloads, and the answer comes once they switched
        decided = await pod.request_reload(shared)
        if decided is None:
            raise ProblemError(503, "reload-pending", "the pod did not decide on the reload in time; see /readyz",
                               headers={"Retry-After": "5"})
        status, digest, findings = decided["outcome"], decided.get("digest"), decided.get("findings", [])
        warnings = [finding.as_dict() for finding in registry.current.ruleset.warnings] \
            if registry.current is not None and status != "failed" else []
    else:
        result = await asyncio.to_thread(registry.reload)
        status, digest = result.status, result.digest
        findings = [finding.as_dict() for finding in result.findings]
        warnings = findings
    if status == "failed":
        raise ProblemError(422, "invalid-rules", "the rules do not load; the live ruleset keeps serving",
                           title="Invalid rules", extra={"live_digest": digest, "findings": findings})
    body = {"status": status, "digest": digest, "warnings": warnings}
    return Response(orjson.dumps(body), media_type="application/json")
