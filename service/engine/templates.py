"""Message templates: which {placeholders} each text of `messages:` may use.

Templates are plain text with `{name}` placeholders (Python's `str.format` syntax, names
only: no attribute access, indexing, conversion or format spec), filled per decision by
`service.recovery.messages`. They are checked when the rules load, so a template that
could not render is a load error with its file and place, never a request error.
"""

from __future__ import annotations

import string
from typing import Iterator

from .schema import LocaleTexts

#: Placeholders every template may use.
COMMON = ("failure", "failure_type", "severity", "decision_id", "ruleset", "version", "currency")

#: Extra placeholders per agent-note line.
NOTE_SLOTS: dict[str, tuple[str, ...]] = {
    "header": (),
    "owed": ("amount", "basis", "kind"),
    "not_assessed": ("what",),
    "refund": ("amount",),
    "credit": ("amount", "days"),
    "discount": ("percent", "days"),
    "replacement": ("replacement", "value"),
    "alternatives": ("recommended", "options"),
    "no_compensation": ("reason",),
    "apology": ("who",),
    "respond": ("minutes",),
    "follow_up": ("hours",),
    "approval": ("who", "reasons"),
    "offer_now": ("items",),
    "no_approval": (),
    "review": (),
    "footer": (),
}

_FORMATTER = string.Formatter()


def placeholders(template: str) -> list[str]:
    """The placeholder names of `template`; ValueError when it is not a valid template."""
    names = []
    for _, name, spec, conversion in _FORMATTER.parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"`{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}` "
                             "is not a plain {name} placeholder")
        names.append(name)
    return names


def slots(texts: LocaleTexts) -> Iterator[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """Every template of one locale: (path under the locale, template, allowed placeholders)."""
    for part, allowed in (("apology", ()), ("explanation", ())):
        for key, template in getattr(texts, part).model_dump().items():
            if template is not None:
                yield (part, key), template, COMMON + allowed
    for key, template in texts.agent_note.model_dump().items():
        if template is not None:
            yield ("agent_note", key), template, COMMON + NOTE_SLOTS[key]
    for part in ("failure_types", "replacements", "levels", "owed_kinds", "alternatives"):
        for key, template in getattr(texts, part).items():
            yield (part, key), template, ()


def problems(template: str, allowed: tuple[str, ...]) -> str | None:
    """Why `template` cannot render with `allowed` placeholders, or None."""
    try:
        names = placeholders(template)
    except ValueError as exc:
        return str(exc)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        where = ", ".join(f"{{{name}}}" for name in allowed) if allowed else "no placeholders"
        return f"unknown placeholder {{{unknown[0]}}}: this text can use {where}"
    try:
        template.format_map({name: "x" for name in allowed})
    except (ValueError, KeyError, IndexError) as exc:
        return f"does not render: {exc}"
    return None
