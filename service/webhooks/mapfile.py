"""Reads and validates one mapping file (`rules/webhooks/<system>.yaml`).

The file is ops-edited, so it is checked as strictly as a rules file and every
mistake comes back as a `Finding` with the file, the line and what was expected
(unknown keys with a "did you mean", bad paths, `values` entries that are not a
valid event value, missing required fields). `load()` returns the validated
`Mapping`, or raises `RulesetInvalid` carrying every finding.

    system: zendesk                 # must match the file name
    ticket_id: {from: [ticket.id, detail.id]}
    ticket_status: {from: [ticket.status]}   # optional: recorded in the ledger with each delivery
    fields:
      failure.type:                 # an event field (see targets.TARGETS)
        from: [ticket.tags]         # one path or a list, tried in order
        split: " "                  # optional: the value is a list in one string
        values: {late: late_delivery, broken: damaged_item}   # optional lookup table
        default: wrong_item         # optional: used when nothing is found
        required: true              # optional: refuse tickets without it
      failure.severity:             # several sources, tried in order
        sources:
          - {from: ticket.tags, split: " ", values: {sev5: 5}}
          - {from: ticket.priority, values: {low: 1, normal: 2, high: 3, urgent: 4}}
"""

from __future__ import annotations

import difflib
from typing import Any

from ..engine.findings import Finding, RulesetInvalid, sort_key
from ..engine.yamlsource import Source as YamlSource
from ..engine.yamlsource import read
from . import paths
from .mapping import FieldMap, Mapping, Source
from .targets import REQUIRED, TARGETS, TICKET_ID, NotConvertible, Target, convert, lookup_key

TOP_KEYS = ("system", "description", "ticket_id", "ticket_status", "fields")
FIELD_KEYS = ("from", "split", "values", "sources", "default", "required")
SOURCE_KEYS = ("from", "split", "values")
MAX_PATHS = 20
MAX_VALUES = 1000


