"""The README's client examples (section "Generated clients"), read from the README itself."""

from __future__ import annotations

import re

from tests.support import ROOT

SECTION = "### Generated clients"


def example(language: str) -> str:
    """The one fenced block of `language` in the README's "Generated clients" section."""
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start)
    blocks = re.findall(rf"```{language}\n(.*?)```", text[start:end], flags=re.S)
    assert len(blocks) == 1, f"expected one ```{language} block under {SECTION!r}, found {len(blocks)}"
    return blocks[0]


def event() -> dict:
    """The failure event the Python example sends (a literal dict in the README)."""
    import ast

    source = example("python")
    literal = source.split("FailureEvent.from_dict(", 1)[1].rsplit("})", 1)[0] + "}"
    value = ast.literal_eval(literal)
    assert isinstance(value, dict)
    return value
