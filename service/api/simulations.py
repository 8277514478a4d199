"""POST /v1/simulations: what a candidate ruleset would change, before it ships (the simulate scope).

The candidate is either rules files overlaid on the live ruleset's files (a
pasted or uploaded file replaces the file of the same name; `null` removes one)
or a directory the service was told about (RECOVERY_SIMULATION_DIRS). The events
are the request's, or the shipped sample. The answer is the `recovery simulate`
summary as JSON, or the same self-contained HTML report with `?format=html`.

A simulation runs in a process of its own (`authoring.simjob`), never on the
decision worker's event loop or with its engines, within a budget of rule
evaluations (RECOVERY_SIMULATION_MAX_EVALUATIONS) and CPU seconds
(RECOVERY_SIMULATION_CPU_SECONDS); one runs at a time per worker (429 otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any, Literal, Mapping

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator
from starlette.responses import Response

from .. import strictjson
from ..authoring import simjob
from ..engine.findings import RulesetInvalid
from ..engine.loader import read_dir
from ..engine.registry import Snapshot
from ..problems import ProblemError, from_refused, from_validation, responses
from .body import read_json
from .decisions import live

log = logging.getLogger("service.simulations")

router = APIRouter(tags=["simulations"])

MAX_EVENTS = 20_000
MAX_DECIDED = 20
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$")
_running = asyncio.Lock()


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: dict[str, str | None] | None = None
    """Rules files by name, overlaid on the live ruleset's files; null removes a file."""
    directory: str | None = None
    """The name of a directory listed by GET /v1/simulations/directories."""

    @model_validator(mode="after")
    def _one(self) -> "Candidate":
        if (self.files is None) == (self.directory is None):
            raise ValueError("give exactly one of files or directory")
        for name in self.files or {}:
            if not FILE_NAME.match(name):
                raise ValueError(f"{name!r} is not a rules file name (letters, digits, . _ - ending in .yaml)")
        return self


class SimulationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidate: Candidate
    events: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=MAX_EVENTS)
    """Failure events to replay; the shipped sample when left out."""
    decisions: StrictBool = False
    """Also answer each event's decision under both rulesets (`decisions`: line, baseline, candidate), to try a
    case against a candidate side by side; with at most MAX_DECIDED events, which the request must bring."""

    @model_validator(mode="after")
    def _few(self) -> "SimulationRequest":
        if self.decisions and (self.events is None or len(self.events) > MAX_DECIDED):
            raise ValueError(f"decisions: send `events`, at most {MAX_DECIDED}, to get their decisions")
        return self


class DirectoryList(BaseModel):
    directories: list[str]


def _candidate(request: Request, spec: Candidate, live_snapshot: Snapshot) -> tuple[Mapping[str, bytes], str]:
    """The candidate's files and how the report names it."""
    if spec.directory is not None:
        directories = request.app.state.settings.simulation_directories()
        if spec.directory not in directories:
            raise ProblemError(422, "unknown-directory", title="Unknown directory",
                               detail=f"no simulation directory named {spec.directory!r}; "
                               f"known: {', '.join(directories) or 'none configured'}")
        try:
            return read_dir(directories[spec.directory]), f"directory {spec.directory}"
        except RulesetInvalid as exc:
            raise _invalid_rules(exc.findings) from None
    sources = dict(live_snapshot.ruleset.sources)
    for name, text in (spec.files or {}).items():
        if text is None:
            sources.pop(name, None)
        else:
            sources[name] = text.encode()
    return sources, "live ruleset with " + ", ".join(sorted(spec.files or {}))


def _invalid_rules(findings: Any) -> ProblemError:
    return ProblemError(422, "invalid-rules", "the candidate rules do not load", title="Invalid rules",
                        extra={"findings": [finding.as_dict() for finding in findings]})


def _events(request: Request, given: list[dict[str, Any]] | None) -> tuple[list[Any], str]:
    if given is not None:
        return given, "the request's events"
    path: Path | None = request.app.state.settings.simulation_events
    if path is None or not path.is_file():
        raise ProblemError(422, "no-events", "send `events`: this service has no sample events configured",
                           title="No events")
    return [strictjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()][:MAX_EVENTS], \
        f"sample {path.name}"


@router.post("/v1/simulations", operation_id="simulate", summary="Replay events through the live and a "
             "candidate ruleset and compare", response_model=None,
             responses={200: {"description": "The comparison (JSON, or HTML with ?format=html)",
                              "content": {"application/json": {"schema": {"type": "object"}},
                                          "text/html": {"schema": {"type": "string"}}}},
                        **responses(400, 401, 403, 408, 413, 415, 422, 429, 503)},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/SimulationRequest"}}}}})
async def simulate(request: Request, format: Literal["json", "html"] = Query("json")) -> Response:
    settings = request.app.state.settings
    body = await read_json(request, settings.body_timeout_seconds)
    baseline = live(request)
    try:
        spec = SimulationRequest.model_validate(strictjson.loads(body))
    except strictjson.JSONRefused as exc:
        raise from_refused(exc) from None
    except ValidationError as exc:
        raise from_validation(exc, "simulation") from None
    if _running.locked():
        raise ProblemError(429, "simulation-running", "a simulation is already running on this worker; retry",
                           headers={"Retry-After": "5"})
    async with _running:
        candidate, candidate_label = await asyncio.to_thread(_candidate, request, spec.candidate, baseline)
        events, label = await asyncio.to_thread(_events, request, spec.events)
        outcome = await simjob.run(simjob.Job(
            baseline=baseline.ruleset.sources, candidate=candidate, events=events, label=label,
            candidate_label=candidate_label, html=format == "html", cpu_seconds=settings.simulation_cpu_seconds,
            max_evaluations=settings.simulation_max_evaluations, decisions=spec.decisions))
    if outcome.kind == "invalid-rules":
        raise _invalid_rules(outcome.findings)
    if outcome.kind in ("too-large", "too-costly"):
        raise ProblemError(422, f"simulation-{outcome.kind}", outcome.detail, title="Simulation over budget")
    if outcome.kind != "ok" or outcome.summary is None:
        log.error("simulation failed: %s", outcome.detail)
        raise ProblemError(500, "internal", "the simulation failed; the error is logged")
    if format == "html":
        return Response(outcome.html or "", media_type="text/html; charset=utf-8")
    return Response(orjson.dumps(outcome.summary), media_type="application/json")


@router.get("/v1/simulations/directories", operation_id="simulationDirectories",
            summary="Rules directories a simulation may use as the candidate", response_model=DirectoryList,
            responses=responses(401, 403, 429))
async def directories(request: Request) -> dict[str, list[str]]:
    return {"directories": sorted(request.app.state.settings.simulation_directories())}
