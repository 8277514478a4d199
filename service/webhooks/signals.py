"""Signals: phrases in a ticket's own words that set an event field.

A customer writes "I typed the wrong address" or "the jug arrived cracked" long
before an agent tags the ticket. A phrase set, declared in the mapping files
(`rules/webhooks/signals.yaml`, or a mapping's own `signals.phrases`), lists for
one event field the value each group of phrases stands for, in order:

    failure.type:
      double_charge: [charged twice, double charged]
      damaged_item: [arrived broken, cracked]

`PhraseSet.first()` answers the first row, in the file's order, with a phrase in
any of the ticket's texts; `PhraseSet.highest()` the row with the highest value
(severity cues). How a hit combines with the ticket's structured fields (a
structured field beats text; severity cues only raise) is the mapping's business,
not this module's: it only reads text.

Matching is literal, case-insensitive and whole-word: `cracked` matches "Cracked!"
but not "crackedown"; runs of spaces match any whitespace; a curly apostrophe
matches a straight one. Scripts written without spaces (Chinese, Japanese) match
inside words. Texts are read as plain text: HTML tags (Freshdesk, Intercom) and
Atlassian document format (Jira Cloud) are reduced to their words, and only the
first TEXT_CHARS characters of each text are read.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

TEXT_CHARS = 20_000
PHRASE_CHARS = 120
_TAG = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<[^>]{0,2000}>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_NO_SPACE_SCRIPTS = 0x2E80
"""From here up (CJK and beyond) words are not separated by spaces: no word boundary is required."""
_ADF_NODES = 5_000


@dataclass(frozen=True)
class Hit:
    """A phrase found in a ticket text."""

    value: Any
    phrase: str
    path: str
    """The ticket path of the text it was found in."""


def normalise(text: str) -> str:
    """Text as phrases are compared: case-folded, one space between words, straight apostrophes."""
    return _SPACE.sub(" ", text.replace("\u2019", "'").replace("\u2018", "'").casefold()).strip()


def plain_text(value: Any) -> str | None:
    """The words of a ticket field: HTML reduced to text, an Atlassian document to its text nodes,
    a list of strings joined; None for anything else."""
    if isinstance(value, str):
        raw = value[: TEXT_CHARS * 4]
        text = html.unescape(_TAG.sub(" ", raw)) if "<" in raw or "&" in raw else raw
        return text[:TEXT_CHARS]
    if isinstance(value, dict) and value.get("type") == "doc":
        return " ".join(_adf_texts(value))[:TEXT_CHARS]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(value)[:TEXT_CHARS]
    return None


def _adf_texts(doc: dict[str, Any]) -> list[str]:
    found: list[str] = []
    pending: list[Any] = [doc]
    seen = 0
    while pending and seen < _ADF_NODES:
        node = pending.pop()
        seen += 1
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            content = node.get("content")
            if isinstance(content, list):
                pending.extend(reversed(content))
    return found


def problem(phrase: Any) -> str | None:
    """Why `phrase` cannot be a phrase, or None when it can."""
    if not isinstance(phrase, str):
        return f"a phrase is text, got {phrase!r}"
    text = normalise(phrase)
    if not text:
        return "a phrase cannot be empty"
    if len(text) > PHRASE_CHARS:
        return f"a phrase has at most {PHRASE_CHARS} characters"
    if not any(char.isalnum() for char in text):
        return f"`{phrase}` has no letters or digits to match"
    return None


def _edge(char: str) -> bool:
    return char.isalnum() and ord(char) < _NO_SPACE_SCRIPTS


def pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching any of `phrases` as whole words in normalised text."""
    alternatives = []
    for phrase in sorted({normalise(phrase) for phrase in phrases}, key=len, reverse=True):
        body = r"\s+".join(re.escape(word) for word in phrase.split(" "))
        before = r"(?<!\w)" if _edge(phrase[0]) else ""
        after = r"(?!\w)" if _edge(phrase[-1]) else ""
        alternatives.append(f"{before}{body}{after}")
    return re.compile("|".join(alternatives) or r"(?!)")


@dataclass(frozen=True)
class Row:
    value: Any
    phrases: tuple[str, ...]
    line: int | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", pattern(self.phrases))

    def search(self, text: str) -> str | None:
        found = self._pattern.search(text)
        return found.group(0) if found else None


@dataclass(frozen=True)
class PhraseSet:
    """The phrases that set one event field, row by row in the order written."""

    target: str
    rows: tuple[Row, ...]
    origin: str
    """Where the set is declared, `file:line`, for the answer's account of each field."""

    def first(self, texts: list[tuple[str, str]]) -> Hit | None:
        """The first row with a phrase in any of `texts` ((path, normalised text) pairs)."""
        for row in self.rows:
            for path, text in texts:
                found = row.search(text)
                if found is not None:
                    return Hit(row.value, found, path)
        return None

    def highest(self, texts: list[tuple[str, str]]) -> Hit | None:
        """Among the rows with a phrase in `texts`, the one with the highest value."""
        best: Hit | None = None
        for row in self.rows:
            if best is not None and row.value <= best.value:
                continue
            for path, text in texts:
                found = row.search(text)
                if found is not None:
                    best = Hit(row.value, found, path)
                    break
        return best


@dataclass(frozen=True)
class Clash:
    """A lint finding about two phrases of one set."""

    kind: str
    """`twice` (one phrase under two values, or twice under one), `shadowed` (an earlier,
    shorter phrase always matches first, so this one can never decide)."""
    phrase: str
    value: Any
    other_phrase: str
    other_value: Any
    line: int | None


def clashes(rows: tuple[Row, ...], ordered: bool) -> list[Clash]:
    """Phrases listed twice, and (when the first row found decides, `ordered`) phrases an
    earlier row's phrase always beats."""
    out: list[Clash] = []
    seen: dict[str, tuple[Any, str]] = {}
    for row in rows:
        for phrase in row.phrases:
            key = normalise(phrase)
            if key in seen:
                out.append(Clash("twice", phrase, row.value, seen[key][1], seen[key][0], row.line))
            else:
                seen[key] = (row.value, phrase)
    if ordered:
        for later_index, later in enumerate(rows):
            for phrase in later.phrases:
                text = normalise(phrase)
                for earlier in rows[:later_index]:
                    found = earlier.search(text)
                    if found is not None and earlier.value != later.value and normalise(found) != text:
                        out.append(Clash("shadowed", phrase, later.value, found, earlier.value, later.line))
                        break
    return out
