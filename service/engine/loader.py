"""Loads a rules directory into a validated, engine-agnostic `RulesetDef`.

The loader reads files; nothing else in the engine does (gorules/zen style). A
directory's rules are its top-level `*.yaml` files, read in name order; its
subdirectories hold other material (`cases/`, `invariants/`, `webhooks/`) and names
starting with a dot are skipped, which also skips the `..data` indirection of a
Kubernetes ConfigMap mount. The revision of a ruleset is the SHA-256 of its files.

`load_dir()` and `load_sources()` raise `RulesetInvalid` with every error found;
warnings travel on the result.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from . import conditions, schema
from .findings import Finding, RulesetInvalid, sort_key
from .yamlsource import Source, read

MAX_FILES = 200
MAX_RULES = 5000


@dataclass(frozen=True)
class RuleDef:
    index: int
    id: str
    description: str
    when: conditions.Node | None
    then: schema.Then
    file: str
    line: int | None
    terms: tuple[conditions.Term, ...]


@dataclass(frozen=True)
class RulesetDef:
    meta: schema.Meta
    catalogues: schema.Catalogues
    combine: schema.Combine
    limits: schema.Limits
    costing: schema.Costing
    rules: tuple[RuleDef, ...]
    digest: str
    files: tuple[str, ...]
    tier_rank: Mapping[str, int]
    warnings: tuple[Finding, ...] = field(default=())
    #: where each top-level section was declared: name -> (file, line)
    sections: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)
    #: the files as loaded: name -> bytes
    sources: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def by_id(self) -> dict[str, RuleDef]:
        return {rule.id: rule for rule in self.rules}


def rules_files(directory: Path) -> list[Path]:
    """The files that make up the ruleset in `directory`, in load order."""
    found = []
    for entry in sorted(os.listdir(directory)):
        if entry.startswith(".") or not entry.endswith((".yaml", ".yml")):
            continue
        path = directory / entry
        if path.is_file():
            found.append(path)
    return found


def load_dir(directory: str | os.PathLike[str]) -> RulesetDef:
    return load_sources(read_dir(directory))


def read_dir(directory: str | os.PathLike[str]) -> dict[str, bytes]:
    """The rules files of `directory` by name (raises RulesetInvalid). Findings name files, never
    the directory's path: they are shown by /readyz, which anyone who can reach the service reads."""
    root = Path(directory)
    if not root.is_dir():
        raise RulesetInvalid([Finding("error", "no-directory", "the rules directory does not exist or is not a "
                                      "directory", None, None, None,
                                      "point the service at the directory that holds the rules files")])
    files = rules_files(root)
    if len(files) > MAX_FILES:
        raise RulesetInvalid([Finding("error", "too-many-files", f"{len(files)} rules files; at most {MAX_FILES}",
                                      None, None, None, None)])
    sources: dict[str, bytes] = {}
    for path in files:
        try:
            sources[path.name] = path.read_bytes()
        except OSError as exc:
            raise RulesetInvalid([Finding("error", "unreadable", f"cannot read the file: {exc.strerror}",
                                          path.name, None, None, None)]) from exc
    return sources


