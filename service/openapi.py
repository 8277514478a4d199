"""The OpenAPI document the app serves, and that `openapi/openapi.json` commits.

Routes read their bodies themselves (for exact decimals and clear errors), so the
request schemas are added here from the wire models, and every error response is
described as `application/problem+json`. `tests/test_openapi_drift.py` fails when
the committed file and this document differ; `recovery openapi` rewrites the file.

Requests and responses have schemas of their own (`Money` in, `MoneyOut` out), so
each can say what a generated client needs: a request field with a default is
optional and carries no `default` keyword (code generators such as openapi-typescript
read `default` as "always present"; the default is in its description instead), and
a response field is required unless its model names it in `absent` (the models' own
JSON Schemas say so, so the MCP tools' output schemas agree). Every response
documents `X-Request-ID`, and 429 and 503 document `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from . import __version__
from .api import security
from .api.erasures import ErasureIn
from .api.outcomes import OutcomeIn
from .api.simulations import SimulationRequest
from . import examples
from .models import BatchRequest, FailureEvent, Problem
from .problems import PROBLEM_JSON

REQUEST_MODELS = (FailureEvent, BatchRequest, SimulationRequest, OutcomeIn, ErasureIn)
REQUEST_ID = {"description": "The request's id: the one sent (1-128 characters of `A-Za-z0-9._:@-`) or a new "
                             "one; access log lines carry it", "schema": {"type": "string"}}
RETRY_AFTER = {"description": "Seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}}

DESCRIPTION = (
    "Tells a company how to make amends when its service fails a customer: send a failure event, get a "
    "recommended compensation mix (refund, credit, discount, apology) that addresses the distributive, "
    "procedural and interactional justice dimensions, who must approve it, and why. Errors are RFC 9457 "
    "problem details. The same event under the same ruleset revision gets the same decision, byte for byte."
)


def build(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title="Service recovery decision engine", version=__version__,
                         description=DESCRIPTION, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in REQUEST_MODELS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        defined = model_schema.pop("$defs", {})
        for name, part in [*defined.items(), (model.__name__, model_schema)]:
            components[name] = defaults_described(part)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            error = operation.get("responses", {}).get("422")
            if error and "application/json" in error.get("content", {}):
                error["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                error["description"] = "Invalid request"
            _headers(operation)
    schema["components"]["headers"] = {"X-Request-ID": REQUEST_ID, "Retry-After": RETRY_AFTER}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    examples.document(schema)
    security.document(schema)
    app.openapi_schema = schema
    return schema


def defaults_described(part: dict[str, Any]) -> dict[str, Any]:
    """A request schema without `default` keywords on its properties; each default is said in words."""
    for prop in part.get("properties", {}).values():
        if "default" not in prop:
            continue
        default = prop.pop("default")
        if default is None:
            continue  # optional, nothing assumed
        shown = "true" if default is True else "false" if default is False else default
        said = f"Default: `{shown}`."
        prop["description"] = f"{prop['description']} {said}" if prop.get("description") else said
    return part


def _headers(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
        if status in ("429", "503"):
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
