"""The decision tools as strict function-calling schemas for OpenAI and Anthropic models.

`recovery tools --format openai|anthropic` prints `TOOLS` in each vendor's tool format with
`strict: true`, so the model's arguments are constrained to the schema while it writes them.
The schemas are the MCP tools' input schemas (the wire models'), rewritten to the subset each
vendor's strict mode accepts:

- every object closes with `additionalProperties: false`;
- OpenAI: every property is required, and one that may be left out takes `null` instead (the
  server reads a null argument as one left out);
- keywords strict decoding does not take are dropped (`default`, `examples`, string lengths;
  for Anthropic also numeric bounds): the server still checks them, and a value out of bounds
  comes back as a tool error naming the field, which the model can correct;
- `facts`, a free map on the wire, becomes an object with one property per fact the ruleset
  declares (so the schema names them, their types and their meanings).

Execute a call by sending its name and arguments to the service's MCP endpoint
(`tools/call` on POST /mcp): see README.md, "Wiring an AI agent".
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from ..engine.loader import RulesetDef
from ..engine.schema import FactDecl
from .schemas import input_schema
from .tools import TOOLS

Format = Literal["openai", "anthropic"]

_DROPPED = {"default", "examples", "propertyNames", "maxProperties", "minProperties", "minLength", "maxLength"}
DROPPED: dict[str, frozenset[str]] = {
    "openai": frozenset(_DROPPED),
    "anthropic": frozenset(_DROPPED | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                                       "maxItems"}),
}
NULL = {"type": "null"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if NULL in schema.get("anyOf", []) or schema.get("type") == "null":
        return schema
    description = schema.get("description")
    inner = {key: value for key, value in schema.items() if key != "description"}
    out: dict[str, Any] = {"anyOf": [inner, NULL]}
    if description:
        out["description"] = description
    return out


def _strict(node: Any, target: Format) -> Any:
    if isinstance(node, list):
        return [_strict(item, target) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED[target]:
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: _strict(child, target) for name, child in value.items()}
        else:
            out[key] = _strict(value, target)
    if target == "anthropic" and out.get("minItems", 0) > 1:
        del out["minItems"]
    if out.get("type") == "object":
        out["additionalProperties"] = False
        properties = out.setdefault("properties", {})
        if target == "openai":
            required = set(out.get("required", []))
            out["properties"] = {name: child if name in required else _nullable(child)
                                 for name, child in properties.items()}
            out["required"] = list(properties)
    return out


def _fact_schema(fact: FactDecl) -> dict[str, Any]:
    described: dict[str, Any] = {"description": fact.description}
    if fact.type == "integer":
        schema: dict[str, Any] = {"type": "integer"}
    elif fact.type == "number":
        schema = {"type": "number"}
    elif fact.type == "boolean":
        schema = {"type": "boolean"}
    elif fact.type == "slug":
        schema = {"type": "string", "enum": list(fact.values or [])}
    elif fact.type == "money":
        schema = {"$ref": "#/$defs/Money"}
    else:
        schema = {"type": "string"}
    for bound in ("minimum", "maximum"):
        value = getattr(fact, bound, None)
        if value is not None:
            schema[bound] = float(value) if fact.type == "number" else int(value)
    if fact.required_for:
        described["description"] += f" (needed for {', '.join(fact.required_for)})"
    return {**schema, **described}


def _with_facts(schema: dict[str, Any], ruleset: RulesetDef | None) -> dict[str, Any]:
    """The event's free `facts` map as an object of the ruleset's declared facts (none: no facts)."""
    schema = copy.deepcopy(schema)
    event = schema.get("$defs", {}).get("FailureEvent")
    if event is None or "facts" not in event.get("properties", {}):
        return schema
    declared = ruleset.facts if ruleset is not None else {}
    if not declared:
        del event["properties"]["facts"]
        return schema
    event["properties"]["facts"] = {
        "type": "object", "description": "facts the ruleset declares; give the ones you know",
        "properties": {name: _fact_schema(fact) for name, fact in declared.items()}}
    return schema


def parameters(name: str, target: Format, ruleset: RulesetDef | None) -> dict[str, Any]:
    """A tool's arguments as a strict schema for `target`."""
    return _strict(_with_facts(input_schema(TOOLS[name]), ruleset), target)  # type: ignore[no-any-return]


def functions(target: Format, ruleset: RulesetDef | None) -> list[dict[str, Any]]:
    """Every tool in the vendor's tool format, strict."""
    out = []
    for tool in TOOLS.values():
        schema = parameters(tool.name, target, ruleset)
        if target == "openai":
            out.append({"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                         "parameters": schema, "strict": True}})
        else:
            out.append({"name": tool.name, "description": tool.description, "input_schema": schema,
                        "strict": True})
    return out


def prune_nulls(value: Any) -> Any:
    """Arguments with every null member left out: strict function calling sends null for an argument the
    model leaves out, and the tools read it so."""
    if isinstance(value, dict):
        return {key: prune_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [prune_nulls(item) for item in value]
    return value
