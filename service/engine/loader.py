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

from . import conditions, schema, templates
from . import facts as facts_module
from . import vocabulary as vocab
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
    facts: Mapping[str, schema.FactDecl] = field(default_factory=dict)
    currency: schema.CurrencyTable | None = None
    alternatives: tuple[schema.Alternative, ...] = ()
    messages: schema.Messages | None = None
    vocabulary: vocab.Vocabulary = vocab.STATIC
    #: approval level -> rank (0 is the frontline: no approval needed)
    level_rank: Mapping[str, int] = field(default_factory=lambda: {"agent": 0, "supervisor": 1, "manager": 2})
    #: caller profiles (`profiles:`): name -> stricter limits for that kind of caller
    profiles: Mapping[str, schema.Profile] = field(default_factory=dict)

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


MAX_INCLUDE_DEPTH = 3


def read_dir(directory: str | os.PathLike[str]) -> dict[str, bytes]:
    """The rules files of `directory` by name, with the files of the directories its header
    includes named by their path from it (`packs/eu261/20-eu261.yaml`); raises RulesetInvalid.
    Findings name files, never the directory's path: they are shown by /readyz, which anyone
    who can reach the service reads."""
    root = Path(directory)
    if not root.is_dir():
        raise RulesetInvalid([Finding("error", "no-directory", "the rules directory does not exist or is not a "
                                      "directory", None, None, None,
                                      "point the service at the directory that holds the rules files")])
    sources: dict[str, bytes] = {}
    _read_into(sources, root, "", [root.resolve()])
    if len(sources) > MAX_FILES:
        raise RulesetInvalid([Finding("error", "too-many-files", f"{len(sources)} rules files; at most {MAX_FILES}",
                                      None, None, None, None)])
    return sources


def _read_into(sources: dict[str, bytes], directory: Path, prefix: str, chain: list[Path]) -> None:
    files = rules_files(directory)
    if len(files) > MAX_FILES:
        raise RulesetInvalid([Finding("error", "too-many-files", f"{len(files)} rules files; at most {MAX_FILES}",
                                      prefix or None, None, None, None)])
    own: dict[str, bytes] = {}
    for path in files:
        try:
            own[prefix + path.name] = path.read_bytes()
        except OSError as exc:
            raise RulesetInvalid([Finding("error", "unreadable", f"cannot read the file: {exc.strerror}",
                                          prefix + path.name, None, None, None)]) from exc
    sources.update(own)
    for name, include in includes_of(own):
        target = (directory / include).resolve()
        if target in chain:
            raise RulesetInvalid([Finding("error", "include", f"`{include}` includes a directory that includes it "
                                          "back", name, None, None, "include each pack once, without a cycle")])
        if len(chain) > MAX_INCLUDE_DEPTH:
            raise RulesetInvalid([Finding("error", "include", f"includes nest deeper than {MAX_INCLUDE_DEPTH}",
                                          name, None, None, None)])
        if not target.is_dir():
            raise RulesetInvalid([Finding("error", "include", f"`{include}` is not a rules directory", name, None,
                                          None, "give the path of a pack's directory, relative to this one")])
        _read_into(sources, target, prefix + include.strip("/") + "/", chain + [target])


