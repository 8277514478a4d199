"""Ticket field paths: how a mapping file points into a delivery.

A path is dot-separated keys, e.g. `issue.fields.priority.name`. A key with
characters other than letters, digits and `_ $ @ : -` (an Intercom custom
attribute such as "Order amount") is written in double quotes:
`custom_attributes."Order amount"`. A key may be followed by one selector:

    labels[0]                           the first element of a list (index below 1,000,000)
    custom_fields[id=360012345].value   the first object in a list whose `id` is 360012345
    tags.tags[*].name                   every element of a list: the rest of the path is read
                                        from each, and the values found make a list

Nothing else: no expressions, no recursion, at most one `[*]`, so a path names one
place (or one list of places) and reading it cannot do more than walk the parsed
delivery. `parse()` validates a path when a mapping file loads; `resolve()` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY = r'(?:[A-Za-z0-9_$@:-]+|"[^"\\]{1,128}")'
_STEP = re.compile(rf'^(?P<key>{_KEY})(?:\[(?:(?P<index>[0-9]{{1,6}})|(?P<each>\*)|'
                   r'(?P<field>[A-Za-z0-9_$@:-]+)=(?P<value>[^\]]*))\])?$')
MAX_STEPS = 16
MAX_EACH = 200
"""At most this many list elements are read through a `[*]` step."""


class PathError(ValueError):
    """A path is not of the form above; the message says which step and why."""


@dataclass(frozen=True)
class Step:
    key: str
    index: int | None = None
    match_field: str | None = None
    match_value: str | None = None
    each: bool = False


@dataclass(frozen=True)
class Path:
    text: str
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return self.text

    def under(self, root: "Path | None") -> "Path":
        """This path read from inside `root` (the mapping file's `root`)."""
        if root is None:
            return self
        return Path(f"{root.text}.{self.text}", root.steps + self.steps)


def _parts(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse(text: str) -> Path:
    if not isinstance(text, str) or not text.strip():
        raise PathError("a path is dot-separated keys, e.g. ticket.priority")
    parts = _parts(text.strip())
    if len(parts) > MAX_STEPS:
        raise PathError(f"a path has at most {MAX_STEPS} steps")
    steps = []
    for part in parts:
        found = _STEP.match(part)
        if found is None:
            raise PathError(f"step `{part}` of `{text}` is not a key, key[N], key[*] or key[field=value] "
                            '(keys hold letters, digits and _ $ @ : -, or are written in "double quotes")')
        key = found.group("key")
        index = found.group("index")
        steps.append(Step(key[1:-1] if key.startswith('"') else key, int(index) if index is not None else None,
                          found.group("field"), found.group("value"), found.group("each") is not None))
    if sum(step.each for step in steps) > 1:
        raise PathError(f"`{text}` has more than one [*]: a path reads at most one list")
    return Path(text.strip(), tuple(steps))


_MISSING = object()


def resolve(data: Any, path: Path) -> Any:
    """The value at `path`, or None when any step is absent (a JSON null reads as absent too).

    Through a `[*]` step the result is the list of the values found in the elements
    (absent ones left out), or None when none has one."""
    return _walk(data, path.steps)


def _walk(current: Any, steps: tuple[Step, ...]) -> Any:
    for position, step in enumerate(steps):
        if not isinstance(current, dict):
            return None
        current = current.get(step.key, _MISSING)
        if current is _MISSING or current is None:
            return None
        if step.each:
            if not isinstance(current, list):
                return None
            rest = steps[position + 1:]
            found = []
            for element in current[:MAX_EACH]:
                value = _walk(element, rest) if rest else element
                if value is not None and not isinstance(value, (dict, list)):
                    found.append(value)
            return found or None
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
