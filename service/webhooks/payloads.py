"""Reading a JSON delivery: the service's one JSON reader, and an object at the top.

Numbers keep their exact decimal value (an amount of 129.90 stays 129.90), as on
every route (`service.strictjson`). A body that is not JSON, that repeats a key in
one object, or whose strings are not text (a lone surrogate escape), is a 400; JSON
that is not an object cannot be a ticket (422).
"""

from __future__ import annotations

from typing import Any

from .. import strictjson
from ..problems import ProblemError, from_refused


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = strictjson.loads(body)
    except strictjson.JSONRefused as exc:
        raise from_refused(exc) from None
    if not isinstance(parsed, dict):
        raise ProblemError(422, "invalid-payload", "a webhook delivery is a JSON object holding the ticket, not "
                           f"a JSON {type(parsed).__name__}", title="Invalid payload")
    return parsed