def includes_of(sources: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(file, path) of every directory the `ruleset:` headers among `sources` include. Files that do not
    parse are left to the loader, which reports them."""
    found = []
    for name in sorted(sources):
        source, findings = read(name, sources[name])
        if source is None or findings or not isinstance(source.data, dict):
            continue
        header = source.data.get("ruleset")
        listed = header.get("include") if isinstance(header, dict) else None
        if isinstance(listed, list):
            found.extend((name, item) for item in listed if isinstance(item, str) and item.strip())
    return found


def included_directories(directory: Path) -> list[Path]:
    """The directories `directory`'s ruleset includes, transitively (for watching them)."""
    try:
        sources = read_dir(directory)
    except RulesetInvalid:
        return []
    out = []
    for name in sources:
        if "/" in name:
            folder = (directory / name.rsplit("/", 1)[0]).resolve()
            if folder not in out:
                out.append(folder)
    return out


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
        sources: list[Source] = []
        for name in sorted(self.raw):
            source, findings = read(name, self.raw[name])
            self.findings.extend(findings)
            if source is None or findings:
                continue
            if source.data is None:
                self.warn("empty-file", "the file is empty", name)
                continue
            sources.append(source)
        # Amounts may be written once in a base currency: the rate table is read first and
        # every per-currency amount is completed from it while the files validate.
        context = {"currency": self._currency_table(sources)}
        parsed: list[tuple[Source, schema.RulesFile]] = []
        for source in sources:
            model = self._validate(source, context)
            if model is not None:
                parsed.append((source, model))
        if self._errors():
            raise RulesetInvalid(self._sorted())
        return self._merge(parsed)

    def _errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def _sorted(self) -> list[Finding]:
        return sorted(self.findings, key=sort_key)

    @staticmethod
    def _currency_table(sources: list[Source]) -> schema.CurrencyTable | None:
        for source in sources:
            if isinstance(source.data, dict) and isinstance(source.data.get("currency"), dict):
                try:
                    return schema.CurrencyTable.model_validate(source.data["currency"])
                except ValidationError:
                    return None  # reported with its file when the file validates
        return None

    def _validate(self, source: Source, context: dict[str, Any]) -> schema.RulesFile | None:
        if not isinstance(source.data, dict):
            self.error("schema", "a rules file is a mapping with keys ruleset, catalogues, facts, currency, "
                       "alternatives, combine, limits, costing, messages and rules", source.file, 1)
            return None
        try:
            return schema.RulesFile.model_validate(source.data, context=context)
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
        declared_facts: dict[str, schema.FactDecl] = {}
        fact_sources: dict[str, Source] = {}
        included: list[tuple[Source, schema.RulesFile]] = []
        for source, model in parsed:
            if "/" in source.file:  # a file of an included directory (a pack): merged below
                included.append((source, model))
                for fact_name, fact in (model.facts or {}).items():
                    if fact_name in declared_facts and declared_facts[fact_name] != fact:
                        self.error("duplicate-fact", f"fact `{fact_name}` is declared differently in "
                                   f"{fact_sources[fact_name].file} and {source.file}", source.file,
                                   source.line_of(("facts", fact_name)), None, "declare each fact once, or alike")
                    elif fact_name not in declared_facts:
                        declared_facts[fact_name] = fact
                        fact_sources[fact_name] = source
                continue
            for name in ONCE:
                value = getattr(model, name)
                if value is None:
                    continue
                if name in sections:
                    self.error("duplicate-section", f"`{name}` is declared in both {sections[name][1].file} and "
                               f"{source.file}", source.file, source.line_of((name,)), None,
                               "keep one of them")
                else:
                    sections[name] = (value, source)
            for fact_name, fact in (model.facts or {}).items():
                if fact_name in declared_facts:
                    self.error("duplicate-fact", f"fact `{fact_name}` is declared in both "
                               f"{fact_sources[fact_name].file} and {source.file}", source.file,
                               source.line_of(("facts", fact_name)), None, "declare each fact once")
                    continue
                declared_facts[fact_name] = fact
                fact_sources[fact_name] = source
                sections.setdefault("facts", (None, source))
        for required in ("ruleset", "catalogues"):
            if required not in sections:
                self.error("missing-section", f"no file declares `{required}`", None, None, None,
                           f"add a `{required}:` section to one rules file (see rules/README.md)")
        if self._errors():
            raise RulesetInvalid(self._sorted())
        for source, model in included:
            self._merge_included(sections, source, model)
        if self._errors():
            raise RulesetInvalid(self._sorted())
        table: schema.CurrencyTable | None = sections.get("currency", (None, None))[0]
        catalogues: schema.Catalogues = self._catalogues(sections["catalogues"][0], sections["catalogues"][1], table)
        limits: schema.Limits = sections.get("limits", (schema.Limits(), None))[0]
        costing: schema.Costing = sections.get("costing", (schema.Costing(), None))[0]
        currencies = set(catalogues.currencies)
        level_rank = {level: rank for rank, level in enumerate(catalogues.approval_levels)}
        if "limits" in sections:
            self._check_limits(limits, currencies, level_rank, sections["limits"][1])
        if "costing" in sections:
            self._check_currencies(costing.discount_basis_max, currencies, sections["costing"][1],
                                   ("costing", "discount_basis_max"))
        for fact_name, fact in declared_facts.items():
            self._check_fact(fact_name, fact, catalogues, fact_sources[fact_name])
        profiles: dict[str, schema.Profile] = sections.get("profiles", ({}, None))[0]
        for profile_name, profile in profiles.items():
            where = sections["profiles"][1]
            self._check_currencies(profile.frontline_max, currencies, where, ("profiles", profile_name,
                                                                              "frontline_max"))
            self._check_level(profile.approval, level_rank, where, ("profiles", profile_name, "approval"))
            if level_rank.get(profile.approval) == 0:
                self.error("approval-level", f"profiles.{profile_name}.approval: the frontline level cannot "
                           "approve", where.file, where.line_of(("profiles", profile_name, "approval")), None,
                           "name a level above the frontline, e.g. supervisor")
        alternatives: tuple[schema.Alternative, ...] = tuple(sections.get("alternatives", ((), None))[0])
        if "alternatives" in sections:
            seen_alternatives: set[str] = set()
            for index, alternative in enumerate(alternatives):
                if alternative.id in seen_alternatives:
                    self.error("duplicate-alternative", f"alternative `{alternative.id}` is declared twice",
                               sections["alternatives"][1].file,
                               sections["alternatives"][1].line_of(("alternatives", index)))
                seen_alternatives.add(alternative.id)
        vocabulary = vocab.Vocabulary.build(facts_module.fields(declared_facts)
                                            + (list(vocab.BASE_FIELDS) if table is not None else []))
        messages: schema.Messages | None = sections.get("messages", (None, None))[0]
        if messages is not None:
            self._check_messages(messages, catalogues, sections["messages"][1], sections)

        tier_rank = {tier: rank for rank, tier in enumerate(catalogues.tiers)}
        rules: list[RuleDef] = []
        seen: dict[str, tuple[str, int | None]] = {}
        total = sum(len(model.rules) for _, model in parsed)
        if total > MAX_RULES:
            self.error("too-many-rules", f"{total} rules; a ruleset holds at most {MAX_RULES}", None)
            raise RulesetInvalid(self._sorted())
        scope = _Scope(catalogues, tier_rank, currencies, vocabulary, declared_facts,
                       {alternative.id for alternative in alternatives}, level_rank)
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
                built = self._rule(rule, len(rules), source, path, line, scope)
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
            costing=costing,
            rules=tuple(rules),
            digest=digest_of(self.raw),
            files=tuple(sorted(self.raw)),
            tier_rank=tier_rank,
            warnings=tuple(self._sorted()),
            sections={name: (source.file, source.line_of((name,))) for name, (_, source) in sections.items()},
            sources=dict(self.raw),
            facts=declared_facts,
            currency=table,
            alternatives=alternatives,
            messages=messages,
            vocabulary=vocabulary,
            level_rank=level_rank,
            profiles=profiles,
        )

    def _merge_included(self, sections: dict[str, tuple[Any, Source]], source: Source,
                        model: schema.RulesFile) -> None:
        """A pack's failure types, alternatives and message texts join the ruleset's; its header, limits,
        combining, costing and currencies give way to the including ruleset's."""
        if model.catalogues is not None and "catalogues" in sections:
            mine, where = sections["catalogues"]
            types = dict(mine.failure_types)
            for name, entry in model.catalogues.failure_types.items():
                if name in types and (types[name].category, types[name].kind) != (entry.category, entry.kind):
                    self.error("include", f"failure type `{name}` is {entry.category}/{entry.kind} in {source.file} "
                               f"but {types[name].category}/{types[name].kind} in {where.file}", source.file,
                               source.line_of(("catalogues", "failure_types", name)), None,
                               "give the type the same category and kind in both")
                types.setdefault(name, entry)
            sections["catalogues"] = (mine.model_copy(update={"failure_types": types}), where)
        if model.alternatives:
            mine_alternatives, where = sections.get("alternatives", ([], source))
            merged = list(mine_alternatives)
            known = {alternative.id: alternative for alternative in merged}
            for alternative in model.alternatives:
                if alternative.id not in known:
                    merged.append(alternative)
                elif known[alternative.id] != alternative:
                    self.error("include", f"alternative `{alternative.id}` is declared differently in {source.file}",
                               source.file, source.line_of(("alternatives",)), None, "declare it alike, or rename it")
            sections["alternatives"] = (merged, where)
        if model.messages is not None:
            mine_messages, where = sections.get("messages", (None, source))
            sections["messages"] = (_merged_messages(mine_messages, model.messages), where)

    def _catalogues(self, catalogues: schema.Catalogues, source: Source,
                    table: schema.CurrencyTable | None) -> schema.Catalogues:
        if not catalogues.currencies:
            if table is None:
                self.error("schema", "`catalogues.currencies` is required", source.file,
                           source.line_of(("catalogues",)), None,
                           "list the currencies the ruleset decides in, or declare a `currency:` rate table")
                raise RulesetInvalid(self._sorted())
            return catalogues.model_copy(update={"currencies": table.currencies})
        return catalogues

    def _check_fact(self, name: str, fact: schema.FactDecl, catalogues: schema.Catalogues, source: Source) -> None:
        where = source.line_of(("facts", name))
        for failure_type in fact.required_for:
            if failure_type != "*" and failure_type not in catalogues.failure_types:
                self.warn("fact-required-for", f"fact `{name}` is required for `{failure_type}`, which is not in "
                          "the failure_types catalogue", source.file, where, None,
                          "name a catalogued failure type, or `*` for every type")
        if fact.default is not None:
            _, expected = facts_module.typed(fact, _default_value(fact), None)
            if expected is not None:
                self.error("fact-default", f"fact `{name}`'s default {fact.default!r} is not {expected}",
                           source.file, where, None, None)

    def _check_messages(self, messages: schema.Messages, catalogues: schema.Catalogues, source: Source,
                        sections: dict[str, tuple[Any, Source]]) -> None:
        from babel import Locale, UnknownLocaleError

        if messages.default_locale not in messages.locales:
            self.error("messages", f"the default locale `{messages.default_locale}` has no texts under "
                       "`messages.locales`", source.file, source.line_of(("messages", "default_locale")))
        for tag, texts in messages.locales.items():
            path = ("messages", "locales", tag)
            try:
                Locale.parse(tag, sep="-")
            except (UnknownLocaleError, ValueError) as exc:
                self.error("messages", f"locale `{tag}` is not a locale money can be formatted for: {exc}",
                           source.file, source.line_of(path), None, "use a BCP 47 tag such as en, id, zh-CN, lv")
            for where, template, allowed in templates.slots(texts):
                problem = templates.problems(template, allowed)
                if problem is not None:
                    self.error("template", f"messages.locales.{tag}.{'.'.join(where)}: {problem}", source.file,
                               source.line_of(path + where), None, "see rules/README.md, Messages")
            for failure_type in texts.failure_types:
                if failure_type not in catalogues.failure_types:
                    self.warn("template", f"messages.locales.{tag}.failure_types names `{failure_type}`, which is "
                              "not in the failure_types catalogue", source.file,
                              source.line_of(path + ("failure_types", failure_type)))
            for alternative in texts.alternatives:
                if alternative not in {item.id for item in sections.get("alternatives", ((), None))[0] or ()}:
                    self.error("template", f"messages.locales.{tag}.alternatives names `{alternative}`, which is "
                               "not a declared alternative", source.file,
                               source.line_of(path + ("alternatives", alternative)))
            for level in texts.levels:
                if level not in catalogues.approval_levels:
                    self.error("template", f"messages.locales.{tag}.levels names `{level}`, which is not an "
                               "approval level", source.file, source.line_of(path + ("levels", level)))

    def _check_currencies(self, amounts: dict[str, Any] | None, currencies: set[str], source: Source,
                          path: tuple, rule_id: str | None = None) -> None:
        if amounts is None:
            return
        line = source.line_of(path)
        missing = sorted(currencies - set(amounts))
        extra = sorted(set(amounts) - currencies)
        if missing:
            self.error("currency-missing", f"no amount for {', '.join(missing)}: every currency in the catalogue "
                       "needs one", source.file, line, rule_id,
                       f"add {missing[0]}: \"...\" here, or declare a `currency:` rate table and give the base "
                       "currency's amount")
        if extra:
            self.error("currency-unknown", f"{', '.join(extra)} is not in the currencies catalogue",
                       source.file, line, rule_id, "add it to catalogues.currencies or remove it here")

    def _check_level(self, level: str, level_rank: Mapping[str, int], source: Source, path: tuple,
                     rule_id: str | None = None) -> None:
        if level not in level_rank:
            self.error("approval-level", f"`{level}` is not an approval level ({', '.join(level_rank)})",
                       source.file, source.line_of(path), rule_id,
                       _suggest_level(level, level_rank) or "declare it in catalogues.approval_levels")

    def _check_limits(self, limits: schema.Limits, currencies: set[str], level_rank: Mapping[str, int],
                      source: Source) -> None:
        self._check_currencies(limits.credit.max, currencies, source, ("limits", "credit", "max"))
        previous: schema.AmountBoundary | None = None
        for index, boundary in enumerate(limits.approval.by_amount):
            path = ("limits", "approval", "by_amount", index, "above")
            self._check_currencies(boundary.above, currencies, source, path)
            self._check_level(boundary.level, level_rank, source, path[:-1] + ("level",))
            if previous is not None and level_rank.get(boundary.level, 0) <= level_rank.get(previous.level, 0):
                self.error("approval-order", "list by_amount boundaries from the lowest level to the highest",
                           source.file, source.line_of(path[:-1]), None, None)
            previous = boundary
        previous_count = 0
        for index, recoveries in enumerate(limits.approval.by_prior_recoveries):
            path = ("limits", "approval", "by_prior_recoveries", index)
            self._check_level(recoveries.level, level_rank, source, path + ("level",))
            if recoveries.at_least <= previous_count:
                self.error("approval-order", "list by_prior_recoveries boundaries with rising at_least",
                           source.file, source.line_of(path))
            previous_count = recoveries.at_least

    def _check_amount(self, spec: schema._AmountForms | None, scope: "_Scope", source: Source, path: tuple,
                      rule_id: str) -> None:
        """Currencies, facts and fields an amount refers to."""
        if spec is None:
            return
        for name in ("amount", "min", "max"):
            self._check_currencies(getattr(spec, name), scope.currencies, source, path + (name,), rule_id)

        def fact_of(name: str, types: tuple[str, ...], where: tuple, what: str) -> None:
            fact = scope.facts.get(name)
            if fact is None or fact.type not in types:
                declared = [fact_name for fact_name, decl in scope.facts.items() if decl.type in types]
                self.error("amount", f"`{name}` is not a declared {what} fact", source.file,
                           source.line_of(path + where), rule_id,
                           f"declare it under `facts:` with type {' or '.join(types)}"
                           + (f" (declared: {', '.join(declared)})" if declared else ""))

        if spec.percent_of_fact is not None:
            fact_of(spec.percent_of_fact.fact, ("money",), ("percent_of_fact", "fact"), "money")
        if spec.per is not None:
            fact_of(spec.per, ("integer",), ("per",), "integer")
        if spec.pro_rata is not None:
            for part in ("part", "whole"):
                value = getattr(spec.pro_rata, part)
                if isinstance(value, str):
                    self._check_numeric_field(value, scope, source, path + ("pro_rata", part), rule_id)
                elif part == "whole" and value <= 0:
                    self.error("amount", "pro_rata.whole must be above 0", source.file,
                               source.line_of(path + ("pro_rata", part)), rule_id)
        table = getattr(spec, "table", None)
        if table is not None:
            self._check_numeric_field(table.by, scope, source, path + ("table", "by"), rule_id)
            for index, band in enumerate(table.bands):
                self._check_amount(band, scope, source, path + ("table", "bands", index), rule_id)

    def _check_numeric_field(self, name: str, scope: "_Scope", source: Source, path: tuple, rule_id: str) -> None:
        field = scope.vocabulary.get(name)
        if field is None or field.kind not in ("int", "decimal"):
            numeric = [path for path, item in scope.vocabulary.fields.items() if item.kind in ("int", "decimal")]
            guess = difflib.get_close_matches(name, numeric, n=1)
            self.error("amount", f"`{name}` is not a numeric field or fact", source.file, source.line_of(path),
                       rule_id, f"did you mean `{guess[0]}`?" if guess else "name a number field such as "
                       "facts.<an integer or number fact>")

    def _rule(self, rule: schema.Rule, index: int, source: Source, path: tuple, line: int | None,
              scope: "_Scope") -> RuleDef | None:
        before = len(self.findings)

        def report(message: str, where: tuple, hint: str | None) -> None:
            self.error("condition", message, source.file, source.line_of(path + ("when",) + where), rule.id, hint)

        def warn(message: str, where: tuple, hint: str | None) -> None:
            self.warn("condition-value", message, source.file, source.line_of(path + ("when",) + where),
                      rule.id, hint)

        catalogues = scope.catalogues
        parser = conditions.ConditionParser(
            {"failure_types": tuple(catalogues.failure_types), "tiers": catalogues.tiers,
             "currencies": catalogues.currencies, "channels": catalogues.channels},
            report, warn, lambda where: source.line_of(path + ("when",) + where), scope.vocabulary)
        node = None if rule.when is None else parser.parse(rule.when, ())
        then = rule.then
        for name in ("refund", "credit"):
            self._check_amount(getattr(then, name), scope, source, path + ("then", name), rule.id)
            if then.add is not None:
                self._check_amount(getattr(then.add, name), scope, source, path + ("then", "add", name), rule.id)
        for number, owed in enumerate(then.owed or ()):
            self._check_amount(owed, scope, source, path + ("then", "owed", number), rule.id)
        if then.replacement is not None:
            self._check_amount(then.replacement.value, scope, source, path + ("then", "replacement", "value"),
                               rule.id)
        if then.approval is not None:
            self._check_level(then.approval, scope.level_rank, source, path + ("then", "approval"), rule.id)
        if then.alternative is not None and then.alternative not in scope.alternatives:
            known = ", ".join(sorted(scope.alternatives)) or "none"
            self.error("alternative", f"`{then.alternative}` is not a declared alternative (declared: {known})",
                       source.file, source.line_of(path + ("then", "alternative")), rule.id,
                       "declare it under `alternatives:` or leave `alternative` out")
        texts = sorted(name for name in _tested_fields(rule.when) if _is_free_text(name, scope.facts))
        gives = [key for key in MONEY_KEYS if getattr(then, key) is not None]
        if texts and gives:
            self.error("free-text-money", f"the rule gives {', '.join(gives)} on free text ({', '.join(texts)}): "
                       "what a customer or an agent writes must never move money or eligibility", source.file,
                       source.line_of(path + ("when",)), rule.id,
                       "test a typed field or a declared fact instead; a rule on free text may set approval, "
                       "apology, explanation, deadlines or a review")
        if len(self.findings) != before and any(f.severity == "error" for f in self.findings[before:]):
            return None
        try:
            terms = conditions.dnf(node, scope.tier_rank, scope.vocabulary)
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


