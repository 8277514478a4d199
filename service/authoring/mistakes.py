"""Analysts' likely mistakes in rules that load: what `recovery rules check` adds to the loader's findings.

Each check reads the loaded ruleset (catalogues, the currency rate table, the limits)
and reports with the rule's file, line and id:
- `amount-off-rate` (error): a fixed amount whose currencies disagree with the rate table
  by 10x or more (`"1650"` USD beside `"16.50"` EUR), a decimal point lost or added;
- `percent-over-limit` (error): a goodwill `percent_of_order` (or a discount's `percent`)
  above what `limits` allow, which the limits would silently clip on every decision;
- `impossible-type-kind` (error when the whole rule can never fire, else a warning): a
  condition on a failure type and on a `failure.kind` the catalogue does not give that type;
- `tier-equals` (warning): `customer.tier: gold` matches gold alone, not the tiers above it,
  where `{at_least: gold}` is usually meant.
Misspelt catalogue values are the loader's `condition-value` warnings with a close match;
`escalate_misspellings` turns those into `misspelt-value` errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

from ..engine.findings import Finding
from ..engine.loader import RuleDef, RulesetDef

#: A currency amount this many times off its rate-table value (either way) is a typo.
OFF_BY = Decimal(10)


def find(ruleset: RulesetDef) -> list[Finding]:
    return [*_amounts_off_rate(ruleset), *_percents_over_limits(ruleset), *_impossible_type_kind(ruleset),
            *_tier_equals(ruleset)]


def escalate_misspellings(findings: list[Finding]) -> list[Finding]:
    """A value outside an open catalogue (failure types, channels) that is close to a catalogued one is a
    typo, not a new value: the rule would silently never fire. Other unknown values stay warnings."""
    out = []
    for finding in findings:
        if finding.code == "condition-value" and (finding.hint or "").startswith("did you mean"):
            finding = Finding("error", "misspelt-value", finding.message + "; a rule on it never fires", finding.file,
                              finding.line, finding.rule_id, finding.hint)
        out.append(finding)
    return out


# --------------------------------------------------------------------------- amounts vs the rate table

def _per_currency(value: Any, where: str) -> Iterator[tuple[str, dict[str, Decimal]]]:
    """Every {currency: amount} mapping inside a dumped `then` or limits section, with its place."""
    if isinstance(value, dict):
        if value and all(isinstance(key, str) and len(key) == 3 and key.isupper() for key in value) and \
                all(isinstance(item, Decimal) for item in value.values()):
            yield where, value
            return
        for key, item in value.items():
            yield from _per_currency(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _per_currency(item, f"{where}[{index}]")


def _off_rate(amounts: dict[str, Decimal], ruleset: RulesetDef) -> list[tuple[str, Decimal, Decimal]]:
    """(currency, written, expected) for each currency 10x or more off the base amount by the rate table."""
    table = ruleset.currency
    if table is None or table.base not in amounts or amounts[table.base] == 0:
        return []
    base = amounts[table.base]
    off = []
    for currency, amount in sorted(amounts.items()):
        rate = table.rates.get(currency)
        if currency == table.base or rate is None or amount == 0:
            continue
        expected = base * rate
        ratio = amount / expected
        if ratio >= OFF_BY or ratio <= 1 / OFF_BY:
            off.append((currency, amount, expected))
    return off


def _amounts_off_rate(ruleset: RulesetDef) -> list[Finding]:
    findings = []
    places: list[tuple[str, Any, str | None, int | None, str | None]] = [
        (f"then.{rule.id}", rule.then.model_dump(), rule.file, rule.line, rule.id) for rule in ruleset.rules]
    for section in ("limits", "costing"):
        file, line = ruleset.sections.get(section, (None, None))
        places.append((section, getattr(ruleset, section).model_dump(), file, line, None))
    for prefix, dumped, file, line, rule_id in places:
        for where, amounts in _per_currency(dumped, ""):
            for currency, written, expected in _off_rate(amounts, ruleset):
                base = ruleset.currency.base  # type: ignore[union-attr]
                findings.append(Finding(
                    "error", "amount-off-rate",
                    f"`{where}` gives {written} {currency} beside {amounts[base]} {base}; the rate table makes that "
                    f"about {expected.normalize():f} {currency} ({(written / expected).quantize(Decimal('0.01'))}x "
                    "off: a decimal point lost or added?)", file, line, rule_id,
                    f"write {currency} as about {expected.normalize():f}, or leave it out and let the rate table "
                    "convert it"))
    return findings


# --------------------------------------------------------------------------- percents vs the limits

def _percents(rule: RuleDef, component: str) -> Iterator[tuple[str, Decimal]]:
    for where, spec in ((f"then.{component}", getattr(rule.then, component)),
                        (f"then.add.{component}", getattr(rule.then.add, component) if rule.then.add else None)):
        if spec is None:
            continue
        if spec.percent_of_order is not None:
            yield f"{where}.percent_of_order", spec.percent_of_order
        if spec.table is not None:
            for number, band in enumerate(spec.table.bands):
                if band.percent_of_order is not None:
                    yield f"{where}.table.bands[{number}].percent_of_order", band.percent_of_order


def _percents_over_limits(ruleset: RulesetDef) -> list[Finding]:
    limits = ruleset.limits
    total = limits.total.max_percent_of_order if limits.total is not None else None
    caps = {"refund": [("limits.refund.max_percent_of_order", limits.refund.max_percent_of_order)],
            "credit": [("limits.credit.max_percent_of_order", limits.credit.max_percent_of_order)]}
    findings = []
    for rule in ruleset.rules:
        for component, named in caps.items():
            bounds = [(name, cap) for name, cap in [*named, ("limits.total.max_percent_of_order", total)]
                      if cap is not None]
            for where, percent in _percents(rule, component):
                over = [(name, cap) for name, cap in bounds if percent > cap]
                if over:
                    name, cap = min(over, key=lambda item: item[1])
                    findings.append(Finding(
                        "error", "percent-over-limit",
                        f"`{where}` is {percent}% but {name} is {cap}%: every decision clips it to {cap}%",
                        rule.file, rule.line, rule.id, f"write at most {cap}, or raise {name} if more is meant"))
        if rule.then.discount is not None and rule.then.discount.percent > limits.discount.max_percent:
            findings.append(Finding(
                "error", "percent-over-limit",
                f"`then.discount.percent` is {rule.then.discount.percent}% but limits.discount.max_percent is "
                f"{limits.discount.max_percent}%: every decision clips it", rule.file, rule.line, rule.id,
                f"write at most {limits.discount.max_percent}, or raise limits.discount.max_percent"))
    return findings


# --------------------------------------------------------------------------- conditions the catalogue rules out

def _impossible(term: tuple, types: dict[str, Any]) -> str | None:
    """Why the catalogue makes this conjunction impossible, or None."""
    named = [value for path, op, value in term if path == "failure.type" and op == "eq"]
    for failure_type in named:
        declared = types.get(failure_type)
        if declared is None:
            continue
        kind = getattr(declared, "kind", None)
        for path, op, value in term:
            if path != "failure.kind":
                continue
            if op == "eq" and value != kind:
                return f"`{failure_type}` is of kind `{kind}`, not `{value}`"
            if op == "ne" and value == kind:
                return f"`{failure_type}` is of kind `{kind}`"
            if op == "nex" and kind is not None:
                return f"`{failure_type}` always has kind `{kind}`"
    return None


def _impossible_type_kind(ruleset: RulesetDef) -> list[Finding]:
    types = dict(ruleset.catalogues.failure_types)
    findings = []
    for rule in ruleset.rules:
        reasons = [reason for term in rule.terms if (reason := _impossible(term, types)) is not None]
        if not reasons:
            continue
        whole = len(reasons) == len(rule.terms)
        findings.append(Finding(
            "error" if whole else "warning", "impossible-type-kind",
            f"{reasons[0]} in the catalogue, so " + ("the rule never fires" if whole else
                                                     "part of its condition never matches"),
            rule.file, rule.line, rule.id,
            "drop the `failure.kind` condition, or name types of that kind (catalogues.failure_types)"))
    return findings


# --------------------------------------------------------------------------- tier equality

def _tier_equals(ruleset: RulesetDef) -> list[Finding]:
    tiers = list(ruleset.catalogues.tiers)
    if len(tiers) < 2:
        return []
    findings = []
    for rule in ruleset.rules:
        named = sorted({value for term in rule.terms for path, op, value in term
                        if path == "customer.tier" and op == "eq" and value != tiers[-1]}, key=tiers.index)
        if not named:
            continue
        tier = named[0]
        above = tiers[tiers.index(tier) + 1:]
        findings.append(Finding(
            "warning", "tier-equals",
            f"`customer.tier: {tier}` matches {tier} customers only: {', '.join(above)} customers, above them, "
            "do not get this", rule.file, rule.line, rule.id,
            f"did you mean `customer.tier: {{at_least: {tier}}}`?"))
    return findings
