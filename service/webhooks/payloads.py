"""Reading a JSON delivery: exact decimals, no NaN, an object at the top.

Numbers keep their exact decimal value (an amount of 129.90 stays 129.90). A body
that is not JSON, or whose strings are not text (a lone surrogate escape), is a
400; JSON that is not an object cannot be a ticket (422).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..problems import ProblemError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _holds_lone_surrogate(parsed: Any) -> bool:
    # json.loads joins escaped surrogate pairs; a lone one survives and would break the reply's UTF-8.
    pending = [parsed]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProblemError(400, "malformed-json", f"the request body is not valid JSON: {exc}") from None
    if _holds_lone_surrogate(parsed):
        raise ProblemError(400, "malformed-json", "the request body holds a lone UTF-16 surrogate escape "
                           "(\\ud800-\\udfff without its pair), which is not text")
    if not isinstance(parsed, dict):
        raise ProblemError(422, "invalid-payload", "a webhook delivery is a JSON object holding the ticket, not "
                           f"a JSON {type(parsed).__name__}", title="Invalid payload")
    return parsed