#: What a rule may not contribute when its conditions test free text (prompt injection must not move money).
MONEY_KEYS = ("refund", "credit", "discount", "replacement", "owed", "alternative", "add", "multiply",
              "money_back_only")


def _tested_fields(when: Any) -> set[str]:
    """The field names a `when` block tests, at any depth of all / any / not."""
    found: set[str] = set()
    if isinstance(when, list):
        for item in when:
            found |= _tested_fields(item)
    elif isinstance(when, dict):
        for key, value in when.items():
            if key in ("all", "any", "not"):
                found |= _tested_fields(value)
            else:
                found.add(str(key))
    return found


def _is_free_text(name: str, facts: Mapping[str, schema.FactDecl]) -> bool:
    if name == "failure.description":
        return True
    fact = facts.get(name[len("facts."):]) if name.startswith("facts.") else None
    return fact is not None and fact.type == "text"


#: Sections a ruleset declares at most once (`facts` may be spread over files).
ONCE = ("ruleset", "catalogues", "currency", "alternatives", "combine", "limits", "costing", "messages",
        "profiles")


@dataclass(frozen=True)
class _Scope:
    """What a rule is checked against."""

    catalogues: schema.Catalogues
    tier_rank: Mapping[str, int]
    currencies: set[str]
    vocabulary: vocab.Vocabulary
    facts: Mapping[str, schema.FactDecl]
    alternatives: set[str]
    level_rank: Mapping[str, int]


