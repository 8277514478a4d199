"""The one JSON reader for what clients send: every route, the CLI and the simulator use it.

`loads()` reads UTF-8 JSON (RFC 8259) and refuses, with a `JSONRefused` naming a
stable code, what a lenient reader would let through or read differently:

- a key that appears twice in one object (`duplicate-key`): readers disagree on
  which value wins, so the service takes neither;
- a lone UTF-16 surrogate escape (`"\\ud800"`), which is not text;
- `NaN`, `Infinity` and anything else that is not JSON (`malformed-json`).

Numbers keep their exact value: a JSON number with a fraction or an exponent
becomes a `Decimal` (79.9999999999999999999999999 stays that, and is then refused
for its places, not rounded to 80.00); an integer stays an `int` up to 18 digits
and becomes a `Decimal` beyond, so no integer of any length is ever converted at
a cost that grows with it. Range checks are the validators' (`service.numbers`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_LONG_INT = 18
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONRefused(ValueError):
    """The body is not JSON the service reads; `code` is stable, `detail` says why."""

    def __init__(self, code: str, detail: str):
        self.code = code
        self.detail = detail
        super().__init__(detail)


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _LONG_INT else Decimal(text)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=_int, parse_constant=_constant,
                            object_pairs_hook=_object)


def loads(body: bytes | str) -> Any:
    """The value `body` holds; raises JSONRefused."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONRefused("malformed-json", f"the request body is not valid JSON: byte {exc.start} is not "
                              "UTF-8") from None
    else:
        text = body
    try:
        value = _DECODER.decode(text)
    except _DuplicateKey as exc:
        key = str(exc)
        shown = key if len(key) <= 40 else key[:37] + "..."
        raise JSONRefused("duplicate-key", f"the key {shown!r} appears twice in one object; send it once") from None
    except (ValueError, RecursionError) as exc:
        raise JSONRefused("malformed-json", f"the request body is not valid JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) is not None and _holds_lone_surrogate(value):
        raise JSONRefused("malformed-json", "the request body holds a lone UTF-16 surrogate escape "
                          "(\\ud800-\\udfff without its pair), which is not text")
    return value


def _holds_lone_surrogate(parsed: Any) -> bool:
    # The decoder joins escaped surrogate pairs; a lone one survives and would break UTF-8 output.
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
