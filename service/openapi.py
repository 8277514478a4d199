"""The OpenAPI document the app serves, and that `openapi/openapi.json` commits.

Routes read their bodies themselves (for exact decimals and clear errors), so the
request schemas are added here from the wire models, and every error response is
described as `application/problem+json`. `tests/test_openapi_drift.py` fails when
the committed file and this document differ; `recovery openapi` rewrites the file.
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
from .models import BatchRequest, FailureEvent, Problem
from .problems import PROBLEM_JSON

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
    for model in (FailureEvent, BatchRequest, SimulationRequest, OutcomeIn, ErasureIn, Problem):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            error = operation.get("responses", {}).get("422")
            if error and "application/json" in error.get("content", {}):
                error["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                error["description"] = "Invalid request"
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    security.document(schema)
    app.openapi_schema = schema
    return schema