def _merged_messages(mine: schema.Messages | None, theirs: schema.Messages) -> schema.Messages:
    """The including ruleset's texts, with a pack's filling what they leave out (locales, labels, lines)."""
    if mine is None:
        return theirs
    locales = dict(mine.locales)
    for tag, texts in theirs.locales.items():
        own = locales.get(tag)
        if own is None:
            locales[tag] = texts
            continue
        update: dict[str, Any] = {}
        for table in ("failure_types", "replacements", "levels", "owed_kinds", "alternatives"):
            update[table] = {**getattr(texts, table), **getattr(own, table)}
        for part in ("apology", "explanation", "agent_note"):
            own_part, their_part = getattr(own, part), getattr(texts, part)
            filled = {key: value for key, value in their_part.model_dump().items() if value is not None}
            filled.update({key: value for key, value in own_part.model_dump().items() if value is not None})
            update[part] = type(own_part).model_validate(filled)
        locales[tag] = own.model_copy(update=update)
    return mine.model_copy(update={"locales": locales})


def _default_value(fact: schema.FactDecl) -> Any:
    from decimal import Decimal

    if fact.type == "number" and isinstance(fact.default, (int, float, str)) and not isinstance(fact.default, bool):
        try:
            return Decimal(str(fact.default))
        except ArithmeticError:
            return fact.default
    return fact.default


def _suggest_level(level: str, level_rank: Mapping[str, int]) -> str | None:
    guess = difflib.get_close_matches(level, list(level_rank), n=1)
    return f"did you mean `{guess[0]}`?" if guess else None


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
    schema.FactDecl, schema.CurrencyTable, schema.Alternative, schema.OwedSpec, schema.ReplacementSpec,
    schema.AddSpec, schema.MultiplySpec, schema.Bands, schema.Band, schema.ProRata, schema.FactPercent,
    schema.Messages, schema.LocaleTexts, schema.ApologyTexts, schema.ExplanationTexts, schema.NoteTexts,
    schema.Profile,
])
