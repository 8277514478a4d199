"""Reads one YAML rules file into plain data plus the line of every node.

Rules files are hostile input as far as the loader is concerned: it rejects
non-UTF-8 bytes, duplicate keys, documents that expand past a node budget (alias
"billion laughs" bombs), very deep nesting, oversized files, numbers longer than
`service.numbers.MAX_CHARS` (a 4,300-digit integer costs seconds to build, more
is refused by Python outright) and values YAML cannot build (an unquoted
impossible date such as 2026-11-31), each with a finding that says where. PyYAML's safe composer builds the node tree; this module
turns it into data itself so it can keep line numbers and count expansions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .. import numbers
from .findings import Finding

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

try:  # libyaml's composer is several times faster; PyYAML falls back to pure Python.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass
class Source:
    """A parsed file: its data and the 1-based line of each path into it."""

    file: str
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, path: tuple) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            line = self.lines.get(path)
            if line is not None or not path:
                return line
            path = path[:-1]


class _Budget(Exception):
    pass


def read(file: str, raw: bytes) -> tuple[Source | None, list[Finding]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [Finding("error", "file-too-large",
                              f"the file has {len(raw)} bytes; rules files are limited to {MAX_FILE_BYTES}",
                              file, None, None, "split the rules over several files")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Finding("error", "not-utf8", f"byte {exc.start} is not valid UTF-8 ({exc.reason})",
                              file, line, None, "save the file as UTF-8")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Finding("error", "not-text", "the file contains a NUL character", file, line, None,
                              "save the file as plain UTF-8 text")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        context = f" ({exc.context})" if exc.context else ""
        return None, [Finding("error", "yaml", f"not valid YAML: {problem}{context}", file, line, None,
                              "check the indentation and quoting around this line")]
    except yaml.YAMLError as exc:
        return None, [Finding("error", "yaml", f"not valid YAML: {exc}", file, None, None, None)]
    except RecursionError:
        return None, [Finding("error", "too-deep", "the document nests too deeply to read", file, None, None,
                              f"keep nesting under {MAX_DEPTH} levels")]
    source = Source(file, None)
    if node is None:
        return source, []
    builder = _Builder(source)
    try:
        source.data = builder.build(node, (), 0)
    except _Budget as exc:
        return None, [Finding("error", "too-large", str(exc), file, builder.last_line, None,
                              "rules files stay small: avoid deep nesting and alias expansion")]
    return source, builder.findings


class _Builder:
    def __init__(self, source: Source):
        self.source = source
        self.nodes = 0
        self.last_line: int | None = None
        self.findings: list[Finding] = []
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: tuple, depth: int) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        self.last_line = line
        if self.nodes > MAX_NODES:
            raise _Budget(f"the document expands to more than {MAX_NODES} nodes (alias expansion?)")
        if depth > MAX_DEPTH:
            raise _Budget(f"the document nests deeper than {MAX_DEPTH} levels")
        self.source.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.findings.append(Finding("error", "yaml", "merge keys (<<) are not supported",
                                                 self.source.file, key_node.start_mark.line + 1, None,
                                                 "write the keys out in full"))
                    continue
                key = self.build(key_node, path + ("<key>",), depth + 1)
                if not isinstance(key, (str, int, bool, float)) or key is None:
                    self.findings.append(Finding("error", "yaml", "mapping keys must be plain scalars",
                                                 self.source.file, key_node.start_mark.line + 1, None, None))
                    continue
                if key in out:
                    self.findings.append(Finding("error", "duplicate-key", f"key `{key}` appears twice",
                                                 self.source.file, key_node.start_mark.line + 1, None,
                                                 "remove or rename one of them"))
                    continue
                self.source.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,), depth + 1)
                self.source.lines[path + (key,)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,), depth + 1) for index, item in enumerate(node.value)]
        if node.tag in _NUMBER_TAGS and len(node.value) > numbers.MAX_CHARS:
            self.findings.append(Finding("error", "number-too-long", f"a number has at most {numbers.MAX_CHARS} "
                                         f"characters, this one has {len(node.value)}", self.source.file, line,
                                         None, "quote it if it is text, or write a smaller number"))
            return None
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.findings.append(Finding("error", "yaml", f"cannot read value: {exc}", self.source.file,
                                         line, None, None))
        except (ValueError, ArithmeticError, TypeError) as exc:
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            if node.tag == _TIMESTAMP_TAG:
                message, hint = f"`{shown}` reads as a date but is not one ({exc})", "quote it if it is text"
            else:
                message, hint = f"cannot read `{shown}`: {exc}", "quote the value if it is text"
            self.findings.append(Finding("error", "bad-value", message, self.source.file, line, None, hint))
        return None
