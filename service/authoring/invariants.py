"""Invariants: properties every decision of a ruleset must have, checked over generated events.

Declared beside the rules in `invariants/*.yaml`:

    invariants:
      - id: cost-rises-with-severity
        description: amounts match the failure's magnitude (Smith, Bolton & Wagner 1999)
        check: cost_monotonic_in_severity
      - id: no-money-for-customer-caused-below-platinum
        check: no_money
        when: {failure.root_cause: customer, customer.tier: {at_most: gold}}
        components: [refund, credit, discount]

Checks (`CHECKS`): `cost_monotonic_in_severity` (one more severity never costs
less), `cost_monotonic_in_tier` (one tier higher never costs less), `no_money` (the
listed components stay empty), `no_goodwill` (nothing in them beyond what is owed),
`within_caps` (no goodwill component above its cap), `justice_addressed` (all three
dimensions addressed), `never_less_money` (the event with `change` applied, e.g.
`{failure.recurring: true}` or a declared fact such as `{facts.passengers: 2}`, never gets
less refund + credit), `owed_paid_in_full`
(the mix holds every owed line in full), `no_double_remedy` (no option gives both a
replacement and the whole amount at stake back). `when` narrows the events a check
applies to, in the same grammar as a rule's `when`; its top-level fact equalities
(`facts.passengers: 1`, `failure.type: x`) are set on the generated events, so they are not checked vacuously.

Events are generated from the ruleset's catalogues with hypothesis; a violation
is shrunk to the smallest event that breaks the invariant, which is printed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from .. import money
from ..engine import conditions
from ..engine import facts as facts_module
from ..engine.findings import Finding
from ..engine.loader import RulesetDef
from ..engine.registry import Snapshot
from ..engine.schema import FactDecl
from ..engine.yamlsource import read
from ..models import FailureEvent
from ..recovery.decide import decide
from ..recovery.normalize import EventRejected, normalize

CHECKS = {
    "cost_monotonic_in_severity": "one more severity never costs less",
    "cost_monotonic_in_tier": "one tier higher never costs less",
    "no_money": "the listed components (default refund, credit, discount) stay empty",
    "no_goodwill": "no goodwill in the listed components: only what is owed is paid",
    "within_caps": "no goodwill component above its cap",
    "justice_addressed": "all three justice dimensions are addressed",
    "never_less_money": "the event with `change` applied never gets less money (refund + credit) than without",
    "owed_paid_in_full": "every owed line is paid in full: the mix's refund and credit hold at least what is owed",
    "no_double_remedy": "no option gives both a replacement and a refund of the whole amount at stake",
}
MONEY_COMPONENTS = ("refund", "credit", "discount", "replacement")


@dataclass(frozen=True)
class Invariant:
    id: str
    description: str
    check: str
    when: conditions.Node | None
    components: tuple[str, ...]
    file: str
    line: int | None
    change: tuple[tuple[str, Any], ...] = ()
    pins: tuple[tuple[str, Any], ...] = ()
    """The `when`'s top-level equalities (`facts.passengers: 1`), set on every generated event."""


@dataclass(frozen=True)
class Violation:
    invariant: Invariant
    event: dict[str, Any]
    detail: str


