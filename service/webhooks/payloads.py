"""Reading a JSON delivery: exact decimals, no NaN, an object at the top.

Numbers keep their exact decimal value (an amount of 129.90 stays 129.90). A body
that is not JSON is a 400; JSON that is not an object cannot be a ticket (422).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..problems import ProblemError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProblemError(400, "malformed-json", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ProblemError(422, "invalid-payload", "a webhook delivery is a JSON object holding the ticket, not "
                           f"a JSON {type(parsed).__name__}", title="Invalid payload")
    return parsed