def digest_of(sources: Mapping[str, bytes]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(sources):
        raw = sources[name]
        hasher.update(name.encode() + b"\0" + str(len(raw)).encode() + b"\0" + raw)
    return "sha256:" + hasher.hexdigest()


def load_sources(sources: Mapping[str, bytes]) -> RulesetDef:
    """Validate and assemble a ruleset from file name -> bytes (in-memory loader)."""
    return _Assembler(sources).assemble()


class _Assembler:
    def __init__(self, sources: Mapping[str, bytes]):
        self.raw = sources
        self.findings: list[Finding] = []

    def error(self, code: str, message: str, file: str | None, line: int | None = None,
              rule_id: str | None = None, hint: str | None = None) -> None:
        self.findings.append(Finding("error", code, message, file, line, rule_id, hint))

    def warn(self, code: str, message: str, file: str | None, line: int | None = None,
             rule_id: str | None = None, hint: str | None = None) -> None:
        self.findings.append(Finding("warning", code, message, file, line, rule_id, hint))

    def assemble(self) -> RulesetDef:
        if not self.raw:
            self.error("no-rules", "the directory holds no *.yaml rules files", None, None, None,
                       "add a file with a `ruleset:` header, catalogues and rules")
            raise RulesetInvalid(self.findings)
        parsed: list[tuple[Source, schema.RulesFile]] = []
        for name in sorted(self.raw):
            source, findings = read(name, self.raw[name])
            self.findings.extend(findings)
            if source is None or findings:
                continue
            if source.data is None:
                self.warn("empty-file", "the file is empty", name)
                continue
            model = self._validate(source)
            if model is not None:
                parsed.append((source, model))
        if self._errors():
            raise RulesetInvalid(self._sorted())
        return self._merge(parsed)

    def _errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def _sorted(self) -> list[Finding]:
        return sorted(self.findings, key=sort_key)

    def _validate(self, source: Source) -> schema.RulesFile | None:
        if not isinstance(source.data, dict):
            self.error("schema", "a rules file is a mapping with keys ruleset, catalogues, combine, limits, "
                       "costing and rules", source.file, 1)
            return None
        try:
            return schema.RulesFile.model_validate(source.data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                self._schema_finding(source, error)
            return None

    def _schema_finding(self, source: Source, error: Any) -> None:
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
        rule_id = _rule_id(source.data, loc)
        line = source.line_of(loc)
        where = ".".join(str(part) for part in loc) or "the file"
        kind = error["type"]
        hint = None
        if kind == "extra_forbidden":
            key = loc[-1] if loc else "?"
            message = f"unknown key `{key}` under `{'.'.join(str(p) for p in loc[:-1]) or 'the top level'}`"
            guess = difflib.get_close_matches(str(key), _KNOWN_KEYS, n=1)
            hint = f"did you mean `{guess[0]}`?" if guess else "see rules/schema.json for the keys allowed here"
        elif kind == "missing":
            message = f"`{where}` is required"
            hint = f"add `{loc[-1]}:` here (see rules/README.md)"
        else:
            message = f"`{where}`: {error['msg']}"
            if kind in ("string_type", "int_type", "decimal_type", "bool_type") and "input" in error:
                message += f" (got {error['input']!r})"
            hint = _HINTS.get(kind, "see rules/README.md and rules/schema.json for what this key takes")
        self.error("schema", message, source.file, line, rule_id, hint)

    def _merge(self, parsed: list[tuple[Source, schema.RulesFile]]) -> RulesetDef:
        sections: dict[str, tuple[Any, Source]] = {}
        for source, model in parsed:
            for name in ("ruleset", "catalogues", "combine", "limits", "costing"):
                value = getattr(model, name)
                if value is None:
                    continue
                if name in sections:
                    self.error("duplicate-section", f"`{name}` is declared in both {sections[name][1].file} and "
                               f"{source.file}", source.file, source.line_of((name,)), None,
                               "keep one of them")
                else:
                    sections[name] = (value, source)
        for required in ("ruleset", "catalogues"):
            if required not in sections:
                self.error("missing-section", f"no file declares `{required}`", None, None, None,
                           f"add a `{required}:` section to one rules file (see rules/README.md)")
        if self._errors():
            raise RulesetInvalid(self._sorted())
        catalogues: schema.Catalogues = sections["catalogues"][0]
        limits: schema.Limits = sections.get("limits", (schema.Limits(), None))[0]
        currencies = set(catalogues.currencies)
        if "limits" in sections:
            self._check_limits(limits, currencies, sections["limits"][1])

        tier_rank = {tier: rank for rank, tier in enumerate(catalogues.tiers)}
        rules: list[RuleDef] = []
        seen: dict[str, tuple[str, int | None]] = {}
        total = sum(len(model.rules) for _, model in parsed)
        if total > MAX_RULES:
            self.error("too-many-rules", f"{total} rules; a ruleset holds at most {MAX_RULES}", None)
            raise RulesetInvalid(self._sorted())
        for source, model in parsed:
            for position, rule in enumerate(model.rules):
                path = ("rules", position)
                line = source.line_of(path + ("id",)) or source.line_of(path)
                if rule.id in seen:
                    first_file, first_line = seen[rule.id]
                    self.error("duplicate-id", f"rule id `{rule.id}` is already used at {first_file}:{first_line}",
                               source.file, line, rule.id, "give each rule its own id")
                    continue
                seen[rule.id] = (source.file, line)
                built = self._rule(rule, len(rules), source, path, line, catalogues, tier_rank, currencies)
                if built is not None:
                    rules.append(built)
        if not rules and not self._errors():
            self.warn("no-rules", "the ruleset has no rules: every decision will be empty", None)
        if self._errors():
            raise RulesetInvalid(self._sorted())
        return RulesetDef(
            meta=sections["ruleset"][0],
            catalogues=catalogues,
            combine=sections.get("combine", (schema.Combine(), None))[0],
            limits=limits,
            costing=sections.get("costing", (schema.Costing(), None))[0],
            rules=tuple(rules),
            digest=digest_of(self.raw),
            files=tuple(sorted(self.raw)),
            tier_rank=tier_rank,
            warnings=tuple(self._sorted()),
            sections={name: (source.file, source.line_of((name,))) for name, (_, source) in sections.items()},
            sources=dict(self.raw),
        )

    def _check_currencies(self, amounts: dict[str, Any] | None, currencies: set[str], source: Source,
                          path: tuple, rule_id: str | None = None) -> None:
        if amounts is None:
            return
        line = source.line_of(path)
        missing = sorted(currencies - set(amounts))
        extra = sorted(set(amounts) - currencies)
        if missing:
            self.error("currency-missing", f"no amount for {', '.join(missing)}: every currency in the catalogue "
                       "needs one", source.file, line, rule_id, f"add {missing[0]}: \"...\" here")
        if extra:
            self.error("currency-unknown", f"{', '.join(extra)} is not in the currencies catalogue",
                       source.file, line, rule_id, "add it to catalogues.currencies or remove it here")

    def _check_limits(self, limits: schema.Limits, currencies: set[str], source: Source) -> None:
        self._check_currencies(limits.credit.max, currencies, source, ("limits", "credit", "max"))
        previous: schema.AmountBoundary | None = None
        for index, boundary in enumerate(limits.approval.by_amount):
            path = ("limits", "approval", "by_amount", index, "above")
            self._check_currencies(boundary.above, currencies, source, path)
            if previous is not None and _LEVELS[boundary.level] <= _LEVELS[previous.level]:
                self.error("approval-order", "list by_amount boundaries from the lowest level to the highest",
                           source.file, source.line_of(path[:-1]), None, None)
            previous = boundary
        previous_count = 0
        for index, recoveries in enumerate(limits.approval.by_prior_recoveries):
            if recoveries.at_least <= previous_count:
                self.error("approval-order", "list by_prior_recoveries boundaries with rising at_least",
                           source.file, source.line_of(("limits", "approval", "by_prior_recoveries", index)))
            previous_count = recoveries.at_least

    def _rule(self, rule: schema.Rule, index: int, source: Source, path: tuple, line: int | None,
              catalogues: schema.Catalogues, tier_rank: dict[str, int], currencies: set[str]) -> RuleDef | None:
        before = len(self.findings)

        def report(message: str, where: tuple, hint: str | None) -> None:
            self.error("condition", message, source.file, source.line_of(path + ("when",) + where), rule.id, hint)

        def warn(message: str, where: tuple, hint: str | None) -> None:
            self.warn("condition-value", message, source.file, source.line_of(path + ("when",) + where),
                      rule.id, hint)

        parser = conditions.ConditionParser(
            {"failure_types": tuple(catalogues.failure_types), "tiers": catalogues.tiers,
             "currencies": catalogues.currencies, "channels": catalogues.channels},
            report, warn, lambda where: source.line_of(path + ("when",) + where))
        node = None if rule.when is None else parser.parse(rule.when, ())
        for name in ("refund", "credit"):
            spec = getattr(rule.then, name)
            if spec is not None and spec.amount is not None:
                self._check_currencies(spec.amount, currencies, source, path + ("then", name, "amount"), rule.id)
        if len(self.findings) != before and any(f.severity == "error" for f in self.findings[before:]):
            return None
        try:
            terms = conditions.dnf(node, tier_rank)
        except conditions.TooComplex as exc:
            self.error("too-complex", str(exc), source.file, source.line_of(path + ("when",)), rule.id,
                       "split the rule into several rules, or use fewer `in` lists under one `all`")
            return None
        if not terms:
            self.error("never-fires", "the conditions contradict each other, so the rule can never fire",
                       source.file, source.line_of(path + ("when",)), rule.id,
                       "check the values and ranges: no event can meet them all")
            return None
        return RuleDef(index, rule.id, rule.description, node, rule.then, source.file, line, tuple(terms))


_LEVELS = {"agent": 0, "supervisor": 1, "manager": 2}

_HINTS = {
    "literal_error": "use one of the values the message lists",
    "enum": "use one of the values the message lists",
    "string_type": "quote the value",
    "string_pattern_mismatch": "use lowercase letters, digits, '-' and '_'",
    "int_type": "write a whole number without quotes",
    "int_parsing": "write a whole number without quotes",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "decimal_parsing": 'write a decimal amount, e.g. "10.00"',
    "decimal_max_places": "use fewer decimal places",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "less_than": "use a smaller value",
    "dict_type": "write a mapping (key: value)",
    "list_type": "write a list ([a, b] or one `- item` per line)",
    "too_short": "add at least one item",
    "value_error": "see rules/README.md for what this key takes",
}


def _rule_id(data: Any, loc: tuple) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rule_id = rules[loc[1]].get("id")
            return rule_id if isinstance(rule_id, str) else None
    return None


def _model_keys(models: Iterable[type]) -> list[str]:
    keys: set[str] = set()
    for model in models:
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            keys.add(info.alias or name)
    return sorted(keys)


_KNOWN_KEYS = _model_keys([
    schema.RulesFile, schema.Meta, schema.Catalogues, schema.FailureType, schema.Combine, schema.Limits,
    schema.RefundLimit, schema.CreditLimit, schema.DiscountLimit, schema.TotalLimit, schema.Approval,
    schema.AmountBoundary, schema.RecoveriesBoundary, schema.Costing, schema.Rule, schema.Then,
    schema.RefundSpec, schema.CreditSpec, schema.DiscountSpec, schema.ApologySpec, schema.Unaddressed,
])