def load_invariants(directory: Path, ruleset: RulesetDef) -> tuple[list[Invariant], list[Finding]]:
    out: list[Invariant] = []
    findings: list[Finding] = []
    if not directory.is_dir():
        return out, findings
    for path in sorted(directory.glob("*.yaml")):
        name = f"{directory.name}/{path.name}"
        source, problems = read(name, path.read_bytes())
        findings += problems
        if source is None or problems:
            continue
        items = source.data.get("invariants") if isinstance(source.data, dict) else None
        if not isinstance(items, list):
            findings.append(Finding("error", "invariants", "an invariants file holds `invariants:`, a list", name, 1))
            continue
        for index, raw in enumerate(items):
            line = source.line_of(("invariants", index))
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                findings.append(Finding("error", "invariants", "every invariant needs an `id`", name, line))
                continue
            unknown = set(raw) - {"id", "description", "check", "when", "components", "change"}
            if unknown:
                findings.append(Finding("error", "invariants", f"unknown key(s) {', '.join(sorted(unknown))}",
                                        name, line, raw["id"], "keys: id, description, check, when, components, "
                                        "change"))
                continue
            if raw.get("check") not in CHECKS:
                findings.append(Finding("error", "invariants", f"`check` must be one of {', '.join(CHECKS)}",
                                        name, source.line_of(("invariants", index, "check")) or line, raw["id"],
                                        None))
                continue
            components = raw.get("components", list(MONEY_COMPONENTS))
            if not isinstance(components, list) or not set(components) <= set(MONEY_COMPONENTS):
                findings.append(Finding("error", "invariants", f"`components` lists {', '.join(MONEY_COMPONENTS)}",
                                        name, line, raw["id"], None))
                continue
            change = raw.get("change") or {}
            changeable = set(_CHANGEABLE) | {facts_module.PREFIX + fact for fact in ruleset.facts}
            if raw["check"] == "never_less_money" and (not isinstance(change, dict) or not change or
                                                       not set(change) <= changeable):
                findings.append(Finding("error", "invariants", "`never_less_money` needs `change`, a mapping of "
                                        f"{', '.join(_CHANGEABLE)} or a declared `facts.<name>` to a value",
                                        name, line, raw["id"], None))
                continue
            node = None
            if raw.get("when") is not None:
                errors: list[str] = []
                parser = conditions.ConditionParser(
                    {"failure_types": tuple(ruleset.catalogues.failure_types), "tiers": ruleset.catalogues.tiers,
                     "currencies": ruleset.catalogues.currencies, "channels": ruleset.catalogues.channels},
                    lambda message, where, hint: errors.append(message), lambda *args: None,
                    lambda where: source.line_of(("invariants", index, "when") + where), ruleset.vocabulary)
                node = parser.parse(raw["when"], ())
                if node is None:
                    findings.append(Finding("error", "invariants", f"`when`: {errors[0]}", name,
                                            source.line_of(("invariants", index, "when")), raw["id"], None))
                    continue
            out.append(Invariant(raw["id"], str(raw.get("description", "")), raw["check"], node,
                                 tuple(components), name, line, tuple(sorted(change.items())),
                                 _pins(raw.get("when"))))
    return out, findings


_CHANGEABLE = ("failure.recurring", "failure.severity", "customer.tier", "customer.prior_recoveries_90d",
               "context.minutes_since_report", "failure.value_received")


def _edges(ruleset: RulesetDef) -> dict[str, set[Decimal]]:
    """The numbers each fact is compared with in the rules' conditions (`facts.x: {lte: 120}`):
    generated events try them and their neighbours, where a policy's bands change."""
    found: dict[str, set[Decimal]] = {}

    def walk(node: conditions.Node | None) -> None:
        if isinstance(node, conditions.FieldTest):
            if node.field.startswith(facts_module.PREFIX):
                for _, value in node.ops:
                    for item in value if isinstance(value, (list, tuple)) else (value,):
                        if isinstance(item, (int, Decimal)) and not isinstance(item, bool):
                            found.setdefault(node.field[len(facts_module.PREFIX):], set()).add(Decimal(item))
        elif isinstance(node, (conditions.AllOf, conditions.AnyOf)):
            for item in node.items:
                walk(item)
        elif isinstance(node, conditions.NotOf):
            walk(node.item)

    for rule in ruleset.rules:
        walk(rule.when)
    return found


def _fact_values(fact: FactDecl, edges: Iterable[Decimal] = ()) -> st.SearchStrategy[Any]:
    if fact.type == "boolean":
        return st.booleans()
    if fact.type == "slug":
        return st.sampled_from(list(fact.values or ()))
    if fact.type == "text":
        return st.text(max_size=20)
    low = fact.minimum if fact.minimum is not None else Decimal(0)
    high = fact.maximum if fact.maximum is not None else low + 10000
    step = Decimal(1) if fact.type == "integer" else Decimal("0.01")
    near = sorted({edge + delta for edge in edges for delta in (-step, Decimal(0), step)
                   if low <= edge + delta <= high})
    if fact.type == "integer":
        whole = st.integers(int(low), int(high))
        return st.one_of(st.sampled_from([int(value) for value in near]), whole) if near else whole
    anywhere = st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False)
    # A JSON number, as an integrator sends it (a string is not a number fact); two places stay exact.
    return (st.one_of(st.sampled_from(near), anywhere) if near else anywhere).map(float)