class _Checker:
    def __init__(self, source: YamlSource, system: str):
        self.source = source
        self.file = source.file
        self.system = system
        self.findings: list[Finding] = []

    def error(self, code: str, message: str, where: tuple, hint: str | None = None) -> None:
        self.findings.append(Finding("error", code, message, self.file, self.source.line_of(where), None, hint))

    def unknown_keys(self, data: dict[Any, Any], allowed: tuple[str, ...], where: tuple, what: str) -> None:
        for key in data:
            if key not in allowed:
                guess = difflib.get_close_matches(str(key), allowed, n=1)
                self.error("unknown-key", f"unknown key `{key}` in {what}; expected {', '.join(allowed)}",
                           where + (key,), f"did you mean `{guess[0]}`?" if guess else None)

    def mapping(self) -> Mapping | None:
        data = self.source.data
        if not isinstance(data, dict):
            self.error("schema", "a mapping file is a mapping with keys system, ticket_id and fields", ())
            return None
        self.unknown_keys(data, TOP_KEYS, (), "the file")
        if data.get("system") != self.system:
            self.error("system", f"`system` is {data.get('system')!r}; this file maps `{self.system}` tickets",
                       ("system",), f"write `system: {self.system}`")
        ticket_id = None
        if "ticket_id" not in data:
            self.error("missing", "`ticket_id` is required: the event id is the system name plus the ticket id",
                       (), "add `ticket_id: {from: <path of the ticket id>}`")
        else:
            ticket_id = self.field("ticket_id", data["ticket_id"], ("ticket_id",), TICKET_ID, required=True)
        ticket_status = None
        if "ticket_status" in data:
            ticket_status = self.field("ticket_status", data["ticket_status"], ("ticket_status",), TICKET_ID,
                                       required=False)
        fields: list[FieldMap] = []
        raw_fields = data.get("fields")
        fields_given = isinstance(raw_fields, dict)
        if not isinstance(raw_fields, dict):
            self.error("schema", "`fields` is required: a mapping from event fields to ticket fields",
                       ("fields",), "see docs/webhooks.md for an example")
            raw_fields = {}
        for target, spec in raw_fields.items():
            if target not in TARGETS:
                guess = difflib.get_close_matches(str(target), list(TARGETS), n=1)
                self.error("unknown-field", f"`{target}` is not an event field a mapping can fill; expected one "
                           f"of {', '.join(TARGETS)}", ("fields", target),
                           f"did you mean `{guess[0]}`?" if guess else None)
                continue
            built = self.field(target, spec, ("fields", target), TARGETS[target], required=target in REQUIRED)
            if built is not None:
                fields.append(built)
        for target in REQUIRED:
            if fields_given and target not in raw_fields:
                self.error("missing", f"`fields.{target}` is required: every event needs it", ("fields",),
                           f"add `{target}:` with `from` (and `values`) or a `default`")
        if self.findings or ticket_id is None:
            return None
        return Mapping(self.system, self.file, ticket_id, tuple(fields), ticket_status)

    def field(self, target: str, spec: Any, where: tuple, kind: Target, required: bool) -> FieldMap | None:
        if not isinstance(spec, dict):
            self.error("schema", f"`{'.'.join(map(str, where))}` is a mapping with `from` (and optionally split, "
                       "values, default, required) or `sources`", where)
            return None
        before = len(self.findings)
        self.unknown_keys(spec, FIELD_KEYS, where, f"`{'.'.join(map(str, where))}`")
        sources: list[Source] = []
        if "sources" in spec:
            if any(key in spec for key in SOURCE_KEYS):
                self.error("schema", "give either `sources` or `from`/`split`/`values`, not both", where)
            raw_sources = spec["sources"]
            if not isinstance(raw_sources, list) or not raw_sources:
                self.error("schema", "`sources` is a list of {from, split, values}", where + ("sources",))
                raw_sources = []
            for index, item in enumerate(raw_sources):
                built = self.source_of(item, where + ("sources", index), kind, check_keys=True)
                if built is not None:
                    sources.append(built)
        elif "from" in spec:
            built = self.source_of({key: spec[key] for key in SOURCE_KEYS if key in spec}, where, kind,
                                   check_keys=False)
            if built is not None:
                sources.append(built)
        elif "default" not in spec:
            self.error("schema", f"`{'.'.join(map(str, where))}` needs `from` (where in the ticket to look), "
                       "`sources`, or a `default`", where)
        default = None
        if spec.get("default") is not None:
            default = self.value_of(kind, spec["default"], where + ("default",), "default")
        required_flag = spec.get("required", required)
        if not isinstance(required_flag, bool):
            self.error("schema", "`required` is true or false", where + ("required",))
            required_flag = required
        if required and required_flag is False:
            self.error("schema", f"`{target}` cannot be optional: every event needs it", where + ("required",))
        if len(self.findings) != before:
            return None
        line = self.source.line_of(where)
        return FieldMap(target, tuple(sources), default, bool(required_flag), line)

    def source_of(self, spec: Any, where: tuple, kind: Target, check_keys: bool) -> Source | None:
        if not isinstance(spec, dict):
            self.error("schema", "a source is a mapping with `from` and optionally `split` and `values`", where)
            return None
        before = len(self.findings)
        if check_keys:
            self.unknown_keys(spec, SOURCE_KEYS, where, "a source")
        raw_from = spec.get("from")
        if raw_from is None:
            self.error("schema", "`from` is required: the ticket path(s) to read", where)
            return None
        texts = raw_from if isinstance(raw_from, list) else [raw_from]
        if not texts or len(texts) > MAX_PATHS:
            self.error("schema", f"`from` lists 1 to {MAX_PATHS} paths", where + ("from",))
        found: list[paths.Path] = []
        for index, text in enumerate(texts):
            at = where + ("from", index) if isinstance(raw_from, list) else where + ("from",)
            if not isinstance(text, str):
                self.error("bad-path", f"a path is text such as ticket.priority, got {text!r}", at)
                continue
            try:
                found.append(paths.parse(text))
            except paths.PathError as exc:
                self.error("bad-path", str(exc), at, "write keys separated by dots, e.g. issue.fields.priority.name")
        split = spec.get("split")
        if split is not None and (not isinstance(split, str) or len(split) != 1):
            self.error("schema", "`split` is one character: \" \" for space-separated tags, \",\" for commas",
                       where + ("split",))
            split = None
        values = None
        if "values" in spec:
            values = self.table(spec["values"], where + ("values",), kind)
        if len(self.findings) != before:
            return None
        return Source(tuple(found), split, values)

    def table(self, raw: Any, where: tuple, kind: Target) -> tuple[tuple[str, Any], ...] | None:
        if not isinstance(raw, dict) or not raw:
            self.error("schema", "`values` maps ticket values to event values, e.g. {urgent: 4, high: 3}", where)
            return None
        if len(raw) > MAX_VALUES:
            self.error("schema", f"`values` has at most {MAX_VALUES} entries", where)
            return None
        rows: list[tuple[str, Any]] = []
        seen: dict[str, Any] = {}
        for key, value in raw.items():
            lookup = lookup_key(key)
            if lookup in seen:
                self.error("duplicate-key", f"`{key}` and `{seen[lookup]}` are the same ticket value (the "
                           "comparison ignores case and surrounding spaces)", where + (key,))
                continue
            seen[lookup] = key
            converted = self.value_of(kind, value, where + (key,), f"the value for `{key}`")
            if converted is not None:
                rows.append((lookup, converted))
        return tuple(rows)

    def value_of(self, kind: Target, value: Any, where: tuple, what: str) -> Any:
        try:
            return convert(kind, value)
        except NotConvertible as exc:
            self.error("bad-value", f"{what}: {exc}", where)
            return None


def load(file: str, raw: bytes, system: str) -> Mapping:
    """The validated mapping in `raw` (read from `file`); RulesetInvalid lists every finding."""
    source, findings = read(file, raw)
    if source is None or findings:
        raise RulesetInvalid(findings)
    if source.data is None:
        raise RulesetInvalid([Finding("error", "empty-file", "the mapping file is empty", file, 1, None,
                                      "see docs/webhooks.md for the format")])
    checker = _Checker(source, system)
    mapping = checker.mapping()
    if mapping is None:
        raise RulesetInvalid(sorted(checker.findings, key=sort_key))
    return mapping
