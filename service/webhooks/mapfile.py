"""Reads and validates one mapping file (`rules/webhooks/<system>.yaml`) and phrase files.

The files are ops-edited, so they are checked as strictly as a rules file and
every mistake comes back as a `Finding` with the file, the line and what was
expected (unknown keys with a "did you mean", bad paths, `values` entries that are
not a valid event value, missing required fields, a phrase listed for two values).
`load()` returns the validated `Mapping`, or raises `RulesetInvalid` carrying
every finding; warnings (a phrase that can never decide) are kept on the mapping.

    system: zendesk                 # must match the file name
    root: [record, result]          # optional: every path below is read inside the first that exists
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
      order.amount.amount:
        from: ticket.tags
        split: " "
        band: true                  # the values are a band's lower bound, and the answer says so
        values: {order_value_500_plus: "500.00"}
    signals:
      text: [ticket.subject, ticket.description]   # where the customer's own words are
      phrases: signals.yaml         # a phrase file beside this one, or the phrase sets inline
    writeback:                      # optional: where the vendor's API finds the ticket
      record: {from: ticket.sys_id} # default: the ticket id
      table: {from: ticket.sys_class_name, default: incident}   # ServiceNow only

A phrase file maps event fields to values to phrases (see `signals`):

    failure.type:
      double_charge: [charged twice, double charged]
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

from ..engine.findings import Finding, RulesetInvalid, sort_key
from ..engine.yamlsource import Source as YamlSource
from ..engine.yamlsource import read
from . import paths, signals
from .mapping import FieldMap, Mapping, Source
from .targets import (RAISED_BY_TEXT, REQUIRED, SIGNAL_KINDS, TARGETS, TICKET_ID, NotConvertible, Target, convert,
                      lookup_key, target_for)

TOP_KEYS = ("system", "description", "root", "ticket_id", "ticket_status", "fields", "signals", "writeback")
FIELD_KEYS = ("from", "split", "values", "band", "sources", "default", "required")
SOURCE_KEYS = ("from", "split", "values", "band")
SIGNAL_KEYS = ("text", "phrases")
WRITEBACK_KEYS = ("record", "table")
MAX_PATHS = 20
MAX_VALUES = 1000
MAX_PHRASES = 2000
PHRASE_FILE_SUFFIX = ".yaml"

ReadShared = Callable[[str], bytes]
"""Reads a phrase file named in a mapping (a file name in the same directory); OSError when absent."""


class _Checker:
    def __init__(self, source: YamlSource, system: str):
        self.source = source
        self.file = source.file
        self.system = system
        self.findings: list[Finding] = []

    def error(self, code: str, message: str, where: tuple, hint: str | None = None) -> None:
        self.findings.append(Finding("error", code, message, self.file, self.source.line_of(where), None, hint))

    def warning(self, code: str, message: str, where: tuple, hint: str | None = None) -> None:
        self.findings.append(Finding("warning", code, message, self.file, self.source.line_of(where), None, hint))

    def unknown_keys(self, data: dict[Any, Any], allowed: tuple[str, ...], where: tuple, what: str) -> None:
        for key in data:
            if key not in allowed:
                guess = difflib.get_close_matches(str(key), allowed, n=1)
                self.error("unknown-key", f"unknown key `{key}` in {what}; expected {', '.join(allowed)}",
                           where + (key,), f"did you mean `{guess[0]}`?" if guess else None)

    def target(self, name: Any, where: tuple, what: str) -> Target | None:
        found = target_for(str(name))
        if found is None:
            guess = difflib.get_close_matches(str(name), list(TARGETS), n=1)
            self.error("unknown-field", f"`{name}` is not an event field {what}; expected one of "
                       f"{', '.join(TARGETS)}", where, f"did you mean `{guess[0]}`?" if guess else None)
        return found

    # ------------------------------------------------------------------ the mapping file

    def mapping(self, read_shared: ReadShared | None) -> Mapping | None:
        data = self.source.data
        if not isinstance(data, dict):
            self.error("schema", "a mapping file is a mapping with keys system, ticket_id and fields", ())
            return None
        self.unknown_keys(data, TOP_KEYS, (), "the file")
        if data.get("system") != self.system:
            self.error("system", f"`system` is {data.get('system')!r}; this file maps `{self.system}` tickets",
                       ("system",), f"write `system: {self.system}`")
        root = self.paths_of(data["root"], ("root",)) if "root" in data else ()
        ticket_id = None
        if "ticket_id" not in data:
            self.error("missing", "`ticket_id` is required: the event id is the system name plus the ticket id",
                       (), "add `ticket_id: {from: <path of the ticket id>}`")
        else:
            ticket_id = self.field("ticket_id", data["ticket_id"], ("ticket_id",), TICKET_ID, required=True)
        ticket_status = None
        if "ticket_status" in data:  # optional: the ledger records the ticket's status with each delivery
            ticket_status = self.field("ticket_status", data["ticket_status"], ("ticket_status",), TICKET_ID,
                                       required=False)
        fields: list[FieldMap] = []
        raw_fields = data.get("fields")
        fields_given = isinstance(raw_fields, dict)
        if not isinstance(raw_fields, dict):
            self.error("schema", "`fields` is required: a mapping from event fields to ticket fields",
                       ("fields",), "see docs/webhooks.md for an example")
            raw_fields = {}
        for name, spec in raw_fields.items():
            kind = self.target(name, ("fields", name), "a mapping can fill")
            if kind is None:
                continue
            built = self.field(str(name), spec, ("fields", name), kind, required=name in REQUIRED)
            if built is not None:
                fields.append(built)
        for name in REQUIRED:
            if fields_given and name not in raw_fields:
                self.error("missing", f"`fields.{name}` is required: every event needs it", ("fields",),
                           f"add `{name}:` with `from` (and `values`) or a `default`")
        texts, phrase_sets, shared = self.signals(data.get("signals"), read_shared)
        writeback = self.writeback(data.get("writeback"))
        if any(finding.severity == "error" for finding in self.findings) or ticket_id is None:
            return None
        warnings = tuple(finding for finding in self.findings if finding.severity == "warning")
        return Mapping(self.system, self.file, ticket_id, tuple(fields), ticket_status=ticket_status, root=root,
                       texts=texts,
                       phrases=phrase_sets, writeback=writeback, shared_files=shared, warnings=warnings)

    def paths_of(self, raw: Any, where: tuple) -> tuple[paths.Path, ...]:
        texts = raw if isinstance(raw, list) else [raw]
        if not texts or len(texts) > MAX_PATHS:
            self.error("schema", f"give 1 to {MAX_PATHS} paths", where)
            return ()
        found: list[paths.Path] = []
        for index, text in enumerate(texts):
            at = where + (index,) if isinstance(raw, list) else where
            if not isinstance(text, str):
                self.error("bad-path", f"a path is text such as ticket.priority, got {text!r}", at)
                continue
            try:
                found.append(paths.parse(text))
            except paths.PathError as exc:
                self.error("bad-path", str(exc), at, "write keys separated by dots, e.g. issue.fields.priority.name")
        return tuple(found)

    def field(self, target: str, spec: Any, where: tuple, kind: Target, required: bool) -> FieldMap | None:
        dotted = ".".join(map(str, where))
        if not isinstance(spec, dict):
            self.error("schema", f"`{dotted}` is a mapping with `from` (and optionally split, values, band, "
                       "default, required) or `sources`", where)
            return None
        before = len(self.findings)
        self.unknown_keys(spec, FIELD_KEYS, where, f"`{dotted}`")
        sources: list[Source] = []
        if "sources" in spec:
            if any(key in spec for key in SOURCE_KEYS):
                self.error("schema", "give either `sources` or `from`/`split`/`values`/`band`, not both", where)
            raw_sources = spec["sources"]
            if not isinstance(raw_sources, list) or not raw_sources:
                self.error("schema", "`sources` is a list of {from, split, values, band}", where + ("sources",))
                raw_sources = []
            for index, item in enumerate(raw_sources):
                built = self.source_of(target, item, where + ("sources", index), kind, check_keys=True)
                if built is not None:
                    sources.append(built)
        elif "from" in spec:
            built = self.source_of(target, {key: spec[key] for key in SOURCE_KEYS if key in spec}, where, kind,
                                   check_keys=False)
            if built is not None:
                sources.append(built)
        elif "default" not in spec:
            self.error("schema", f"`{dotted}` needs `from` (where in the ticket to look), `sources`, or a "
                       "`default`", where)
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
        return FieldMap(target, tuple(sources), default, bool(required_flag), self.source.line_of(where))

    def source_of(self, target: str, spec: Any, where: tuple, kind: Target, check_keys: bool) -> Source | None:
        if not isinstance(spec, dict):
            self.error("schema", "a source is a mapping with `from` and optionally `split`, `values` and `band`",
                       where)
            return None
        before = len(self.findings)
        if check_keys:
            self.unknown_keys(spec, SOURCE_KEYS, where, "a source")
        if spec.get("from") is None:
            self.error("schema", "`from` is required: the ticket path(s) to read", where)
            return None
        found = self.paths_of(spec["from"], where + ("from",))
        split = spec.get("split")
        if split is not None and (not isinstance(split, str) or len(split) != 1):
            self.error("schema", "`split` is one character: \" \" for space-separated tags, \",\" for commas",
                       where + ("split",))
            split = None
        values = None
        if "values" in spec:
            values = self.table(spec["values"], where + ("values",), kind)
        band = spec.get("band", False)
        if not isinstance(band, bool):
            self.error("schema", "`band` is true or false", where + ("band",))
        elif band and not (kind.kind == "decimal" and "values" in spec):
            self.error("schema", "`band: true` is for an amount read through `values` (a tag such as "
                       "order_value_500_plus standing for at least 500.00)", where + ("band",),
                       f"remove `band` from `{target}`, or add `values`")
        if len(self.findings) != before:
            return None
        return Source(found, split, values, band is True)

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

    # ------------------------------------------------------------------ signals and write-back

    def signals(self, raw: Any, read_shared: ReadShared | None
                ) -> tuple[tuple[paths.Path, ...], tuple[signals.PhraseSet, ...], tuple[str, ...]]:
        if raw is None:
            return (), (), ()
        where: tuple = ("signals",)
        if not isinstance(raw, dict):
            self.error("schema", "`signals` is a mapping with `text` (the ticket paths holding the customer's "
                       "words) and `phrases` (a phrase file's name, or the phrase sets)", where)
            return (), (), ()
        self.unknown_keys(raw, SIGNAL_KEYS, where, "`signals`")
        if "text" not in raw or "phrases" not in raw:
            self.error("schema", "`signals` needs both `text` and `phrases`", where,
                       "e.g. `signals: {text: [ticket.subject, ticket.description], phrases: signals.yaml}`")
            return (), (), ()
        texts = self.paths_of(raw["text"], where + ("text",))
        phrases = raw["phrases"]
        if isinstance(phrases, str):
            return texts, self.shared_phrases(phrases, where + ("phrases",), read_shared), (phrases,)
        return texts, self.phrase_sets(phrases, where + ("phrases",)), ()

    def shared_phrases(self, name: str, where: tuple, read_shared: ReadShared | None
                       ) -> tuple[signals.PhraseSet, ...]:
        if "/" in name or "\\" in name or not name.endswith(PHRASE_FILE_SUFFIX) or name.startswith("."):
            self.error("schema", f"`{name}` is not a phrase file's name: name a .yaml file in the same directory",
                       where, "e.g. `phrases: signals.yaml`")
            return ()
        if read_shared is None:
            self.error("unreadable", f"the phrase file `{name}` cannot be read here", where)
            return ()
        try:
            raw = read_shared(name)
        except OSError as exc:
            self.error("unreadable", f"cannot read the phrase file `{name}`: {exc.strerror or exc}", where,
                       f"add {name} beside {self.file}, or give the phrase sets inline")
            return ()
        try:
            return load_phrases(name, raw)
        except RulesetInvalid as exc:
            self.error("phrases-invalid", f"the phrase file `{name}` does not load: "
                       f"{exc.findings[0].render() if exc.findings else 'no findings'}", where,
                       f"run `python -m service.webhooks check` for every finding in {name}")
            return ()

    def phrase_sets(self, raw: Any, where: tuple) -> tuple[signals.PhraseSet, ...]:
        if not isinstance(raw, dict) or not raw:
            self.error("schema", "phrase sets map event fields to values to phrases, e.g. "
                       "`failure.type: {double_charge: [charged twice]}`", where)
            return ()
        out: list[signals.PhraseSet] = []
        total = 0
        for name, rows in raw.items():
            at = where + (name,)
            kind = self.target(name, at, "phrases can set")
            if kind is None:
                continue
            if kind.kind not in SIGNAL_KINDS:
                self.error("schema", f"`{name}` cannot be set by phrases (it is {kind.kind}); phrases set "
                           "types, causes, severities, tiers, channels, requests and flags", at)
                continue
            if not isinstance(rows, dict) or not rows:
                self.error("schema", f"`{name}` maps values to lists of phrases, e.g. `customer: [my mistake]`", at)
                continue
            built: list[signals.Row] = []
            for value, phrases in rows.items():
                row_at = at + (value,)
                converted = self.value_of(kind, value, row_at, f"`{value}`")
                if not isinstance(phrases, list) or not phrases:
                    self.error("empty-list", f"`{name}: {value}` lists no phrases; give a list such as "
                               "[charged twice, double charged], or remove the entry", row_at)
                    continue
                good = []
                for index, phrase in enumerate(phrases):
                    why = signals.problem(phrase)
                    if why is not None:
                        self.error("bad-phrase", why, row_at + (index,))
                    else:
                        good.append(phrase)
                total += len(good)
                if converted is not None and good:
                    built.append(signals.Row(converted, tuple(good), self.source.line_of(row_at)))
            if total > MAX_PHRASES:
                self.error("schema", f"at most {MAX_PHRASES} phrases per file", at)
            self.clashes(str(name), tuple(built), at)
            out.append(signals.PhraseSet(str(name), tuple(built), f"{self.file}:{self.source.line_of(at)}"))
        return tuple(out)

    def clashes(self, name: str, rows: tuple[signals.Row, ...], where: tuple) -> None:
        for clash in signals.clashes(rows, ordered=name not in RAISED_BY_TEXT):
            line = clash.line
            if clash.kind == "twice":
                message = (f"`{clash.phrase}` is listed under `{clash.value}` and already under "
                           f"`{clash.other_value}` of `{name}`")
                self.findings.append(Finding("error", "phrase-twice", message if clash.value != clash.other_value
                                             else f"`{clash.phrase}` is listed twice under `{clash.value}`",
                                             self.file, line, None, "keep it under the one value it stands for"))
            else:
                self.findings.append(Finding(
                    "warning", "phrase-shadowed", f"`{clash.phrase}` (`{clash.value}`) can never decide "
                    f"`{name}`: `{clash.other_phrase}` (`{clash.other_value}`), listed earlier, matches wherever "
                    "it does", self.file, line, None, f"move `{clash.value}` above `{clash.other_value}`, or drop "
                    "one of the phrases"))

    def writeback(self, raw: Any) -> dict[str, FieldMap]:
        if raw is None:
            return {}
        where: tuple = ("writeback",)
        if not isinstance(raw, dict):
            self.error("schema", "`writeback` is a mapping with `record` (and for ServiceNow `table`)", where)
            return {}
        self.unknown_keys(raw, WRITEBACK_KEYS, where, "`writeback`")
        if "table" in raw and self.system != "servicenow":
            self.error("schema", "`writeback.table` is for ServiceNow, whose records live in several tables",
                       where + ("table",))
        out: dict[str, FieldMap] = {}
        for key in WRITEBACK_KEYS:
            if key in raw:
                built = self.field(f"writeback.{key}", raw[key], where + (key,), TICKET_ID, required=False)
                if built is not None:
                    out[key] = built
        return out


def _read(file: str, raw: bytes) -> YamlSource:
    source, findings = read(file, raw)
    if source is None or findings:
        raise RulesetInvalid(findings)
    if source.data is None:
        raise RulesetInvalid([Finding("error", "empty-file", "the file is empty", file, 1, None,
                                      "see docs/webhooks.md for the format")])
    return source


def load(file: str, raw: bytes, system: str, read_shared: ReadShared | None = None) -> Mapping:
    """The validated mapping in `raw` (read from `file`); RulesetInvalid lists every error.
    `read_shared` reads the phrase file a mapping names (`signals.phrases`)."""
    checker = _Checker(_read(file, raw), system)
    mapping = checker.mapping(read_shared)
    if mapping is None:
        raise RulesetInvalid(sorted(checker.findings, key=sort_key))
    return mapping


def load_phrases(file: str, raw: bytes) -> tuple[signals.PhraseSet, ...]:
    """The phrase sets of a phrase file; RulesetInvalid lists every error."""
    return _phrases(file, raw)[0]


def check_phrases(file: str, raw: bytes) -> list[Finding]:
    """Every finding of a phrase file, errors and warnings (`python -m service.webhooks check`)."""
    try:
        return _phrases(file, raw)[1]
    except RulesetInvalid as exc:
        return exc.findings


def _phrases(file: str, raw: bytes) -> tuple[tuple[signals.PhraseSet, ...], list[Finding]]:
    checker = _Checker(_read(file, raw), "")
    sets = checker.phrase_sets(checker.source.data, ())
    if any(finding.severity == "error" for finding in checker.findings):
        raise RulesetInvalid(sorted(checker.findings, key=sort_key))
    return sets, sorted(checker.findings, key=sort_key)