def events(ruleset: RulesetDef) -> st.SearchStrategy[dict[str, Any]]:
    """Valid events for the ruleset, drawn from its catalogues and facts (as JSON-ready dicts)."""
    catalogues = ruleset.catalogues
    edges = _edges(ruleset)

    def amount(currency: str) -> st.SearchStrategy[str]:
        places = money.minor_unit(currency) or 0
        typical = [money.fmt(money.normalize(Decimal(value), currency))
                   for value in ("12", "49.99", "80", "250", "1200", "4800")]
        return st.one_of(st.sampled_from(typical),
                         st.decimals(min_value=0, max_value=5000, places=places, allow_nan=False,
                                     allow_infinity=False).map(lambda value: f"{value:f}"))

    def money_in(currency: str) -> st.SearchStrategy[dict[str, str]]:
        return amount(currency).map(lambda value: {"amount": value, "currency": currency})

    def event_in(currency: str) -> st.SearchStrategy[dict[str, Any]]:
        failure = st.sampled_from([*catalogues.failure_types, "uncatalogued_failure"]).flatmap(
            lambda name: st.fixed_dictionaries({"type": st.just(name)}) if name in catalogues.failure_types
            else st.fixed_dictionaries({"type": st.just(name), "category": st.sampled_from(["outcome", "process"])})
        ).flatmap(lambda head: st.fixed_dictionaries({
            **{key: st.just(value) for key, value in head.items()},
            "severity": st.integers(1, 5),
            "root_cause": st.sampled_from(["provider", "customer", "third_party", "unknown"]),
            "recurring": st.booleans(),
        }, optional={"value_received": st.sampled_from(["none", "partial", "full"])}))
        customer = st.fixed_dictionaries({"tier": st.sampled_from(catalogues.tiers),
                                          "prior_recoveries_90d": st.integers(0, 8)},
                                         optional={"lifetime_value": money_in(currency)})
        context = st.fixed_dictionaries({}, optional={
            "channel": st.sampled_from(list(catalogues.channels) or ["web"]),
            "minutes_since_report": st.one_of(st.integers(0, 90), st.integers(2800, 6000)),
            "customer_request": st.sampled_from(["refund", "credit", "discount", "replacement", "apology"]),
            "already_done": st.lists(st.sampled_from(["fixed", "apologised", "refunded", "replaced"]), unique=True),
            "locale": st.sampled_from(["en", "id", "zh-CN", "lv", "de"]),
        })
        values = {name: (_fact_values(fact, edges.get(name, set())) if fact.type != "money" else money_in(currency))
                  for name, fact in ruleset.facts.items()}
        # Facts some failure type requires are always drawn (an event without them is refused anyway).
        needed = {name for name, fact in ruleset.facts.items() if fact.required_for}
        facts = st.fixed_dictionaries({name: values[name] for name in needed},
                                      optional={name: values[name] for name in values if name not in needed})
        order = st.one_of(st.none(), amount(currency))
        head = st.fixed_dictionaries({"failure": failure, "customer": customer, "context": context},
                                     **({"optional": {"facts": facts}} if not needed else {}))
        if needed:
            head = st.tuples(head, facts).map(lambda parts: {**parts[0], "facts": parts[1]})
        return st.tuples(head,
                         order, st.sampled_from([None, "0.25", "1"])).map(
            lambda parts: _with_order(parts[0], parts[1], parts[2], currency))

    return st.sampled_from(catalogues.currencies).flatmap(event_in).filter(lambda event: _valid(ruleset, event))


def _with_order(event: dict[str, Any], order: str | None, stake_share: str | None, currency: str) -> dict[str, Any]:
    """The event with an order (when drawn) and an amount at stake of a share of it (when drawn)."""
    if order is None:
        return event
    event = {**event, "order": {"amount": {"amount": order, "currency": currency}}}
    if stake_share is not None:
        stake = money.round_down(Decimal(order) * Decimal(stake_share), currency)
        event["failure"] = {**event["failure"], "amount_at_stake": {"amount": money.fmt(stake), "currency": currency}}
    return event


