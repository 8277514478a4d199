"""Ticket field paths: how a mapping file points into a delivery.

A path is dot-separated keys, e.g. `issue.fields.priority.name`. A key may be
followed by one selector:

    labels[0]                           the first element of a list (index below 1,000,000)
    custom_fields[id=360012345].value   the first object in a list whose `id` is 360012345

Nothing else: no wildcards, no expressions, so a path always names one place and
reading it cannot do more than walk the parsed delivery. `parse()` validates a
path when a mapping file loads; `resolve()` reads it from a delivery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"^(?P<key>[A-Za-z0-9_$@:-]+)(?:\[(?:(?P<index>[0-9]{1,6})|(?P<field>[A-Za-z0-9_$@:-]+)=(?P<value>[^\]]*))\])?$")
MAX_STEPS = 16


class PathError(ValueError):
    """A path is not of the form above; the message says which step and why."""


@dataclass(frozen=True)
class Step:
    key: str
    index: int | None = None
    match_field: str | None = None
    match_value: str | None = None


@dataclass(frozen=True)
class Path:
    text: str
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return self.text


def parse(text: str) -> Path:
    if not isinstance(text, str) or not text.strip():
        raise PathError("a path is dot-separated keys, e.g. ticket.priority")
    parts = text.strip().split(".")
    if len(parts) > MAX_STEPS:
        raise PathError(f"a path has at most {MAX_STEPS} steps")
    steps = []
    for part in parts:
        found = _STEP.match(part)
        if found is None:
            raise PathError(f"step `{part}` of `{text}` is not a key, key[N] or key[field=value] "
                            "(keys hold letters, digits and _ $ @ : -)")
        index = found.group("index")
        steps.append(Step(found.group("key"), int(index) if index is not None else None,
                          found.group("field"), found.group("value")))
    return Path(text.strip(), tuple(steps))


_MISSING = object()


def resolve(data: Any, path: Path) -> Any:
    """The value at `path`, or None when any step is absent (a JSON null reads as absent too)."""
    current = data
    for step in path.steps:
        if not isinstance(current, dict):
            return None
        current = current.get(step.key, _MISSING)
        if current is _MISSING or current is None:
            return None
        if step.index is not None:
            if not isinstance(current, list) or step.index >= len(current):
                return None
            current = current[step.index]
        elif step.match_field is not None:
            if not isinstance(current, list):
                return None
            current = next((item for item in current if isinstance(item, dict)
                            and _text(item.get(step.match_field)) == step.match_value), None)
        if current is None:
            return None
    return current


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
