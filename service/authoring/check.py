"""`recovery rules check`: validate a rules directory and lint it.

Errors (exit status 1) are everything that stops the rules from loading: schema
violations, duplicate ids, unknown fields, values outside closed catalogues,
contradictions (a rule that can never fire), per-currency amounts that miss a
catalogue currency, rules the engine cannot hold, and broken case or invariant
files. Warnings (exit status 0) are what loads but is probably a mistake:
- a rule's contribution that never takes effect, because another rule matches
  every event it matches with an equal or stronger value, and first-wins ties
  that rule order decides (overlaps where each rule still wins somewhere are the
  intended use of combining and are not reported);
- an amount compared without a condition on its currency;
- approval boundaries that do not rise with the level;
- values outside the open catalogues (failure types, channels), unless close to a
  catalogued value: a misspelling is an error;
and the likely mistakes in `mistakes.py` (amounts off the rate table, percents over the
limits, failure types and kinds the catalogue rules out, tier equality for "at least").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import compiler, conditions
from ..engine.findings import Finding, RulesetInvalid, sort_key
from ..engine.loader import RuleDef, RulesetDef, load_dir
from ..engine.vocabulary import Vocabulary
from .cases import load_cases
from .invariants import load_invariants
from .mistakes import escalate_misspellings
from .mistakes import find as likely_mistakes

#: Overlap analysis compares rules pairwise; beyond this many pairs it is skipped.
MAX_OVERLAP_PAIRS = 200_000

COMPONENTS = ("refund", "credit", "discount", "replacement", "apology", "respond_within_minutes",
              "follow_up_within_hours", "approval")


@dataclass
class CheckReport:
    findings: list[Finding]
    ruleset: RulesetDef | None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def check_dir(directory: str | Path) -> CheckReport:
    root = Path(directory)
    try:
        ruleset = load_dir(root)
    except RulesetInvalid as exc:
        return CheckReport(sorted(exc.findings, key=sort_key), None)
    findings = escalate_misspellings(list(ruleset.warnings))
    try:
        compiler.compile_ruleset(ruleset)
    except compiler.CompileError as exc:
        findings.append(Finding("error", "engine-limit", str(exc), exc.rule.file, exc.rule.line, exc.rule.id,
                                "split the rule into narrower rules"))
    findings += lint(ruleset)
    findings += load_cases(root / "cases")[1]
    findings += load_invariants(root / "invariants", ruleset)[1]
    return CheckReport(sorted(findings, key=sort_key), ruleset)


def lint(ruleset: RulesetDef) -> list[Finding]:
    return _overlaps(ruleset) + _amounts_without_currency(ruleset) + _approval_boundaries(ruleset) + \
        likely_mistakes(ruleset)


def _value(rule: RuleDef, component: str) -> Any:
    value = getattr(rule.then, component)
    if value is None:
        return None
    return value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} {_show(item)}" for key, item in value.items() if item is not None)
    return str(value)


def _meet(left: conditions.Term, right: conditions.Term, vocabulary: Vocabulary) -> conditions.Term | None:
    return conditions.simplify(left + right, vocabulary)


def _witness(term: conditions.Term) -> str:
    parts = []
    for path, op, value in term:
        path = "customer.tier rank" if path.endswith("#rank") else path
        symbol = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "ex": "present",
                  "nex": "absent"}[op]
        parts.append(f"{path} {symbol}" if value is None else f"{path} {symbol} {value}")
    return " and ".join(parts) or "every event"


def _implies(term: conditions.Term, other: conditions.Term, vocabulary: Vocabulary) -> bool:
    """Every event meeting `term` also meets `other`."""
    return _meet(term, other, vocabulary) == conditions.simplify(term, vocabulary)


def _covers(wide: RuleDef, narrow: RuleDef, vocabulary: Vocabulary) -> bool:
    """`wide` matches every event `narrow` matches."""
    return all(any(_implies(term, other, vocabulary) for other in wide.terms) for term in narrow.terms)


_APOLOGY = {"none": 0, "standard": 1, "sincere": 2, "personal": 3}
_LEVEL = {"agent": 0, "supervisor": 1, "manager": 2}


def _at_least_as_strong(component: str, strong: Any, weak: Any, levels: Any) -> bool | None:
    """Whether `strong` always wins over (or ties with) `weak`; None when they do not compare."""
    if component in ("refund", "credit"):
        if strong.get("percent_of_order") is not None and weak.get("percent_of_order") is not None:
            return float(strong["percent_of_order"]) >= float(weak["percent_of_order"])
        if strong.get("amount") and weak.get("amount"):
            return all(float(strong["amount"][c]) >= float(weak["amount"][c]) for c in weak["amount"])
        return None
    if component == "discount":
        return bool(strong["percent"] >= weak["percent"])
    if component == "apology":
        return _APOLOGY[strong["level"]] >= _APOLOGY[weak["level"]] and _LEVEL[strong["from"]] >= _LEVEL[weak["from"]]
    if component in ("respond_within_minutes", "follow_up_within_hours"):
        return bool(strong <= weak)
    if component == "approval":
        return bool(levels[strong] >= levels[weak])
    return None


def _overlaps(ruleset: RulesetDef) -> list[Finding]:
    """Contributions that can never take effect, and ties that rule order decides.

    A rule's contribution to a component never takes effect when another rule
    matches every event it matches and contributes an equal or stronger value
    (under `largest`, `highest` and `shortest`). Under first-wins (`replacement`)
    or on a tie with different details, rule order silently decides. Overlaps
    where each rule still wins for some events are the intended use of combining
    and are not reported.
    """
    findings: list[Finding] = []
    pairs = 0
    setters_by = {component: [rule for rule in ruleset.rules if getattr(rule.then, component) is not None]
                  for component in COMPONENTS}
    pairs = sum(len(rules) * (len(rules) - 1) for rules in setters_by.values())
    if pairs > MAX_OVERLAP_PAIRS:
        return [Finding("warning", "overlap-skipped", f"overlap analysis skipped: {pairs} rule pairs to compare "
                        f"(limit {MAX_OVERLAP_PAIRS})", None, None, None, None)]
    summed = {name for name, how in ruleset.combine.model_dump().items() if how == "sum"}
    vocabulary = ruleset.vocabulary
    for component, setters in setters_by.items():
        if component in summed:
            continue
        reported: set[str] = set()
        for weak in setters:
            for strong in setters:
                if strong is weak or weak.id in reported:
                    continue
                if None not in (weak.then.alternative, strong.then.alternative) and \
                        weak.then.alternative != strong.then.alternative:
                    continue  # options of different alternatives never combine
                weak_value, strong_value = _value(weak, component), _value(strong, component)
                if component == "replacement":
                    if weak_value == strong_value or strong.index > weak.index:
                        continue
                    meet = next((term for a in strong.terms for b in weak.terms
                                 if (term := _meet(a, b, vocabulary)) is not None), None)
                    if meet is not None:
                        reported.add(weak.id)
                        findings.append(Finding(
                            "warning", "overlap",
                            f"`{weak.id}` and `{strong.id}` both set replacement when {_witness(meet)} "
                            f"({weak_value} vs {strong_value}); the earlier rule, `{strong.id}`, always wins there",
                            weak.file, weak.line, weak.id,
                            "narrow one rule's `when`, or move the rule that should win first"))
                    continue
                stronger = _at_least_as_strong(component, strong_value, weak_value, ruleset.level_rank)
                if not stronger or not _covers(strong, weak, vocabulary):
                    continue
                if weak_value == strong_value and strong.index > weak.index:
                    continue  # report a duplicate once, on the later rule
                reported.add(weak.id)
                same = weak_value == strong_value
                findings.append(Finding(
                    "warning", "overlap",
                    f"`{weak.id}` sets {component} ({_show(weak_value)}) but `{strong.id}` matches every event it "
                    f"matches and sets {'the same' if same else _show(strong_value)}, so `{weak.id}`'s "
                    f"{component} never takes effect",
                    weak.file, weak.line, weak.id,
                    f"remove {component} from `{weak.id}`, or narrow `{strong.id}`'s `when`"))
    return findings


def _amounts_without_currency(ruleset: RulesetDef) -> list[Finding]:
    findings = []
    pairs = {"order.amount.amount": "order.amount.currency",
             "customer.lifetime_value.amount": "customer.lifetime_value.currency"}
    for rule in ruleset.rules:
        for term in rule.terms:
            paths = {atom[0] for atom in term}
            missing = [amount for amount, currency in pairs.items()
                       if amount in paths and currency not in paths
                       and any(atom[0] == amount and atom[1] not in ("ex", "nex") for atom in term)]
            if missing:
                findings.append(Finding(
                    "warning", "amount-without-currency",
                    f"`{missing[0]}` is compared without a condition on `{pairs[missing[0]]}`: the same number "
                    "means different money in different currencies", rule.file, rule.line, rule.id,
                    f"add `{pairs[missing[0]]}: EUR` (one rule per currency) to the condition"))
                break
    return findings


def _approval_boundaries(ruleset: RulesetDef) -> list[Finding]:
    findings = []
    file, line = ruleset.sections.get("limits", (None, None))
    boundaries = ruleset.limits.approval.by_amount
    for lower, higher in zip(boundaries, boundaries[1:]):
        for currency, amount in higher.above.items():
            if amount <= lower.above.get(currency, amount):
                findings.append(Finding(
                    "warning", "approval-boundaries",
                    f"the {higher.level} boundary ({amount} {currency}) is not above the {lower.level} boundary "
                    f"({lower.above[currency]} {currency})", file, line, None,
                    f"raise limits.approval.by_amount {higher.level} above.{currency}"))
    return findings