def _valid(ruleset: RulesetDef, event: dict[str, Any]) -> bool:
    """Generated events a ruleset accepts (facts it requires for a type, a stake without an order...)."""
    try:
        normalize(FailureEvent.model_validate(event), ruleset)
    except (ValueError, EventRejected):
        return False
    return True


def _money_given(body: dict[str, Any]) -> Decimal:
    mix = body["mix"]
    return sum((Decimal(mix[name]["amount"]) for name in ("refund", "credit") if mix[name]), Decimal(0))


def _owed(body: dict[str, Any], pay_as: str) -> Decimal:
    return sum((Decimal(line["amount"]["amount"]) for line in body["owed"] if line["pay_as"] == pay_as), Decimal(0))


def _changed(event: dict[str, Any], change: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    for path, value in change:
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _cost(snapshot: Snapshot, event: dict[str, Any]) -> Decimal | None:
    body = decide(snapshot, FailureEvent.model_validate(event))
    cost = body["estimated_cost"]
    return None if cost is None else Decimal(cost["amount"])


def _breaks(invariant: Invariant, snapshot: Snapshot) -> Callable[[dict[str, Any]], str | None]:
    """A function that says how an event breaks the invariant, or None."""
    ruleset = snapshot.ruleset

    def applies(event: dict[str, Any]) -> bool:
        if invariant.when is None:
            return True
        flat = normalize(FailureEvent.model_validate(event), ruleset)
        return conditions.holds(invariant.when, flat, ruleset.tier_rank)

    def check(event: dict[str, Any]) -> str | None:
        if not applies(event):
            return None
        kind = invariant.check
        if kind == "cost_monotonic_in_severity":
            severity = event["failure"]["severity"]
            if severity == 5:
                return None
            higher = copy.deepcopy(event)
            higher["failure"]["severity"] = severity + 1
            low, high = _cost(snapshot, event), _cost(snapshot, higher)
            if low is not None and high is not None and high < low:
                return f"severity {severity} costs {low}, severity {severity + 1} costs {high}"
            return None
        if kind == "cost_monotonic_in_tier":
            tiers = ruleset.catalogues.tiers
            tier = event["customer"]["tier"]
            if tier == tiers[-1]:
                return None
            higher = copy.deepcopy(event)
            higher["customer"]["tier"] = tiers[tiers.index(tier) + 1]
            low, high = _cost(snapshot, event), _cost(snapshot, higher)
            if low is not None and high is not None and high < low:
                return f"tier {tier} costs {low}, tier {higher['customer']['tier']} costs {high}"
            return None
        if kind == "never_less_money":
            changed = _changed(event, invariant.change)
            if changed == event or not _valid(ruleset, changed):
                return None
            before, after = (_money_given(decide(snapshot, FailureEvent.model_validate(item)))
                             for item in (event, changed))
            if after < before:
                what = ", ".join(f"{path}: {value}" for path, value in invariant.change)
                return f"money given falls from {before} to {after} with {what}"
            return None
        body = decide(snapshot, FailureEvent.model_validate(event))
        if kind == "no_money":
            given = [name for name in invariant.components if body["mix"][name] is not None]
            return f"the decision gives {', '.join(given)}" if given else None
        if kind == "no_goodwill":
            mix = body["mix"]
            given = [name for name in invariant.components
                     if mix.get(name) is not None and (name == "discount" or name == "replacement"
                                                      or Decimal(mix[name]["amount"]) > _owed(body, name))]
            return f"the decision gives goodwill in {', '.join(given)}" if given else None
        if kind == "owed_paid_in_full":
            mix = body["mix"]
            for name in ("refund", "credit"):
                paid = Decimal(mix[name]["amount"]) if mix[name] else Decimal(0)
                if paid < _owed(body, name):
                    return f"{name} {paid} is less than the {_owed(body, name)} owed"
            return None
        if kind == "no_double_remedy":
            stake = event["failure"].get("amount_at_stake") or (event.get("order") or {}).get("amount")
            if stake is None or Decimal(stake["amount"]) == 0:
                return None
            for option in [{"mix": body["mix"]}] + body["alternatives"]:
                mix = option["mix"]
                if mix["replacement"] and mix["refund"] and Decimal(mix["refund"]["amount"]) >= Decimal(stake["amount"]):
                    return f"an option gives {mix['replacement']['kind']} and a refund of {mix['refund']['amount']}"
            return None
        if kind == "justice_addressed":
            gaps = [name for name, dimension in body["justice"].items() if not dimension["addressed"]]
            return f"{', '.join(gaps)} not addressed: {body['justice'][gaps[0]].get('reason')}" if gaps else None
        return _beyond_caps(ruleset, event, body)

    return check


def _beyond_caps(ruleset: RulesetDef, event: dict[str, Any], body: dict[str, Any]) -> str | None:
    """Goodwill against its caps: what the mix pays minus what is owed."""
    limits = ruleset.limits
    mix = body["mix"]
    order = Decimal(event["order"]["amount"]["amount"]) if "order" in event else None
    refund = (Decimal(mix["refund"]["amount"]) if mix["refund"] else Decimal(0)) - _owed(body, "refund")
    credit = (Decimal(mix["credit"]["amount"]) if mix["credit"] else Decimal(0)) - _owed(body, "credit")
    replacement = mix.get("replacement") or {}
    value = Decimal(replacement["value"]["amount"]) if replacement.get("value") else Decimal(0)
    currency = body["estimated_cost"]["currency"] if body["estimated_cost"] else None
    if order is not None:
        if refund > order * limits.refund.max_percent_of_order / 100:
            return f"goodwill refund {refund} is above its cap for an order of {order}"
        if limits.credit.max_percent_of_order is not None and \
                credit > order * limits.credit.max_percent_of_order / 100:
            return f"credit {credit} is above {limits.credit.max_percent_of_order}% of the order {order}"
        if limits.total is not None and refund + credit + value > order * limits.total.max_percent_of_order / 100:
            return (f"goodwill refund + credit + replacement {refund + credit + value} is above "
                    f"{limits.total.max_percent_of_order}% of {order}")
    if limits.credit.max is not None and currency is not None and credit > limits.credit.max[currency]:
        return f"credit {credit} is above the fixed cap {limits.credit.max[currency]} {currency}"
    if mix["discount"] and mix["discount"]["percent"] > limits.discount.max_percent:
        return f"discount {mix['discount']['percent']}% is above {limits.discount.max_percent}%"
    return None


def _pins(when: Any) -> tuple[tuple[str, Any], ...]:
    """A `when`'s top-level equalities on facts and the failure type (`facts.passengers: 1`):
    generated events get them set, so a narrow invariant is checked on events it applies to rather
    than held vacuously. Only these: other built-in fields derive from each other (a category)."""
    if not isinstance(when, dict):
        return ()
    return tuple(sorted((field, value) for field, value in when.items()
                        if (field.startswith(facts_module.PREFIX) or field == "failure.type")
                        and isinstance(value, (str, int, bool))))


def _pinned(event: dict[str, Any], pins: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    out = _changed(event, pins)
    if any(path == "failure.type" for path, _ in pins):
        out["failure"].pop("category", None)  # the catalogue's category for the pinned type
    return out


def verify(invariant: Invariant, snapshot: Snapshot, examples: int = 300) -> Violation | None:
    """The smallest generated event that breaks the invariant, or None if none was found."""
    check = _breaks(invariant, snapshot)
    ruleset = snapshot.ruleset
    generated = events(ruleset)
    if invariant.pins:
        generated = generated.map(lambda event: _pinned(event, invariant.pins)) \
            .filter(lambda event: _valid(ruleset, event))
    config = settings(max_examples=examples, database=None, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.generate, Phase.shrink])
    try:
        event = find(generated, lambda candidate: check(candidate) is not None, settings=config)
    except NoSuchExample:
        return None
    except Unsatisfiable:
        return Violation(invariant, {}, "no valid event satisfies the invariant's `when` (facts a failure "
                         "type requires, bounds): it checks nothing")
    return Violation(invariant, event, check(event) or "")
