"""The tools' JSON Schemas, from their pydantic models (the same models as the OpenAPI document).

Inputs are the models' validation schemas, outputs their serialization schemas, with shared
definitions under `$defs` so the failure event is described once, exactly as
`components.schemas.FailureEvent` describes it in openapi/openapi.json.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel

from .tools import TOOLS, Tool


@functools.cache
def _schema(model: type[BaseModel], mode: str) -> dict[str, Any]:
    return model.model_json_schema(mode=mode, by_alias=True)  # type: ignore[arg-type]


def input_schema(tool: Tool) -> dict[str, Any]:
    return _schema(tool.arguments, "validation")


def output_schema(tool: Tool) -> dict[str, Any]:
    return _schema(tool.result, "serialization")


def all_tools() -> list[Tool]:
    return list(TOOLS.values())
